//! Reference data as the server stores it — teams, officers and establishments — and the
//! bundle of it an officer's device is given at enrolment and on request in a pull. Runs
//! inside the caller's transaction.
//!
//! An establishment is stored as its wire document (`Establishment` as JSON) with, when it came
//! from a GIAS import, its GIAS status beside the wire fields in the same document: the status
//! decides whether devices are offered the establishment, and keeping it in the document needs
//! no schema change. Documents stored without a status (added by hand, or imported before the
//! status was kept) count as open unless `closed`.

use std::collections::{BTreeMap, BTreeSet};

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::{Establishment, Officer, Provisioning, Team};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::decode::{all_json, corrupt, parse_id};
use super::meta::audit;
use super::sql::{args, Db};
use crate::error::StoreError;
use crate::gias::EstablishmentStatus;
use crate::scope;

/// An establishment as stored: the wire document, and its GIAS status if it has one.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredEstablishment {
    #[serde(flatten)]
    establishment: Establishment,
    /// Absent for establishments added by hand or imported before statuses were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gias_status: Option<EstablishmentStatus>,
}

impl StoredEstablishment {
    /// Whether devices are offered it as a choice.
    fn offered(&self) -> bool {
        self.gias_status
            .unwrap_or_else(|| EstablishmentStatus::of(&self.establishment))
            .offered()
            && !self.establishment.closed
    }
}

/// One officer.
pub fn officer(db: &mut dyn Db, id: Uuid) -> Result<Option<Officer>, StoreError> {
    db.query_opt(
        "SELECT data FROM officers WHERE id = ?1",
        args![id.to_string()],
    )?
    .map(|row| serde_json::from_str(&row.text(0)?).map_err(corrupt("officer")))
    .transpose()
}

/// Every team, by name.
pub fn teams(db: &mut dyn Db) -> Result<Vec<Team>, StoreError> {
    db.query("SELECT id, name FROM teams ORDER BY name", &[])?
        .iter()
        .map(|row| {
            Ok(Team {
                id: parse_id(&row.text(0)?)?,
                name: row.text(1)?,
            })
        })
        .collect()
}

/// Every team id, by team name.
pub fn team_ids(db: &mut dyn Db) -> Result<Vec<Uuid>, StoreError> {
    Ok(teams(db)?.into_iter().map(|t| t.id).collect())
}

/// Every establishment, by URN, as the wire knows it (closed and not yet open ones included).
pub fn establishments(db: &mut dyn Db) -> Result<Vec<Establishment>, StoreError> {
    Ok(stored_establishments(db)?
        .into_iter()
        .map(|s| s.establishment)
        .collect())
}

fn stored_establishments(db: &mut dyn Db) -> Result<Vec<StoredEstablishment>, StoreError> {
    all_json(
        db,
        "SELECT data FROM establishments ORDER BY urn",
        "establishment",
    )
}

/// Inserts or updates establishments by URN, each with its GIAS status if it has one (an
/// establishment put without one is open unless `closed`); an update keeps the stored id.
/// Returns (added, updated).
pub fn put_establishments(
    db: &mut dyn Db,
    sources: &dyn Sources,
    list: &[(Establishment, Option<EstablishmentStatus>)],
) -> Result<(usize, usize), StoreError> {
    let (mut added, mut updated) = (0, 0);
    for (e, status) in list {
        let mut stored = StoredEstablishment {
            establishment: e.clone(),
            gias_status: *status,
        };
        let existing = db.query_opt(
            "SELECT id FROM establishments WHERE urn = ?1",
            args![&e.urn],
        )?;
        match existing {
            Some(row) => {
                stored.establishment.id = parse_id(&row.text(0)?)?;
                updated += 1;
            }
            None => added += 1,
        }
        db.execute(
            "INSERT INTO establishments (urn, id, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (urn) DO UPDATE SET data = excluded.data",
            args![
                &e.urn,
                stored.establishment.id.to_string(),
                serde_json::to_string(&stored).map_err(corrupt("establishment"))?
            ],
        )?;
    }
    audit(
        db,
        sources,
        "admin_put_establishments",
        None,
        None,
        json!({ "added": added, "updated": updated }),
    )?;
    Ok((added, updated))
}

