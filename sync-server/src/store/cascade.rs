//! Scope follows the record (DESIGN §5 "Buckets", issue 11): where a record lives decides who
//! may pull it, so when its marking or team changes — or its author leaves its team — every
//! bucket that held it gets a `remove` entry, every bucket that now holds it a snapshot, and its
//! conflicts go with it. A concern's addenda and linked actions follow the concern: they always
//! carry its team and marking, stamped by the server. Runs inside the caller's transaction.

use pocketbook_protocol::wire::PullEntryKind;
use pocketbook_protocol::{Entity, Hlc, Marking, Version};
use serde_json::Value;
use uuid::Uuid;

use super::clock::now_ms;
use super::decode::{corrupt, parse_id};
use super::meta::meta;
use super::record_rows::{load_record, put_entry, Current};
use super::reference::officer;
use super::restore_places;
use super::sql::{args, Db};
use crate::error::StoreError;
use crate::scope;
use pocketbook_protocol::sources::Sources;

/// The buckets a record of `team_id` under `marking`, written by `created_by`, lives in now
/// (the author's bucket only while the author belongs to the record's team).
pub fn record_buckets(
    db: &mut dyn Db,
    team_id: Uuid,
    marking: Marking,
    created_by: Uuid,
) -> Result<Vec<String>, StoreError> {
    let author_teams = officer(db, created_by)?
        .map(|o| o.team_ids)
        .unwrap_or_default();
    Ok(scope::buckets_of_record_for(
        team_id,
        marking,
        created_by,
        &author_teams,
    ))
}

/// The buckets a stored record lives in now.
pub fn buckets_of(db: &mut dyn Db, record: &Current) -> Result<Vec<String>, StoreError> {
    let f = &record.facts;
    record_buckets(db, f.team_id, f.marking, f.created_by)
}

/// Puts record `id` in exactly `buckets` at change `seq`: a snapshot entry in each, a `remove`
/// entry in every other bucket that held it (whose entries for its conflicts are dropped, so a
/// device pulling that bucket from 0 never sees them), and its conflicts' entries in each
/// bucket it newly enters.
pub fn place(
    db: &mut dyn Db,
    id: Uuid,
    entity: &Entity,
    buckets: &[String],
    seq: i64,
) -> Result<(), StoreError> {
    let item = id.to_string();
    let old: Vec<String> = db
        .query(
            "SELECT bucket FROM bucket_entries WHERE item = ?1 AND kind = 'snapshot'",
            args![&item],
        )?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    if old.len() == buckets.len() && old.iter().all(|b| buckets.contains(b)) {
        // The usual write: the record stays where it was.
        for b in buckets {
            put_entry(db, b, &item, PullEntryKind::Snapshot, entity, seq)?;
        }
        return Ok(());
    }
    let conflicts: Vec<String> = db
        .query(
            "SELECT id FROM conflicts WHERE record_id = ?1 ORDER BY id",
            args![&item],
        )?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    let left: Vec<&String> = old.iter().filter(|b| !buckets.contains(b)).collect();
    restore_places::note_left(db, id, &left)?;
    for b in left {
        put_entry(db, b, &item, PullEntryKind::Remove, entity, seq)?;
        for c in &conflicts {
            db.execute(
                "DELETE FROM bucket_entries WHERE bucket = ?1 AND item = ?2",
                args![b, c],
            )?;
        }
    }
    for b in buckets {
        put_entry(db, b, &item, PullEntryKind::Snapshot, entity, seq)?;
        if !old.contains(b) {
            for c in &conflicts {
                put_entry(db, b, c, PullEntryKind::Conflict, entity, seq)?;
            }
        }
    }
    Ok(())
}

/// A version the server stamps on a field it changes itself: after the field's current one,
/// at the server's clock, with the server's node.
fn server_version(now: u64, current: Option<&Version>, server: Uuid) -> Version {
    let hlc = match current {
        Some(v) if v.hlc.millis >= now => Hlc {
            millis: v.hlc.millis,
            counter: v.hlc.counter.saturating_add(1),
        },
        _ => Hlc {
            millis: now,
            counter: 0,
        },
    };
    Version { hlc, node: server }
}

