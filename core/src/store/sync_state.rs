//! The device's side of sync, in the store: the enrolment (server, token, lease), cursors,
//! and applying what the server answered — dropping acknowledged outbox entries, keeping
//! refusals, laying pulled snapshots down under still-pending edits, purging what left scope.
//! Each apply runs inside the caller's one transaction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::merge::{rebase, Conflict, RecordState};
use pocketbook_protocol::wire::{PullEntry, PullResponse, PushOutcome, PushResponse};
use pocketbook_protocol::{Entity, Marking, Mutation, Version};

use super::audit::time_text;
use super::device::DeviceState;
use super::records::{decode_fields, link_people, outbox, unlink_people};
use super::versions;
use crate::error::{Error, Result};
use crate::model::{Action, Addendum, Concern, Engagement, Record, Visit, YoungPerson};

/// What the device knows of its enrolment.
#[derive(Debug, Clone)]
pub(crate) struct Enrolled {
    pub server_url: String,
    pub token: String,
    pub server_id: Uuid,
    pub lease_seconds: u64,
    pub enrolled_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub epoch: Option<String>,
    pub audit_acked_seq: u64,
}

impl Enrolled {
    /// When the lease runs out: the last sync (or the enrolment) plus the lease.
    pub(crate) fn lease_expires_at(&self) -> DateTime<Utc> {
        let since = self
            .last_sync_at
            .map_or(self.enrolled_at, |t| t.max(self.enrolled_at));
        since + chrono::Duration::seconds(self.lease_seconds.min(i64::MAX as u64) as i64)
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Corrupt { what: "sync state" })
}

/// The enrolment, if the device is enrolled.
pub(crate) fn enrolled(conn: &Connection) -> Result<Option<Enrolled>> {
    let row = conn
        .prepare_cached(
            "SELECT server_url, token, server_id, lease_seconds, enrolled_at, last_sync_at, epoch,
                    audit_acked_seq FROM sync_state WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })
        .optional()?;
    let Some((server_url, token, server_id, lease, enrolled_at, last_sync, epoch, acked)) = row
    else {
        return Ok(None);
    };
    Ok(Some(Enrolled {
        server_url,
        token,
        server_id: Uuid::parse_str(&server_id)
            .map_err(|_| Error::Corrupt { what: "sync state" })?,
        lease_seconds: lease.max(0) as u64,
        enrolled_at: parse_time(&enrolled_at)?,
        last_sync_at: last_sync.as_deref().map(parse_time).transpose()?,
        epoch,
        audit_acked_seq: acked.max(0) as u64,
    }))
}

/// Records a (re-)enrolment: a new token for the same device; cursors and outbox are kept.
pub(crate) fn save_enrolment(
    conn: &Connection,
    server_url: &str,
    token: &str,
    server_id: Uuid,
    lease_seconds: u64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_state (id, server_url, token, server_id, lease_seconds, enrolled_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url,
             token = excluded.token, server_id = excluded.server_id,
             lease_seconds = excluded.lease_seconds, enrolled_at = excluded.enrolled_at",
        params![
            server_url,
            token,
            server_id.to_string(),
            lease_seconds as i64,
            Utc::now().to_rfc3339()
        ],
    )?;
    Ok(())
}

/// The cursor of every bucket held.
pub(crate) fn cursors(conn: &Connection) -> Result<BTreeMap<String, u64>> {
    let mut stmt = conn.prepare_cached("SELECT bucket, cursor FROM cursors")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.map(|r| {
        let (b, c) = r?;
        Ok((b, c.max(0) as u64))
    })
    .collect()
}

