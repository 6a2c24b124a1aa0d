//! What the device keeps of the changes the server would not take: refusals (content, code,
//! message) for the officer to correct and resubmit or discard, and mutations held after a
//! `server_too_old` until the server is upgraded. Also the acknowledged state of each record
//! with edits pending, which a refused edit falls back to. Runs in the caller's transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::merge::{rebase, RecordState};
use pocketbook_protocol::{Entity, Mutation, MutationKind, RejectCode};

use super::bulk_load::Links;
use super::device::DeviceState;
use super::pull::{write_state, Written};
use super::records::{insert_outbox, outbox, unlink_people, EntryFields};
use super::{unreadable, versions};
use crate::error::{Error, Result};

fn corrupt() -> Error {
    Error::Corrupt {
        what: "refused change",
    }
}

/// Keeps a refused mutation (`held_generation` set for one held after `server_too_old`).
pub(crate) fn keep(
    conn: &Connection,
    m: &Mutation,
    code: &RejectCode,
    message: &str,
    held_generation: Option<u32>,
    now: DateTime<Utc>,
) -> Result<()> {
    let mutation = serde_json::to_string(m).map_err(|_| corrupt())?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO rejected (seq, entity, record_id, code, message, at, mutation,
                                          held_generation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        m.seq,
        m.entity.as_str(),
        m.record_id.to_string(),
        code.as_str(),
        message,
        now.to_rfc3339(),
        mutation,
        held_generation
    ])?;
    Ok(())
}

/// The mutations held after `server_too_old`, oldest first.
pub(crate) fn held(conn: &Connection) -> Result<Vec<Mutation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT mutation FROM rejected WHERE held_generation IS NOT NULL AND mutation IS NOT NULL
         ORDER BY seq",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| serde_json::from_str(&r?).map_err(|_| corrupt()))
        .collect()
}

/// Every edit a record's view carries beyond the acknowledged state: the outbox and the held
/// mutations, in the order they were made.
pub(crate) fn pending_edits(conn: &Connection) -> Result<Vec<Mutation>> {
    let mut all = outbox(conn)?;
    all.extend(held(conn)?);
    all.sort_by_key(|m| m.version);
    Ok(all)
}

/// The refused mutation kept under `seq` (not a held one), or `None`.
pub(crate) fn refused(conn: &Connection, seq: u64) -> Result<Option<Mutation>> {
    let row: Option<Option<String>> = conn
        .prepare_cached("SELECT mutation FROM rejected WHERE seq = ?1 AND held_generation IS NULL")?
        .query_row([seq], |r| r.get(0))
        .optional()?;
    match row {
        None => Ok(None),
        // A refusal kept by an older build has no content to resubmit.
        Some(None) => Err(corrupt()),
        Some(Some(text)) => serde_json::from_str(&text).map(Some).map_err(|_| corrupt()),
    }
}

/// Forgets the refusal kept under `seq`; whether there was one.
pub(crate) fn forget(conn: &Connection, seq: u64) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM rejected WHERE seq = ?1 AND held_generation IS NULL")?
        .execute([seq])?
        > 0)
}

/// Moves every mutation held under a generation below `generation` back to the end of the
/// outbox with a new sequence number (keeping its version and bases), oldest first.
pub(crate) fn release(conn: &Connection, generation: u32) -> Result<u64> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT seq, mutation FROM rejected
             WHERE held_generation IS NOT NULL AND held_generation < ?1 AND mutation IS NOT NULL
             ORDER BY seq",
        )?;
        let rows = stmt.query_map([generation], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    if rows.is_empty() {
        return Ok(0);
    }
    let mut device = DeviceState::load(conn)?;
    let mut released = 0;
    for (old_seq, text) in rows {
        let mut m: Mutation = serde_json::from_str(&text).map_err(|_| corrupt())?;
        m.seq = device.next_seq;
        insert_outbox(conn, &m, None, EntryFields::InEntry)?;
        device.next_seq += 1;
        conn.prepare_cached("DELETE FROM rejected WHERE seq = ?1")?
            .execute([old_seq])?;
        released += 1;
    }
    device.save(conn)?;
    Ok(released)
}

/// The acknowledged state kept for a record with pending edits, or `None`.
pub(crate) fn acknowledged(conn: &Connection, id: Uuid) -> Result<Option<RecordState>> {
    let row: Option<(bool, String, String)> = conn
        .prepare_cached("SELECT deleted, data, versions FROM acknowledged WHERE id = ?1")?
        .query_row([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((deleted, data, stored)) = row else {
        return Ok(None);
    };
    let fields: Map<String, Value> = serde_json::from_str(&data).map_err(|_| corrupt())?;
    Ok(Some(RecordState {
        versions: versions::decode(&stored, fields.keys())?,
        fields,
        deleted,
    }))
}

/// Sets the acknowledged state of a record with pending edits.
pub(crate) fn set_acknowledged(conn: &Connection, id: Uuid, state: &RecordState) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO acknowledged (id, deleted, data, versions)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        id.to_string(),
        state.deleted,
        serde_json::to_string(&state.fields).map_err(|_| corrupt())?,
        versions::encode(&state.versions)?
    ])?;
    Ok(())
}

