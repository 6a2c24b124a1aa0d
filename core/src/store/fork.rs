//! A store that turned out to be a copy of another device's (issue 12, `409 device_forked`):
//! in one transaction it keeps what the server holds as sent, and becomes a new device for the
//! rest — a new id, its unacknowledged changes re-stamped with the new node (clock readings
//! and bases kept), renumbered from 1, its unacknowledged audit events re-chained under the
//! new id after a `forked_from` event naming the old one — and waits for the new id to be
//! enrolled. Also the acknowledged position every push names. Runs in the caller's
//! transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::wire::AckedPosition;
use pocketbook_protocol::{Clock, Mutation, Version, GENESIS_HASH};

use super::audit::{append, events, AuditDraft};
use super::device::DeviceState;
use super::records::outbox;
use super::reference::officer;
use super::refused;
use super::versions;
use crate::error::{Error, Result};
use crate::model::AuditOperation;

/// Refused changes keep their old numbers moved this far up, out of the new id's range, so a
/// later refusal of a renumbered change cannot overwrite one (numbers are only their names).
const REFUSED_OFFSET: i64 = 1 << 40;

/// The position this device names in a push: its last acknowledged mutation seq, audit seq
/// and the hash of that event (genesis at 0).
pub(crate) fn acked_position(conn: &Connection) -> Result<AckedPosition> {
    let row: Option<(i64, i64)> = conn
        .query_row(
            "SELECT acked_seq, audit_acked_seq FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, audit_seq) = row.unwrap_or((0, 0));
    let head: Option<String> = conn
        .query_row(
            "SELECT hash FROM audit_trail WHERE seq = ?1",
            [audit_seq],
            |r| r.get(0),
        )
        .optional()?;
    Ok(AckedPosition {
        seq: u64::try_from(seq).unwrap_or(0),
        audit_seq: u64::try_from(audit_seq).unwrap_or(0),
        audit_head: head.unwrap_or_else(|| GENESIS_HASH.to_string()),
    })
}

/// Notes the server's acknowledgement of every mutation through `seq` (never beyond what this
/// device has numbered).
pub(crate) fn note_acked(conn: &Connection, seq: u64) -> Result<()> {
    let numbered = DeviceState::load(conn)?.next_seq.saturating_sub(1);
    conn.execute(
        "UPDATE sync_state SET acked_seq = max(acked_seq, ?1) WHERE id = 1",
        [i64::try_from(seq.min(numbered)).unwrap_or(i64::MAX)],
    )?;
    Ok(())
}

/// `Err(DeviceForked)` while the store waits for its new id to be enrolled.
pub(crate) fn refuse_while_forked(conn: &Connection) -> Result<()> {
    let forked: Option<Option<String>> = conn
        .query_row("SELECT forked_from FROM sync_state WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    match forked.flatten() {
        Some(_) => Err(Error::DeviceForked),
        None => Ok(()),
    }
}

/// Makes this store a new device after `409 device_forked`: outbox entries at or below
/// `position.seq` are dropped and audit events at or below `position.audit_seq` count as
/// acknowledged (the server holds them under the old id); the rest is re-stamped under
/// `new_id`. The enrolment keeps its server but loses its token. Returns the old id.
pub(crate) fn become_new_device(
    conn: &Connection,
    position: &AckedPosition,
    new_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Uuid> {
    let mut device = DeviceState::load(conn)?;
    let old_id = device.device_id;
    // What the server holds as sent is acknowledged, as a push answer would have it.
    for m in outbox(conn)?.iter().filter(|m| m.seq <= position.seq) {
        refused::acknowledge(conn, m)?;
    }
    let held = i64::try_from(position.seq).unwrap_or(i64::MAX);
    conn.execute("DELETE FROM outbox WHERE seq <= ?1", [held])?;
    let renamed = restamp_outbox(conn, new_id)?;
    let mut renamed = renamed;
    restamp_held(conn, new_id, &mut renamed)?;
    restamp_records(conn, &renamed)?;
    // Above every number in use (earlier forks moved theirs up too).
    let top: i64 = conn.query_row("SELECT COALESCE(max(seq), 0) FROM rejected", [], |r| {
        r.get(0)
    })?;
    conn.execute(
        "UPDATE rejected SET seq = seq + ?2 WHERE seq < ?1",
        params![REFUSED_OFFSET, REFUSED_OFFSET.max(top.saturating_add(1))],
    )?;
    let pending = conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))?;
    device.next_seq = u64::try_from(pending).unwrap_or(0) + 1;
    device.device_id = new_id;
    device.clock = Clock::new(new_id, device.clock.last());
    rechain_audit(conn, &mut device, old_id, position.audit_seq, now)?;
    conn.execute(
        "UPDATE device SET device_id = ?1 WHERE id = 1",
        [new_id.to_string()],
    )?;
    device.save(conn)?;
    conn.execute(
        "UPDATE sync_state SET token = '', acked_seq = 0, audit_acked_seq = 0, forked_from = ?1
         WHERE id = 1",
        [old_id.to_string()],
    )?;
    Ok(old_id)
}