/// Applies a push answer: drops acknowledged entries, keeps refusals for `sync_status`,
/// remembers which audit events the server holds. Returns (applied, merged, rejected).
pub(crate) fn apply_push(
    conn: &Connection,
    sent: &[Mutation],
    response: &PushResponse,
) -> Result<(u64, u64, u64)> {
    let (mut applied, mut merged, mut rejected) = (0, 0, 0);
    for result in &response.results {
        match &result.outcome {
            PushOutcome::Applied => applied += 1,
            PushOutcome::Merged { .. } => merged += 1,
            PushOutcome::Rejected { code, message } => {
                rejected += 1;
                if let Some(m) = sent.iter().find(|m| m.seq == result.seq) {
                    conn.prepare_cached(
                        "INSERT OR REPLACE INTO rejected (seq, entity, record_id, code, message, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![
                        m.seq as i64,
                        m.entity.as_str(),
                        m.record_id.to_string(),
                        code,
                        message,
                        Utc::now().to_rfc3339()
                    ])?;
                }
            }
        }
    }
    conn.execute(
        "DELETE FROM outbox WHERE seq <= ?1",
        [response.acked_seq as i64],
    )?;
    for id in &response.resolved {
        conn.execute("UPDATE conflicts SET push_pending = 0 WHERE id = ?1", [id])?;
    }
    conn.execute(
        "UPDATE sync_state SET audit_acked_seq = max(audit_acked_seq, ?1) WHERE id = 1",
        [response.audit_acked_seq as i64],
    )?;
    Ok((applied, merged, rejected))
}