/// Before the first pending edit of a record: its stored row is the acknowledged state.
/// Nothing to do when edits of it are already pending (the state was kept then) or when it
/// was made on this device and never acknowledged.
pub(crate) fn note_before_edit(conn: &Connection, id: Uuid) -> Result<()> {
    let id = id.to_string();
    conn.prepare_cached(
        "INSERT OR IGNORE INTO acknowledged (id, deleted, data, versions)
         SELECT id, deleted, data, versions FROM records WHERE id = ?1
           AND NOT EXISTS (SELECT 1 FROM outbox WHERE record_id = ?1)
           AND NOT EXISTS (SELECT 1 FROM rejected
                           WHERE record_id = ?1 AND held_generation IS NOT NULL)",
    )?
    .execute([id])?;
    Ok(())
}

/// Forgets the acknowledged state of every record with no edit pending any more.
pub(crate) fn drop_settled(conn: &Connection) -> Result<()> {
    conn.execute(
        "DELETE FROM acknowledged WHERE id NOT IN (SELECT record_id FROM outbox)
           AND id NOT IN (SELECT record_id FROM rejected WHERE held_generation IS NOT NULL)",
        [],
    )?;
    Ok(())
}

/// The server took `m`: a record whose acknowledged state is kept moves on by it.
pub(crate) fn acknowledge(conn: &Connection, m: &Mutation) -> Result<()> {
    let ack = acknowledged(conn, m.record_id)?;
    if ack.is_none() && m.kind != MutationKind::Create {
        return Ok(());
    }
    if let Some(state) = rebase(ack.as_ref(), [m]) {
        set_acknowledged(conn, m.record_id, &state)?;
    }
    Ok(())
}

/// Rebuilds a record's view without a refused change: the acknowledged state with the edits
/// still pending over it. A refused creation with nothing acknowledged leaves no record.
pub(crate) fn revert(
    conn: &Connection,
    entity: &Entity,
    id: Uuid,
    refused_create: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let pending: Vec<Mutation> = pending_edits(conn)?
        .into_iter()
        .filter(|m| m.record_id == id)
        .collect();
    let Some(ack) = acknowledged(conn, id)? else {
        if refused_create && !pending.iter().any(|m| m.kind == MutationKind::Create) {
            unlink_people(conn, id)?;
            conn.prepare_cached("DELETE FROM records WHERE id = ?1")?
                .execute([id.to_string()])?;
        }
        // Otherwise (a store from before acknowledged states were kept) the view stays.
        return Ok(());
    };
    let view = rebase(Some(&ack), &pending).unwrap_or(ack);
    if let Written::Unreadable(view) = write_state(conn, entity, id, view, Links::Indexed)? {
        unreadable::hold(conn, entity.as_str(), id, &view, now)?;
    }
    Ok(())
}

/// A refused or held change as `sync_status` lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RejectedChange {
    /// Its sequence number on this device (the handle to resubmit or discard it).
    pub seq: u64,
    /// The kind of record.
    pub entity: String,
    /// The record.
    pub record_id: Uuid,
    /// Create, update or delete (`None` for a refusal kept by an older build).
    pub kind: Option<MutationKind>,
    /// The refused content: the fields the change set (empty when not kept).
    pub fields: BTreeMap<String, Value>,
    /// The server's code.
    pub code: String,
    /// The server's reason.
    pub message: String,
    /// When it was refused.
    pub at: String,
}

/// The kept refusals (`held` false) or the held mutations (`held` true), oldest first.
pub(crate) fn list(conn: &Connection, held: bool) -> Result<Vec<RejectedChange>> {
    let mut stmt = conn.prepare(
        "SELECT seq, entity, record_id, code, message, at, mutation FROM rejected
         WHERE (held_generation IS NOT NULL) = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([held], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, Option<String>>(6)?,
        ))
    })?;
    rows.map(|r| {
        let (seq, entity, record_id, code, message, at, mutation) = r?;
        let mutation: Option<Mutation> = mutation.and_then(|t| serde_json::from_str(&t).ok());
        Ok(RejectedChange {
            seq: u64::try_from(seq).unwrap_or(0),
            entity,
            record_id: Uuid::parse_str(&record_id).map_err(|_| corrupt())?,
            kind: mutation.as_ref().map(|m| m.kind),
            fields: mutation.map(|m| m.fields).unwrap_or_default(),
            code,
            message,
            at,
        })
    })
    .collect()
}