/// Gives a concern's addendum or action the concern's team and marking (stamped with the
/// server's versions) and places it; records its parent. Nothing when it has none, or the
/// concern is not held.
fn follow(
    db: &mut dyn Db,
    sources: &dyn Sources,
    child: Current,
    child_id: Uuid,
    parent: (Uuid, Marking),
    seq: i64,
) -> Result<(), StoreError> {
    let (team_id, marking) = parent;
    let moved = child.facts.team_id != team_id || child.facts.marking != marking;
    if moved {
        let server = parse_id(&meta(db, "server_id")?)?;
        let now = u64::try_from(now_ms(sources)).unwrap_or(0);
        let mut state = child.state;
        for (field, value) in [
            ("team_id", Value::from(team_id.to_string())),
            ("marking", Value::from(marking.as_str())),
        ] {
            let version = server_version(now, state.versions.get(field), server);
            state.fields.insert(field.to_string(), value);
            state.versions.insert(field.to_string(), version);
        }
        db.execute(
            "UPDATE records SET team_id = ?2, marking = ?3, fields = ?4, versions = ?5
             WHERE id = ?1",
            args![
                child_id.to_string(),
                team_id.to_string(),
                marking.as_str(),
                Value::Object(state.fields).to_string(),
                serde_json::to_string(&state.versions).map_err(corrupt("versions"))?
            ],
        )?;
    }
    let buckets = record_buckets(db, team_id, marking, child.facts.created_by)?;
    place(db, child_id, &child.facts.entity, &buckets, seq)
}

/// After a record of kind `entity` was written at change `seq`: a concern carries its addenda
/// and linked actions (and their conflicts) to its own team and marking; an addendum or action
/// takes its concern's. The record itself must already be placed. Other kinds cost nothing.
pub fn after_write(
    db: &mut dyn Db,
    sources: &dyn Sources,
    id: Uuid,
    entity: &Entity,
    seq: i64,
) -> Result<(), StoreError> {
    if !matches!(entity, Entity::Concern | Entity::Addendum | Entity::Action) {
        return Ok(());
    }
    let Some(record) = load_record(db, id)? else {
        return Ok(());
    };
    match record.facts.entity {
        Entity::Concern => {
            let parent = (record.facts.team_id, record.facts.marking);
            let children: Vec<String> = db
                .query(
                    "SELECT id FROM records WHERE parent_id = ?1 ORDER BY id",
                    args![id.to_string()],
                )?
                .iter()
                .map(|row| row.text(0))
                .collect::<Result<_, _>>()?;
            for child_id in children {
                let child_id = parse_id(&child_id)?;
                if let Some(child) = load_record(db, child_id)? {
                    follow(db, sources, child, child_id, parent, seq)?;
                }
            }
        }
        Entity::Addendum | Entity::Action => {
            let parent_id = record
                .state
                .fields
                .get("concern_id")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok());
            db.execute(
                "UPDATE records SET parent_id = ?2 WHERE id = ?1",
                args![id.to_string(), parent_id.map(|p| p.to_string())],
            )?;
            let Some(parent_id) = parent_id else {
                return Ok(());
            };
            let Some(concern) = load_record(db, parent_id)? else {
                return Ok(());
            };
            if concern.facts.entity == Entity::Concern {
                let parent = (concern.facts.team_id, concern.facts.marking);
                follow(db, sources, record, id, parent, seq)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// After an officer's teams changed from `before` to `after`: their sensitive records of the
/// teams they left leave their author bucket, those of teams they (re)joined enter it.
pub fn author_teams_changed(
    db: &mut dyn Db,
    officer_id: Uuid,
    before: &[Uuid],
    after: &[Uuid],
) -> Result<(), StoreError> {
    let changed: Vec<Uuid> = before
        .iter()
        .filter(|t| !after.contains(t))
        .chain(after.iter().filter(|t| !before.contains(t)))
        .copied()
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let seq = db.next_seq()?;
    for team in changed {
        let ids: Vec<String> = db
            .query(
                "SELECT id FROM records WHERE created_by = ?1 AND team_id = ?2 AND marking = ?3
                 ORDER BY id",
                args![
                    officer_id.to_string(),
                    team.to_string(),
                    Marking::OfficialSensitive.as_str()
                ],
            )?
            .iter()
            .map(|row| row.text(0))
            .collect::<Result<_, _>>()?;
        for id in ids {
            let id = parse_id(&id)?;
            if let Some(record) = load_record(db, id)? {
                let buckets = buckets_of(db, &record)?;
                place(db, id, &record.facts.entity, &buckets, seq)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_version_comes_after_the_fields_own() {
        let server = Uuid::from_u128(9);
        let device = Uuid::from_u128(1);
        let ahead = Version {
            hlc: Hlc {
                millis: 5_000,
                counter: 3,
            },
            node: device,
        };
        let v = server_version(4_000, Some(&ahead), server);
        assert!(v > ahead);
        assert_eq!(v.node, server);
        let behind = Version {
            hlc: Hlc {
                millis: 1_000,
                counter: 7,
            },
            node: device,
        };
        let v = server_version(4_000, Some(&behind), server);
        assert_eq!(
            v.hlc,
            Hlc {
                millis: 4_000,
                counter: 0
            }
        );
        assert_eq!(server_version(4_000, None, server).hlc.millis, 4_000);
    }
}
