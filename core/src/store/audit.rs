//! The device's audit trail: append-only events, each carrying the SHA-256 of the one before,
//! so a removed, reordered or edited event breaks the chain and `verify` says where.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Row};
use uuid::Uuid;

use pocketbook_protocol::Entity;

use pocketbook_protocol::audit::verify_chain;
use pocketbook_protocol::GENESIS_HASH;

use super::device::DeviceState;
use crate::error::{Error, Result};
use crate::model::{AuditEvent, AuditOperation};

/// What the caller says about an event; the chain fields are filled in by `append`.
#[derive(Debug, Clone)]
pub(crate) struct AuditDraft {
    pub operation: AuditOperation,
    pub officer_id: Uuid,
    pub entity: Option<Entity>,
    pub record_id: Option<Uuid>,
    pub justification: Option<String>,
    pub recipient: Option<String>,
}

pub(crate) use pocketbook_protocol::audit::time_text;

/// Appends an event to the chain inside the caller's transaction and advances `device`.
pub(crate) fn append(
    conn: &Connection,
    device: &mut DeviceState,
    draft: AuditDraft,
    at: DateTime<Utc>,
) -> Result<u64> {
    let event = stamp(device, draft, at);
    conn.prepare_cached(
        "INSERT INTO audit_events (seq, operation, officer_id, device_id, at, entity, record_id,
                                   justification, recipient, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        event.seq,
        op_name(event.operation),
        event.officer_id.to_string(),
        event.device_id.to_string(),
        time_text(event.at),
        event.entity.as_ref().map(Entity::as_str),
        event.record_id.map(|id| id.to_string()),
        event.justification,
        event.recipient,
        event.prev_hash,
        event.hash
    ])?;
    Ok(event.seq)
}

/// The next event of the chain, hashed, with `device` advanced past it; the caller stores it
/// in the same transaction (`append`, or a local write's outbox entry, which holds it).
pub(crate) fn stamp(device: &mut DeviceState, draft: AuditDraft, at: DateTime<Utc>) -> AuditEvent {
    let seq = device.audit_seq + 1;
    let mut event = AuditEvent {
        seq,
        operation: draft.operation,
        officer_id: draft.officer_id,
        device_id: device.device_id,
        at,
        entity: draft.entity,
        record_id: draft.record_id,
        justification: draft.justification,
        recipient: draft.recipient,
        prev_hash: device.audit_head.clone(),
        hash: String::new(),
    };
    event.hash = event.compute_hash();
    device.audit_seq = seq;
    device.audit_head = event.hash.clone();
    event
}

/// The name an operation is stored under.
pub(crate) fn op_name(op: AuditOperation) -> &'static str {
    match op {
        AuditOperation::Collect => "collect",
        AuditOperation::Alter => "alter",
        AuditOperation::Consult => "consult",
        AuditOperation::Disclose => "disclose",
        AuditOperation::Combine => "combine",
        AuditOperation::Erase => "erase",
        AuditOperation::ForkedFrom => "forked_from",
    }
}

fn op_from_name(name: &str) -> Option<AuditOperation> {
    [
        AuditOperation::Collect,
        AuditOperation::Alter,
        AuditOperation::Consult,
        AuditOperation::Disclose,
        AuditOperation::Combine,
        AuditOperation::Erase,
        AuditOperation::ForkedFrom,
    ]
    .into_iter()
    .find(|op| op_name(*op) == name)
}

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<Result<AuditEvent>> {
    let corrupt = || Error::Corrupt {
        what: "audit event",
    };
    let parse_id = |s: String| Uuid::parse_str(&s).map_err(|_| corrupt());
    let seq: i64 = r.get(0)?;
    let op: String = r.get(1)?;
    let officer: String = r.get(2)?;
    let device: String = r.get(3)?;
    let at: String = r.get(4)?;
    let entity: Option<String> = r.get(5)?;
    let record: Option<String> = r.get(6)?;
    let justification: Option<String> = r.get(7)?;
    let recipient: Option<String> = r.get(8)?;
    let prev_hash: String = r.get(9)?;
    let hash: String = r.get(10)?;
    Ok((|| {
        Ok(AuditEvent {
            seq: u64::try_from(seq).map_err(|_| corrupt())?,
            operation: op_from_name(&op).ok_or_else(corrupt)?,
            officer_id: parse_id(officer)?,
            device_id: parse_id(device)?,
            at: DateTime::parse_from_rfc3339(&at)
                .map_err(|_| corrupt())?
                .with_timezone(&Utc),
            entity: entity.as_deref().map(Entity::from_wire),
            record_id: record.map(parse_id).transpose()?,
            justification,
            recipient,
            prev_hash,
            hash,
        })
    })())
}

/// The whole chain: the events in `audit_events` and those local writes' outbox entries hold
/// (schema migration 19).
const SELECT_EVENTS: &str = "SELECT seq, operation, officer_id, device_id, at, entity, record_id,
                                    justification, recipient, prev_hash, hash FROM audit_trail";

/// Every event of this device, oldest first.
pub(crate) fn events(conn: &Connection) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(&format!("{SELECT_EVENTS} ORDER BY seq"))?;
    let rows = stmt.query_map([], event_from_row)?;
    rows.map(|row| row?).collect()
}

/// Up to `limit` events after `seq`, oldest first (what a push has not sent yet).
pub(crate) fn events_after(conn: &Connection, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT_EVENTS} WHERE seq > ?1 ORDER BY seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(
        rusqlite::params![
            i64::try_from(seq).unwrap_or(i64::MAX),
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        event_from_row,
    )?;
    rows.map(|row| row?).collect()
}

/// The events about one record, oldest first.
pub(crate) fn events_for(conn: &Connection, record_id: Uuid) -> Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT_EVENTS} WHERE record_id = ?1 ORDER BY seq"
    ))?;
    let rows = stmt.query_map([record_id.to_string()], event_from_row)?;
    rows.map(|row| row?).collect()
}

/// Checks the whole chain: numbering without gaps, each link to the previous hash, each hash
/// over its own fields, and the last event matching the head the device row remembers.
pub(crate) fn verify(conn: &Connection) -> Result<u64> {
    let device = DeviceState::load(conn)?;
    let (last, head) =
        verify_chain(&events(conn)?, 0, GENESIS_HASH).map_err(|e| Error::AuditChainBroken {
            seq: e.seq,
            reason: e.reason,
        })?;
    if last != device.audit_seq || head != device.audit_head {
        return Err(Error::AuditChainBroken {
            seq: last + 1,
            reason: "events after this point were removed",
        });
    }
    Ok(last)
}
