//! Records this build cannot read — a newer app's kind of record or shape of one, pulled from
//! the server, or a stored row that no longer decodes — held raw so a pull never stalls and a
//! list never fails on one record. They are shown to the officer as "update the app to read
//! this", and read again on every open: an upgraded app turns them into ordinary records.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::merge::RecordState;
use pocketbook_protocol::Entity;

use super::audit::time_text;
use super::bulk_load::Links;
use super::pull::{write_state, Written};
use super::records::unlink_people;
use super::versions;
use crate::error::{Error, Result};

/// A record held because this build cannot read it, as the officer is shown it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnreadableRecord {
    /// The record's id.
    pub id: Uuid,
    /// Its kind, as the server named it (possibly a kind this build does not know).
    pub entity: String,
    /// When it happened (or was created), where that could be read.
    pub date: Option<String>,
    /// Its risk, where that could be read.
    pub risk: Option<String>,
    /// When this device set it aside.
    pub held_at: String,
}

/// Holds `view` raw for record `id` of kind `entity`, replacing any readable copy of it.
pub(crate) fn hold(
    conn: &Connection,
    entity: &str,
    id: Uuid,
    view: &RecordState,
    now: DateTime<Utc>,
) -> Result<()> {
    let data = serde_json::to_string(&view.fields).map_err(|_| Error::Corrupt {
        what: "unreadable record",
    })?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO unreadable (id, entity, deleted, data, versions, held_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        id.to_string(),
        entity,
        view.deleted,
        data,
        versions::encode(&view.versions)?,
        time_text(now)
    ])?;
    unlink_people(conn, id)?;
    conn.prepare_cached("DELETE FROM records WHERE id = ?1")?
        .execute([id.to_string()])?;
    Ok(())
}

/// Forgets the held copy of `id` (it was read, or removed from this device).
pub(crate) fn release(conn: &Connection, id: Uuid) -> Result<()> {
    conn.prepare_cached("DELETE FROM unreadable WHERE id = ?1")?
        .execute([id.to_string()])?;
    Ok(())
}

/// Moves stored record rows that failed to decode (ids as stored) into the held table, so a
/// list skips them and the officer is told. Runs on the caller's connection (a list's read,
/// which has no wall time of its own: the row is stamped with the database's clock).
pub(crate) fn set_aside(conn: &Connection, ids: &[String]) -> Result<()> {
    for id in ids {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO unreadable (id, entity, deleted, data, versions, held_at)
             SELECT id, entity, deleted, data, versions,
                    strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM records WHERE id = ?1",
        )?
        .execute([id])?;
        if let Ok(record_id) = Uuid::parse_str(id) {
            unlink_people(conn, record_id)?;
        }
        conn.prepare_cached("DELETE FROM records WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(())
}

fn text(fields: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| fields.get(*n).and_then(Value::as_str))
        .map(str::to_string)
}

/// Every held record, most recently held first.
pub(crate) fn list(conn: &Connection) -> Result<Vec<UnreadableRecord>> {
    let mut stmt =
        conn.prepare("SELECT id, entity, data, held_at FROM unreadable ORDER BY held_at DESC")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    rows.map(|row| {
        let (id, entity, data, held_at) = row?;
        // Whatever the shape, the officer is told of it: unreadable data reads as empty.
        let fields: Map<String, Value> = serde_json::from_str(&data).unwrap_or_default();
        Ok(UnreadableRecord {
            id: Uuid::parse_str(&id).map_err(|_| Error::Corrupt {
                what: "unreadable record",
            })?,
            entity,
            date: text(&fields, &["happened_at", "start", "at", "created_at"]),
            risk: text(&fields, &["risk"]),
            held_at,
        })
    })
    .collect()
}

/// Reads every held record again (on open, after migrations): those this build now reads
/// become ordinary records; the rest stay held. Returns how many were read.
pub(crate) fn retry(conn: &Connection) -> Result<u64> {
    let held: Vec<(String, String, bool, String, String)> = {
        let mut stmt =
            conn.prepare("SELECT id, entity, deleted, data, versions FROM unreadable")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    let mut read = 0;
    for (id, entity, deleted, data, stored_versions) in held {
        let (Ok(id), Ok(entity)) = (Uuid::parse_str(&id), entity.parse::<Entity>()) else {
            continue;
        };
        if matches!(entity, Entity::Unknown(_)) {
            continue;
        }
        let Ok(fields) = serde_json::from_str::<Map<String, Value>>(&data) else {
            continue;
        };
        let Ok(versions) = versions::decode(&stored_versions, fields.keys()) else {
            continue;
        };
        let view = RecordState {
            fields,
            versions,
            deleted,
        };
        if let Written::Stored = write_state(conn, &entity, id, view, Links::Indexed)? {
            read += 1;
        }
    }
    Ok(read)
}
