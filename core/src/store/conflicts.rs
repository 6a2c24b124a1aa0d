//! Conflicts on the device: kept as the server sends them, marked resolved by the officer, and
//! the resolutions the server has not yet taken. Synchronous; runs inside the caller's
//! transaction.

use rusqlite::{params, Connection};

use pocketbook_protocol::merge::Conflict;

use crate::error::{Error, Result};

/// Keeps a conflict the server sent (a resolution, once seen, stays resolved).
pub(crate) fn save_conflict(conn: &Connection, conflict: &Conflict, resolved: bool) -> Result<()> {
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

/// Reopens conflicts whose resolution the server did not take: they are open there, so they
/// are open here, and not sent again until the officer resolves them anew.
pub(crate) fn reopen_conflicts<'a>(
    conn: &Connection,
    ids: impl IntoIterator<Item = &'a String>,
) -> Result<()> {
    for id in ids {
        conn.execute(
            "UPDATE conflicts SET resolved = 0, push_pending = 0 WHERE id = ?1 AND push_pending = 1",
            [id],
        )?;
    }
    Ok(())
}

/// Resolutions not yet taken by the server.
pub(crate) fn resolutions_to_push(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM conflicts WHERE push_pending = 1 ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}