/// Renumbers the outbox from 1 and stamps each entry's version with `new_id` (same clock
/// reading); a base naming a version an earlier re-stamped entry made names its new one.
/// Returns old version → new version.
fn restamp_outbox(conn: &Connection, new_id: Uuid) -> Result<BTreeMap<Version, Version>> {
    let mut renamed = BTreeMap::new();
    for (next, m) in (1_u64..).zip(outbox(conn)?) {
        let fresh = Version {
            hlc: m.version.hlc,
            node: new_id,
        };
        renamed.insert(m.version, fresh);
        let base = rename_base(&m, &renamed)?;
        // Ascending: every entry's new number is at most its old one and above every moved one.
        conn.prepare_cached("UPDATE outbox SET seq = ?2, version = ?3, base = ?4 WHERE seq = ?1")?
            .execute(params![m.seq, next, fresh.to_string(), base])?;
    }
    Ok(renamed)
}

fn rename_base(m: &Mutation, renamed: &BTreeMap<Version, Version>) -> Result<String> {
    let base: BTreeMap<&String, Option<Version>> = m
        .base
        .iter()
        .map(|(f, v)| (f, v.map(|v| renamed.get(&v).copied().unwrap_or(v))))
        .collect();
    serde_json::to_string(&base).map_err(|_| Error::Corrupt { what: "outbox" })
}

/// Changes held for a newer server (`server_too_old`) are resent from the `rejected` table
/// once it is upgraded: they are re-stamped like the outbox.
fn restamp_held(
    conn: &Connection,
    new_id: Uuid,
    renamed: &mut BTreeMap<Version, Version>,
) -> Result<()> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare(
            "SELECT seq, mutation FROM rejected
             WHERE held_generation IS NOT NULL AND mutation IS NOT NULL ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let corrupt = || Error::Corrupt {
        what: "held change",
    };
    for (seq, text) in rows {
        let mut m: Mutation = serde_json::from_str(&text).map_err(|_| corrupt())?;
        let fresh = Version {
            hlc: m.version.hlc,
            node: new_id,
        };
        renamed.insert(m.version, fresh);
        m.version = fresh;
        for v in m.base.values_mut().flatten() {
            if let Some(new) = renamed.get(v) {
                *v = *new;
            }
        }
        let text = serde_json::to_string(&m).map_err(|_| corrupt())?;
        conn.execute(
            "UPDATE rejected SET mutation = ?2 WHERE seq = ?1",
            params![seq, text],
        )?;
    }
    Ok(())
}

/// Every field version of a local record that a re-stamped change made names its new version.
fn restamp_records(conn: &Connection, renamed: &BTreeMap<Version, Version>) -> Result<()> {
    if renamed.is_empty() {
        return Ok(());
    }
    let rows: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare("SELECT id, data, versions FROM records")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, data, stored) in rows {
        let fields: Map<String, Value> =
            serde_json::from_str(&data).map_err(|_| Error::Corrupt { what: "record" })?;
        let mut map = versions::decode(&stored, fields.keys())?;
        let mut changed = false;
        for v in map.values_mut() {
            if let Some(new) = renamed.get(v) {
                *v = *new;
                changed = true;
            }
        }
        if changed {
            conn.prepare_cached("UPDATE records SET versions = ?2 WHERE id = ?1")?
                .execute(params![id, versions::encode(&map)?])?;
        }
    }
    Ok(())
}

/// Keeps the events the server holds under the old id aside, and re-chains the rest under the
/// new id after a `forked_from` event naming the old id (their content and times kept).
fn rechain_audit(
    conn: &Connection,
    device: &mut DeviceState,
    old_id: Uuid,
    acked_through: u64,
    now: DateTime<Utc>,
) -> Result<()> {
    let all = events(conn)?;
    let corrupt = || Error::Corrupt {
        what: "audit event",
    };
    for e in all.iter().filter(|e| e.seq <= acked_through) {
        conn.execute(
            "INSERT OR REPLACE INTO audit_before_fork (device_id, seq, event) VALUES (?1, ?2, ?3)",
            params![
                e.device_id.to_string(),
                e.seq,
                serde_json::to_string(e).map_err(|_| corrupt())?
            ],
        )?;
    }
    conn.execute("DELETE FROM audit_events", [])?;
    // And those pending entries hold: each is chained again below, into `audit_events`.
    conn.execute(
        "UPDATE outbox SET event_seq = NULL, event_operation = NULL, event_officer_id = NULL,
                           event_device_id = NULL, event_at = NULL, event_prev_hash = NULL
         WHERE event_seq IS NOT NULL",
        [],
    )?;
    device.audit_seq = 0;
    device.audit_head = GENESIS_HASH.to_string();
    let officer_id = match officer(conn)? {
        Some(o) => o.id,
        None => all.last().map(|e| e.officer_id).ok_or(Error::NotEnrolled)?,
    };
    append(
        conn,
        device,
        AuditDraft {
            operation: AuditOperation::ForkedFrom,
            officer_id,
            entity: None,
            record_id: None,
            justification: Some(old_id.to_string()),
            recipient: None,
        },
        now,
    )?;
    for e in all.into_iter().filter(|e| e.seq > acked_through) {
        append(
            conn,
            device,
            AuditDraft {
                operation: e.operation,
                officer_id: e.officer_id,
                entity: e.entity,
                record_id: e.record_id,
                justification: e.justification,
                recipient: e.recipient,
            },
            e.at,
        )?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "fork_tests.rs"]
pub(super) mod tests;
