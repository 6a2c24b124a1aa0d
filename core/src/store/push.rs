//! Applying a planned push answer (`sync::push_plan`) to the store — dropping acknowledged
//! outbox entries, keeping refusals for `sync_status`, noting taken resolutions and audit —
//! and re-stamping the outbox after a clock-skew answer. Runs in the caller's transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use pocketbook_protocol::{RejectCode, Version};

use super::device::DeviceState;
use super::records::outbox;
use super::refused;
use super::versions;
use crate::error::{Error, Result};
use crate::sync::push_plan::PushOp;

/// Applies the planned operations of one push answer, in order; `now` stamps refusals.
pub(crate) fn apply(conn: &Connection, ops: &[PushOp], now: DateTime<Utc>) -> Result<()> {
    for op in ops {
        match op {
            PushOp::KeepRefusal {
                mutation,
                code,
                message,
            } => refused::keep(conn, mutation, code, message, None, now)?,
            PushOp::Hold {
                mutation,
                generation,
            } => refused::keep(
                conn,
                mutation,
                &RejectCode::ServerTooOld,
                "waiting for the server to be upgraded",
                Some(*generation),
                now,
            )?,
            PushOp::DropOutboxThrough(seq) => {
                // What the entries carry of the device's counters is saved before they go.
                DeviceState::load(conn)?.save(conn)?;
                conn.execute("DELETE FROM outbox WHERE seq <= ?1", [seq])?;
            }
            PushOp::Acknowledged(m) => refused::acknowledge(conn, m)?,
            PushOp::Revert {
                entity,
                record_id,
                refused_create,
            } => refused::revert(conn, entity, *record_id, *refused_create, now)?,
            PushOp::ReleaseHeld(generation) => {
                refused::release(conn, *generation)?;
            }
            PushOp::ResolutionTaken(id) => {
                conn.execute("UPDATE conflicts SET push_pending = 0 WHERE id = ?1", [id])?;
            }
            PushOp::AuditAckedThrough(seq) => {
                conn.execute(
                    "UPDATE sync_state SET audit_acked_seq = max(audit_acked_seq, ?1) WHERE id = 1",
                    [seq],
                )?;
            }
        }
    }
    refused::drop_settled(conn)
}

/// After `clock_skew`: sets the clock offset to the server's time, pulls the clock back to
/// it, and re-stamps every unacknowledged mutation (and the field versions it set) with new,
/// corrected versions, oldest first. Nothing is lost; the entries are resent.
pub(crate) fn restamp(conn: &Connection, server_time_ms: u64, now: DateTime<Utc>) -> Result<()> {
    let mut device = DeviceState::load(conn)?;
    device.clock_offset_ms =
        i64::try_from(server_time_ms).unwrap_or(i64::MAX) - now.timestamp_millis();
    let node = device.clock.node();
    let floor = pocketbook_protocol::Hlc {
        millis: server_time_ms.saturating_sub(1),
        counter: 0,
    };
    // Every reading above the server's time was handed out to an entry being re-stamped.
    device.clock = pocketbook_protocol::Clock::new(node, device.clock.last().min(floor));
    let mut renamed: BTreeMap<Version, Version> = BTreeMap::new();
    for m in outbox(conn)? {
        // A later entry based on an earlier re-stamped one must name its new version.
        let base: BTreeMap<String, Option<Version>> = m
            .base
            .iter()
            .map(|(f, v)| (f.clone(), v.map(|v| renamed.get(&v).copied().unwrap_or(v))))
            .collect();
        let fresh = device.tick_above(now, base.values().flatten().copied())?;
        renamed.insert(m.version, fresh);
        let base = serde_json::to_string(&base).map_err(|_| Error::Corrupt { what: "outbox" })?;
        conn.prepare_cached("UPDATE outbox SET version = ?2, base = ?3 WHERE seq = ?1")?
            .execute(params![m.seq, fresh.to_string(), base])?;
        let row: Option<(String, String)> = conn
            .prepare_cached("SELECT data, versions FROM records WHERE id = ?1")?
            .query_row([m.record_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((data, stored)) = row {
            let fields: Map<String, Value> =
                serde_json::from_str(&data).map_err(|_| Error::Corrupt { what: "record" })?;
            let mut map = versions::decode(&stored, fields.keys())?;
            for v in map.values_mut() {
                if *v == m.version {
                    *v = fresh;
                }
            }
            conn.prepare_cached("UPDATE records SET versions = ?2 WHERE id = ?1")?
                .execute(params![m.record_id.to_string(), versions::encode(&map)?])?;
        }
    }
    device.save(conn)
}