/// When a record happened and whom it concerns, read from its fields.
fn projection(
    entity: Entity,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<(DateTime<Utc>, Vec<Uuid>)> {
    fn of<T: Record>(id: Uuid, fields: Map<String, Value>) -> Result<(DateTime<Utc>, Vec<Uuid>)> {
        let record: T = decode_fields(&id.to_string(), fields)?;
        Ok((record.happened_at(), record.young_people()))
    }
    match entity {
        Entity::YoungPerson => of::<YoungPerson>(id, fields).map(|(t, _)| (t, Vec::new())),
        Entity::Visit => of::<Visit>(id, fields),
        Entity::Concern => of::<Concern>(id, fields),
        Entity::Addendum => of::<Addendum>(id, fields),
        Entity::Action => of::<Action>(id, fields),
        Entity::Engagement => of::<Engagement>(id, fields),
    }
}

fn text_field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

/// Writes a record's view (the server's state with pending edits on top). Takes the view:
/// its fields are serialised once and then decoded into the record they describe (which checks
/// their shape and gives the chronology time and people) without copying them.
fn write_view(conn: &Connection, entity: Entity, id: Uuid, view: RecordState) -> Result<()> {
    let corrupt = || Error::Corrupt {
        what: "pulled record",
    };
    let team = text_field(&view.fields, "team_id")
        .ok_or_else(corrupt)?
        .to_string();
    let marking: Marking = text_field(&view.fields, "marking")
        .ok_or_else(corrupt)?
        .parse()
        .map_err(|_| corrupt())?;
    let data = serde_json::to_string(&view.fields).map_err(|_| corrupt())?;
    let versions = versions::encode(&view.versions)?;
    let (happened_at, people) = if view.deleted {
        let created = text_field(&view.fields, "created_at").ok_or_else(corrupt)?;
        (parse_time(created)?, Vec::new())
    } else {
        projection(entity, id, view.fields)?
    };
    conn.prepare_cached(
        "INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data, versions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id, marking = excluded.marking,
             happened_at = excluded.happened_at, deleted = excluded.deleted,
             data = excluded.data, versions = excluded.versions",
    )?
    .execute(params![
        id.to_string(),
        entity.as_str(),
        team,
        marking.as_str(),
        time_text(happened_at),
        view.deleted,
        data,
        versions
    ])?;
    unlink_people(conn, id)?;
    link_people(conn, id, &people)?;
    Ok(())
}

/// Forgets a record that left scope, unless an edit to it is still pending.
fn forget(conn: &Connection, id: Uuid, pending: &BTreeSet<Uuid>) -> Result<()> {
    let left: i64 = conn
        .prepare_cached("SELECT count(*) FROM record_buckets WHERE record_id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))?;
    if left == 0 && !pending.contains(&id) {
        conn.execute("DELETE FROM records WHERE id = ?1", [id.to_string()])?;
        conn.execute(
            "DELETE FROM conflicts WHERE record_id = ?1",
            [id.to_string()],
        )?;
        unlink_people(conn, id)?;
    }
    Ok(())
}

/// What one pull page changed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Pulled {
    pub snapshots: u64,
    pub removed: u64,
    pub conflicts: u64,
}

/// Applies one pull page: snapshots under pending edits, removals, conflicts, dropped
/// buckets, cursors and epoch — in the caller's one transaction.
pub(crate) fn apply_pull(conn: &Connection, page: PullResponse) -> Result<Pulled> {
    let pending_all = outbox(conn)?;
    let pending_ids: BTreeSet<Uuid> = pending_all.iter().map(|m| m.record_id).collect();
    let mut device = DeviceState::load(conn)?;
    let mut newest: Option<Version> = None;
    let mut pulled = Pulled::default();
    let held: BTreeSet<String> = page.buckets.iter().cloned().collect();
    // Buckets no longer held: forget their records (pending edits keep theirs).
    let dropped: Vec<String> = cursors(conn)?
        .into_keys()
        .filter(|b| !held.contains(b))
        .collect();
    for bucket in &dropped {
        let ids: Vec<String> = {
            let mut stmt =
                conn.prepare("SELECT record_id FROM record_buckets WHERE bucket = ?1")?;
            let rows = stmt.query_map([bucket], |r| r.get::<_, String>(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        conn.execute("DELETE FROM record_buckets WHERE bucket = ?1", [bucket])?;
        conn.execute("DELETE FROM cursors WHERE bucket = ?1", [bucket])?;
        for id in ids {
            if let Ok(id) = Uuid::parse_str(&id) {
                forget(conn, id, &pending_ids)?;
                pulled.removed += 1;
            }
        }
    }
    for entry in page.entries {
        match entry {
            PullEntry::Snapshot {
                bucket,
                entity,
                id,
                fields,
                versions,
                deleted,
            } => {
                for v in versions.values() {
                    newest = newest.max(Some(*v));
                }
                let server = RecordState {
                    fields,
                    versions,
                    deleted,
                };
                // Still-pending edits of this record are laid over what the server holds.
                let view = if pending_ids.contains(&id) {
                    let mine = pending_all.iter().filter(|m| m.record_id == id);
                    rebase(Some(&server), mine).unwrap_or(server)
                } else {
                    server
                };
                write_view(conn, entity, id, view)?;
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO record_buckets (record_id, bucket) VALUES (?1, ?2)",
                )?
                .execute(params![id.to_string(), bucket])?;
                if deleted {
                    conn.execute(
                        "DELETE FROM conflicts WHERE record_id = ?1",
                        [id.to_string()],
                    )?;
                }
                pulled.snapshots += 1;
            }
            PullEntry::Remove { bucket, id, .. } => {
                conn.execute(
                    "DELETE FROM record_buckets WHERE record_id = ?1 AND bucket = ?2",
                    params![id.to_string(), bucket],
                )?;
                forget(conn, id, &pending_ids)?;
                pulled.removed += 1;
            }
            PullEntry::Conflict {
                conflict, resolved, ..
            } => {
                save_conflict(conn, &conflict, resolved)?;
                pulled.conflicts += 1;
            }
        }
    }
    for (bucket, cursor) in &page.cursors {
        conn.prepare_cached(
            "INSERT INTO cursors (bucket, cursor) VALUES (?1, ?2)
             ON CONFLICT (bucket) DO UPDATE SET cursor = excluded.cursor",
        )?
        .execute(params![bucket, *cursor as i64])?;
    }
    conn.execute(
        "UPDATE sync_state SET epoch = ?1 WHERE id = 1",
        [&page.epoch],
    )?;
    if let Some(v) = newest {
        // Versions the server vouched for: later local edits must sort after them.
        device.clock.merge(v.hlc);
        device.save(conn)?;
    }
    Ok(pulled)
}

fn save_conflict(conn: &Connection, conflict: &Conflict, resolved: bool) -> Result<()> {
    let data = serde_json::to_string(conflict).map_err(|_| Error::Corrupt { what: "conflict" })?;
    conn.prepare_cached(
        "INSERT INTO conflicts (id, record_id, data, resolved) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET resolved = max(resolved, excluded.resolved)",
    )?
    .execute(params![
        conflict.id,
        conflict.record_id.to_string(),
        data,
        resolved
    ])?;
    Ok(())
}

/// Unresolved conflicts.
pub(crate) fn open_conflicts(conn: &Connection) -> Result<Vec<Conflict>> {
    let mut stmt = conn.prepare("SELECT data FROM conflicts WHERE resolved = 0 ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| serde_json::from_str(&r?).map_err(|_| Error::Corrupt { what: "conflict" }))
        .collect()
}

/// Marks a conflict resolved on this device, to be told to the server at the next push.
pub(crate) fn mark_resolved(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE conflicts SET resolved = 1, push_pending = 1 WHERE id = ?1 AND resolved = 0",
        [id],
    )? > 0)
}

/// Resolutions not yet taken by the server.
pub(crate) fn resolutions_to_push(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM conflicts WHERE push_pending = 1 ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// One refused mutation, as `sync_status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectedChange {
    /// Its sequence number on this device.
    pub seq: u64,
    /// The kind of record.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// The server's code.
    pub code: String,
    /// The server's reason.
    pub message: String,
    /// When it was refused.
    pub at: String,
}

/// Every refused mutation.
pub(crate) fn rejected(conn: &Connection) -> Result<Vec<RejectedChange>> {
    let mut stmt = conn
        .prepare("SELECT seq, entity, record_id, code, message, at FROM rejected ORDER BY seq")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    rows.map(|r| {
        let (seq, entity, record_id, code, message, at) = r?;
        Ok(RejectedChange {
            seq: seq.max(0) as u64,
            entity,
            record_id: Uuid::parse_str(&record_id)
                .map_err(|_| Error::Corrupt { what: "rejected" })?,
            code,
            message,
            at,
        })
    })
    .collect()
}

/// After `clock_skew`: sets the clock offset to the server's time, pulls the clock back to
/// it, and re-stamps every unacknowledged mutation (and the field versions it set) with new,
/// corrected versions, oldest first. Nothing is lost; the entries are resent.
pub(crate) fn restamp(conn: &Connection, server_time_ms: u64, now: DateTime<Utc>) -> Result<()> {
    let mut device = DeviceState::load(conn)?;
    device.clock_offset_ms = server_time_ms as i64 - now.timestamp_millis();
    let node = device.clock.node();
    let floor = pocketbook_protocol::Hlc {
        millis: server_time_ms.saturating_sub(1),
        counter: 0,
    };
    // Every reading above the server's time was handed out to an entry being re-stamped.
    device.clock = pocketbook_protocol::Clock::new(node, device.clock.last().min(floor));
    let mut renamed: BTreeMap<Version, Version> = BTreeMap::new();
    for m in outbox(conn)? {
        let fresh = device.tick(now)?;
        renamed.insert(m.version, fresh);
        // A later entry based on an earlier re-stamped one must name its new version.
        let base: BTreeMap<String, Option<Version>> = m
            .base
            .iter()
            .map(|(f, v)| (f.clone(), v.map(|v| renamed.get(&v).copied().unwrap_or(v))))
            .collect();
        let base = serde_json::to_string(&base).map_err(|_| Error::Corrupt { what: "outbox" })?;
        conn.prepare_cached("UPDATE outbox SET version = ?2, base = ?3 WHERE seq = ?1")?
            .execute(params![m.seq as i64, fresh.to_string(), base])?;
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

/// Adds a trusted certificate authority (PEM).
pub(crate) fn trust(conn: &Connection, pem: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO trusted_certificates (pem) VALUES (?1)",
        [pem.trim()],
    )?;
    Ok(())
}

/// The trusted certificate authorities (PEM).
pub(crate) fn trusted(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT pem FROM trusted_certificates ORDER BY pem")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Notes a finished sync.
pub(crate) fn mark_synced(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE sync_state SET last_sync_at = ?1 WHERE id = 1",
        [Utc::now().to_rfc3339()],
    )?;
    Ok(())
}
