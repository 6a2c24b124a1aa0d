//! Applying one admin journal entry to a (restored) database, so that applying it again, or to
//! a database that already reflects it, changes nothing. Runs inside the caller's transaction,
//! which audits the replay; returns whether anything changed. A code or a token is only ever
//! handled as its hash.

use pocketbook_protocol::merge::DELETED_FIELD;
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::PullEntryKind;
use pocketbook_protocol::{Entity, Hlc, Marking, Officer, Version, GENESIS_HASH};
use serde_json::Value;
use uuid::Uuid;

use super::clock::{now_ms, now_text};
use super::decode::corrupt;
use super::record_rows::put_entry;
use super::reference::{officer, team_ids};
use super::sql::{args, Db, Param};
use super::{caps, cascade, erase};
use crate::error::StoreError;
use crate::journal::Action;

/// Applies `action` (journaled at `at`); whether it changed the database.
pub fn apply(
    db: &mut dyn Db,
    sources: &dyn Sources,
    at: &str,
    action: &Action,
) -> Result<bool, StoreError> {
    match action {
        Action::AddTeam { team_id, name } => add_team(db, *team_id, name),
        Action::AddOfficer { officer } => add_officer(db, officer),
        Action::UpdateOfficer { officer } => update_officer(db, officer),
        Action::IssueCode {
            code_hash,
            officer_id,
            expires_at_ms,
        } => Ok(db.execute(
            "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (code_hash) DO NOTHING",
            args![code_hash, officer_id.to_string(), *expires_at_ms],
        )? > 0),
        Action::Enrol { .. } => enrol(db, sources, at, action),
        Action::Revoke { device_id } => Ok(db.execute(
            "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
            args![device_id.to_string(), at],
        )? > 0),
        Action::LiftSuspension { device_id } => caps::lift(db, sources, *device_id),
        Action::Erase { record_id, .. } => erase_record(db, sources, *record_id, action),
        Action::PurgeReviewed { record_ids } => {
            let mut changed = false;
            for id in record_ids {
                changed |= db.execute(
                    "DELETE FROM retained WHERE record_id = ?1",
                    args![id.to_string()],
                )? > 0;
            }
            Ok(changed)
        }
    }
}

fn invalid(what: &str) -> StoreError {
    StoreError::Invalid(format!("a journal entry cannot be replayed: {what}"))
}

fn add_team(db: &mut dyn Db, id: Uuid, name: &str) -> Result<bool, StoreError> {
    if team_ids(db)?.contains(&id) {
        return Ok(false);
    }
    let taken = db.query_opt("SELECT id FROM teams WHERE name = ?1", args![name])?;
    if taken.is_some() {
        return Err(invalid("another team has its team's name"));
    }
    db.execute(
        "INSERT INTO teams (id, name) VALUES (?1, ?2)",
        args![id.to_string(), name],
    )?;
    Ok(true)
}

fn check_teams(db: &mut dyn Db, o: &Officer) -> Result<(), StoreError> {
    let known = team_ids(db)?;
    if o.team_ids.iter().any(|t| !known.contains(t)) {
        return Err(invalid("an officer's team is unknown"));
    }
    Ok(())
}

fn add_officer(db: &mut dyn Db, o: &Officer) -> Result<bool, StoreError> {
    if officer(db, o.id)?.is_some() {
        return Ok(false);
    }
    check_teams(db, o)?;
    db.execute(
        "INSERT INTO officers (id, data) VALUES (?1, ?2)",
        args![
            o.id.to_string(),
            serde_json::to_string(o).map_err(corrupt("officer"))?
        ],
    )?;
    super::reference::set_officer_teams(db, o)?;
    super::epoch::note_teams(db, o.id, &o.team_ids)?;
    Ok(true)
}

fn update_officer(db: &mut dyn Db, o: &Officer) -> Result<bool, StoreError> {
    let Some(before) = officer(db, o.id)? else {
        return Err(invalid("an updated officer is unknown"));
    };
    if before == *o {
        return Ok(false);
    }
    check_teams(db, o)?;
    db.execute(
        "UPDATE officers SET data = ?2 WHERE id = ?1",
        args![
            o.id.to_string(),
            serde_json::to_string(o).map_err(corrupt("officer"))?
        ],
    )?;
    super::reference::set_officer_teams(db, o)?;
    cascade::author_teams_changed(db, o.id, &before.team_ids, &o.team_ids)?;
    super::epoch::note_teams(db, o.id, &o.team_ids)?;
    Ok(true)
}

