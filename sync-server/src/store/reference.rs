//! Reference data as the server stores it — teams, officers and establishments — and the
//! bundle of it an officer's device is given at enrolment and on request in a pull. Runs
//! inside the caller's transaction.

use std::collections::BTreeSet;

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::{Establishment, Officer, Provisioning, Team};
use serde_json::json;
use uuid::Uuid;

use super::decode::{all_json, corrupt, parse_id};
use super::meta::audit;
use super::sql::{args, Db};
use crate::error::StoreError;
use crate::scope;

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

/// Every establishment, by URN, closed ones included.
pub fn establishments(db: &mut dyn Db) -> Result<Vec<Establishment>, StoreError> {
    all_json(
        db,
        "SELECT data FROM establishments ORDER BY urn",
        "establishment",
    )
}

/// Inserts or updates establishments by URN; an update keeps the stored id. Returns (added,
/// updated).
pub fn put_establishments(
    db: &mut dyn Db,
    sources: &dyn Sources,
    list: &[Establishment],
) -> Result<(usize, usize), StoreError> {
    let (mut added, mut updated) = (0, 0);
    for e in list {
        let mut e = e.clone();
        let existing = db.query_opt(
            "SELECT id FROM establishments WHERE urn = ?1",
            args![&e.urn],
        )?;
        match existing {
            Some(row) => {
                e.id = parse_id(&row.text(0)?)?;
                updated += 1;
            }
            None => added += 1,
        }
        db.execute(
            "INSERT INTO establishments (urn, id, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (urn) DO UPDATE SET data = excluded.data",
            args![
                &e.urn,
                e.id.to_string(),
                serde_json::to_string(&e).map_err(corrupt("establishment"))?
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
/// open establishments.
pub fn provisioning_for(db: &mut dyn Db, me: &Officer) -> Result<Provisioning, StoreError> {
    let all_teams = teams(db)?;
    let visible: BTreeSet<Uuid> = if scope::force_wide(me.role) {
        all_teams.iter().map(|t| t.id).collect()
    } else {
        me.team_ids.iter().copied().collect()
    };
    let officers: Vec<Officer> = all_json::<Officer>(db, "SELECT data FROM officers", "officer")?
        .into_iter()
        .filter(|o| o.team_ids.iter().any(|t| visible.contains(t)))
        .map(|mut o| {
            o.team_ids.retain(|t| visible.contains(t));
            o
        })
        .collect();
    let mut establishments = establishments(db)?;
    establishments.retain(|e| !e.closed);
    Ok(Provisioning {
        officer: me.clone(),
        teams: all_teams
            .into_iter()
            .filter(|t| visible.contains(&t.id))
            .collect(),
        officers,
        establishments,
    })
}