/// The reference data an officer's device holds: their teams, those teams' officers and the
/// establishments offered as choices — those GIAS lists as open (`Open`, or `Open, but proposed
/// to close`). Establishments GIAS lists as `Proposed to open` are kept on the server but not
/// offered yet. Closed establishments are kept (records naming them still resolve on the
/// server) and, as before statuses were kept, never sent: devices have always been sent open
/// establishments only, so none is sent with `closed: true`.
pub fn provisioning_for(db: &mut dyn Db, me: &Officer) -> Result<Provisioning, StoreError> {
    // A force-wide role sees every team; anyone else only their own, read by id and by team so
    // a sync costs the officer's teams, not the force (issue 13).
    let force_wide = scope::force_wide(me.role);
    let teams = if force_wide {
        teams(db)?
    } else {
        teams_by_id(db, &me.team_ids)?
    };
    let visible: BTreeSet<Uuid> = if force_wide {
        teams.iter().map(|t| t.id).collect()
    } else {
        me.team_ids.iter().copied().collect()
    };
    let mut officers: Vec<Officer> = if force_wide {
        all_json::<Officer>(db, "SELECT data FROM officers", "officer")?
    } else {
        officers_of(db, &visible)?
    };
    officers.retain(|o| o.team_ids.iter().any(|t| visible.contains(t)));
    for o in &mut officers {
        o.team_ids.retain(|t| visible.contains(t));
    }
    officers.sort_by_key(|o| o.id);
    let establishments = stored_establishments(db)?
        .into_iter()
        .filter(StoredEstablishment::offered)
        .map(|s| s.establishment)
        .collect();
    Ok(Provisioning {
        officer: me.clone(),
        teams,
        officers,
        establishments,
    })
}

/// The teams of `ids` that exist, by name.
fn teams_by_id(db: &mut dyn Db, ids: &[Uuid]) -> Result<Vec<Team>, StoreError> {
    let mut out = Vec::new();
    for id in ids.iter().collect::<BTreeSet<_>>() {
        if let Some(row) = db.query_opt(
            "SELECT id, name FROM teams WHERE id = ?1",
            args![id.to_string()],
        )? {
            out.push(Team {
                id: parse_id(&row.text(0)?)?,
                name: row.text(1)?,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Every officer belonging to any of `teams`, once each.
fn officers_of(db: &mut dyn Db, teams: &BTreeSet<Uuid>) -> Result<Vec<Officer>, StoreError> {
    let mut by_id = BTreeMap::new();
    for team in teams {
        let rows = db.query(
            "SELECT o.data FROM officer_teams t JOIN officers o ON o.id = t.officer_id
             WHERE t.team_id = ?1",
            args![team.to_string()],
        )?;
        for row in &rows {
            let o: Officer = serde_json::from_str(&row.text(0)?).map_err(corrupt("officer"))?;
            by_id.insert(o.id, o);
        }
    }
    Ok(by_id.into_values().collect())
}

/// Keeps `officer_teams` (each officer's current teams, by which reference data is read) in
/// step with the officer's document: call it beside every write of one.
pub fn set_officer_teams(db: &mut dyn Db, officer: &Officer) -> Result<(), StoreError> {
    db.execute(
        "DELETE FROM officer_teams WHERE officer_id = ?1",
        args![officer.id.to_string()],
    )?;
    for team in officer.team_ids.iter().collect::<BTreeSet<_>>() {
        db.execute(
            "INSERT INTO officer_teams (officer_id, team_id) VALUES (?1, ?2)",
            args![officer.id.to_string(), team.to_string()],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use pocketbook_protocol::EstablishmentKind;

    use super::*;

    fn school(closed: bool) -> Establishment {
        Establishment {
            id: Uuid::from_u128(1),
            urn: "100001".into(),
            name: "Northfield Academy".into(),
            kind: EstablishmentKind::Secondary,
            ward: None,
            dsl_contact: None,
            dedicated_officer: None,
            priority: 1,
            closed,
        }
    }

    #[test]
    fn an_establishment_put_without_a_status_is_stored_as_its_wire_document() {
        let stored = StoredEstablishment {
            establishment: school(false),
            gias_status: None,
        };
        assert_eq!(
            serde_json::to_string(&stored).ok(),
            serde_json::to_string(&school(false)).ok()
        );
    }

    #[test]
    fn only_open_establishments_are_offered() {
        use EstablishmentStatus::*;
        let offered = |closed, status| {
            StoredEstablishment {
                establishment: school(closed),
                gias_status: status,
            }
            .offered()
        };
        assert!(offered(false, None));
        assert!(!offered(true, None));
        assert!(offered(false, Some(Open)));
        assert!(offered(false, Some(OpenProposedToClose)));
        assert!(!offered(false, Some(ProposedToOpen)));
        assert!(!offered(true, Some(Closed)));
    }

    #[test]
    fn a_stored_status_survives_a_round_trip_and_is_dropped_on_the_wire() {
        let stored = StoredEstablishment {
            establishment: school(false),
            gias_status: Some(EstablishmentStatus::ProposedToOpen),
        };
        let text = serde_json::to_string(&stored).unwrap_or_default();
        let back: StoredEstablishment =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.gias_status, Some(EstablishmentStatus::ProposedToOpen));
        let wire: Establishment = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(wire, school(false));
    }
}
