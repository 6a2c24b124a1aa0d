//! Records whose `remove` arrived while an edit of them was still pending (issue 11, item 3):
//! kept only until that edit is acknowledged or refused, then dropped with their conflicts,
//! and any refusal of them stripped of its content (code and record id stay, so the officer
//! sees that a change was refused, not what it said). Runs in the caller's transaction.

use rusqlite::Connection;
use uuid::Uuid;

use super::pull::forget;
use super::refused::pending_edits;
use crate::error::Result;
use crate::sync::push_plan::plan_left_scope;

/// Drops every record that left scope and has no edit pending any more; how many.
pub(crate) fn settle(conn: &Connection) -> Result<u64> {
    let left: Vec<Uuid> = {
        let mut stmt = conn.prepare_cached("SELECT record_id FROM left_scope")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.filter_map(|r| r.map(|id| Uuid::parse_str(&id).ok()).transpose())
            .collect::<std::result::Result<_, _>>()?
    };
    if left.is_empty() {
        return Ok(0);
    }
    let pending = pending_edits(conn)?;
    let mut dropped = 0;
    for id in plan_left_scope(&left, &pending) {
        forget(conn, id, false)?;
        conn.prepare_cached(
            "UPDATE rejected SET mutation = NULL WHERE record_id = ?1 AND held_generation IS NULL",
        )?
        .execute([id.to_string()])?;
        conn.prepare_cached("DELETE FROM left_scope WHERE record_id = ?1")?
            .execute([id.to_string()])?;
        dropped += 1;
    }
    Ok(dropped)
}