/// An enrolment or re-authentication: the code is used, the device holds the token.
fn enrol(
    db: &mut dyn Db,
    sources: &dyn Sources,
    at: &str,
    action: &Action,
) -> Result<bool, StoreError> {
    let Action::Enrol {
        device_id,
        officer_id,
        device_name,
        token_hash,
        code_hash,
        lease_until_ms,
    } = action
    else {
        return Ok(false);
    };
    let id = device_id.to_string();
    let mut changed = db.execute(
        "UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
        args![code_hash, now_ms(sources)],
    )? > 0;
    let held = db.query_opt(
        "SELECT token_hash, revoked_at FROM devices WHERE device_id = ?1",
        args![&id],
    )?;
    let lease = lease_until_ms.map_or(Param::Null, Param::Int);
    match held {
        // A revoked device stays revoked; one holding this token already reflects the entry.
        Some(row) if row.opt_text(1)?.is_some() || row.text(0)? == *token_hash => {}
        Some(row) => {
            db.execute(
                "INSERT INTO device_tokens (token_hash, device_id, retired_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (token_hash) DO NOTHING",
                args![row.text(0)?, &id, now_text(sources)],
            )?;
            db.execute(
                "UPDATE devices SET name = ?2, token_hash = ?3, lease_until = ?4
                 WHERE device_id = ?1",
                args![&id, device_name, token_hash, lease],
            )?;
            changed = true;
        }
        None => {
            db.execute(
                "INSERT INTO devices (device_id, officer_id, name, token_hash, enrolled_at,
                     audit_head, lease_until)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                args![
                    &id,
                    officer_id.to_string(),
                    device_name,
                    token_hash,
                    at,
                    GENESIS_HASH,
                    lease
                ],
            )?;
            // Enrolled after the backup: after a restore it reconciles like every device.
            if super::meta::restore_pending(db)?.is_some() {
                let epoch = super::meta::meta(db, "epoch")?;
                super::epoch::mark_reconciling(db, *device_id, &epoch)?;
            }
            changed = true;
        }
    }
    Ok(changed)
}

/// Erases a record the database holds (unless it is erased already), or leaves a minimal
/// tombstone for one it lacks (made after the backup), so no later copy brings it back.
fn erase_record(
    db: &mut dyn Db,
    sources: &dyn Sources,
    id: Uuid,
    action: &Action,
) -> Result<bool, StoreError> {
    let Action::Erase {
        entity,
        team_id,
        marking,
        created_by,
        reason,
        ..
    } = action
    else {
        return Ok(false);
    };
    if let Some(cur) = super::record_rows::load_record(db, id)? {
        let retained = db
            .query_opt(
                "SELECT 1 FROM retained WHERE record_id = ?1",
                args![id.to_string()],
            )?
            .is_some();
        let minimal = cur
            .state
            .fields
            .keys()
            .all(|k| pocketbook_protocol::merge::TOMBSTONE_FIELDS.contains(&k.as_str()));
        if cur.state.deleted && minimal && !retained {
            return Ok(false);
        }
        return erase::erase(db, sources, id, reason);
    }
    let entity = Entity::from_wire(entity);
    let marking: Marking = marking
        .parse()
        .map_err(|_| invalid("an erased record's marking is unknown"))?;
    let stamp = Version {
        hlc: Hlc {
            millis: super::decode::counter(now_ms(sources)),
            counter: 0,
        },
        node: Uuid::nil(),
    };
    let versions = std::collections::BTreeMap::from([(DELETED_FIELD.to_string(), stamp)]);
    db.execute(
        "INSERT INTO records (id, entity, team_id, marking, created_by, fields, versions, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, TRUE)",
        args![
            id.to_string(),
            entity.as_str(),
            team_id.to_string(),
            marking.as_str(),
            created_by.to_string(),
            Value::Object(serde_json::Map::new()).to_string(),
            serde_json::to_string(&versions).map_err(corrupt("versions"))?
        ],
    )?;
    let seq = db.next_seq()?;
    for b in cascade::record_buckets(db, *team_id, marking, *created_by)? {
        put_entry(
            db,
            &b,
            &id.to_string(),
            PullEntryKind::Snapshot,
            &entity,
            seq,
        )?;
    }
    Ok(true)
}
