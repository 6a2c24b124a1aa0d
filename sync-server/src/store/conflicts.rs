//! Resolving a conflict, by a device in a push or by an admin: marking it resolved and telling
//! every bucket of its record, so devices learn at their next pull; and erasing a record's
//! open conflicts when it is deleted. Runs inside the caller's transaction.

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::PullEntryKind;
use serde_json::json;
use uuid::Uuid;

use super::decode::{corrupt, parse_id};
use super::meta::audit;
use super::record_rows::{load_record, put_entry};
use super::sql::{args, Db};
use super::Device;
use crate::error::StoreError;
use pocketbook_protocol::merge::Conflict;

/// Marks every open conflict of `record_id` resolved (the record was deleted) and tells each of
/// `buckets` at change `seq`.
pub fn erase_open_conflicts(
    db: &mut dyn Db,
    record_id: &str,
    entity: &pocketbook_protocol::Entity,
    buckets: &[String],
    seq: i64,
) -> Result<(), StoreError> {
    let ids: Vec<String> = db
        .query(
            "SELECT id FROM conflicts WHERE record_id = ?1 AND resolved = FALSE",
            args![record_id],
        )?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    db.execute(
        "UPDATE conflicts SET resolved = TRUE WHERE record_id = ?1",
        args![record_id],
    )?;
    for cid in ids {
        for b in buckets {
            put_entry(db, b, &cid, PullEntryKind::Conflict, entity, seq)?;
        }
    }
    Ok(())
}

/// The record a conflict belongs to.
pub fn conflict_record(db: &mut dyn Db, id: &str) -> Result<Option<Uuid>, StoreError> {
    db.query_opt("SELECT record_id FROM conflicts WHERE id = ?1", args![id])?
        .map(|row| parse_id(&row.text(0)?))
        .transpose()
}

/// Marks an open conflict resolved and tells every bucket of its record; `by` is the device
/// that resolved it (`None`: an admin). False if it was not open.
pub fn mark_conflict_resolved(
    db: &mut dyn Db,
    sources: &dyn Sources,
    id: &str,
    by: Option<&Device>,
) -> Result<bool, StoreError> {
    db.serialize_writers()?;
    let n = db.execute(
        "UPDATE conflicts SET resolved = TRUE WHERE id = ?1 AND resolved = FALSE",
        args![id],
    )?;
    if n == 0 {
        return Ok(false);
    }
    let Some(record_id) = conflict_record(db, id)? else {
        return Ok(false);
    };
    if let Some(cur) = load_record(db, record_id)? {
        let seq = db.next_seq()?;
        for b in super::cascade::buckets_of(db, &cur)? {
            put_entry(db, &b, id, PullEntryKind::Conflict, &cur.facts.entity, seq)?;
        }
    }
    audit(
        db,
        sources,
        "resolve_conflict",
        by.map(|d| d.officer.id),
        by.map(|d| d.device_id),
        json!({ "conflict_id": id, "record_id": record_id }),
    )?;
    Ok(true)
}

/// An open conflict's record and the device whose value lost (its losing version's node).
/// `None`: no such open conflict.
pub fn conflict_loser(db: &mut dyn Db, id: &str) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    let Some(row) = db.query_opt(
        "SELECT record_id, data FROM conflicts WHERE id = ?1 AND resolved = FALSE",
        args![id],
    )?
    else {
        return Ok(None);
    };
    let record_id = parse_id(&row.text(0)?)?;
    let conflict: Conflict = serde_json::from_str(&row.text(1)?).map_err(corrupt("conflict"))?;
    Ok(Some((record_id, conflict.losing_version.node)))
}

/// The officer a device is enrolled for (`None`: a node no device of this server has).
pub fn device_officer(db: &mut dyn Db, device_id: Uuid) -> Result<Option<Uuid>, StoreError> {
    db.query_opt(
        "SELECT officer_id FROM devices WHERE device_id = ?1",
        args![device_id.to_string()],
    )?
    .map(|row| parse_id(&row.text(0)?))
    .transpose()
}
