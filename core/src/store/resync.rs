//! Resync after the server compacted history (issue 12): the buckets this device pulls again
//! from 0 after `410 resync_required`, what each pass has been sent, and the sweep after its
//! last page that drops what the server no longer holds (same epoch: the server is right).
//! Kept in the store (`resync_buckets`, `resync_seen`) so a pass a crash interrupted is resumed
//! by the next sync. Runs inside the caller's transaction; the outbox and pending edits are
//! never touched.

use std::collections::BTreeSet;

use rusqlite::{params, Connection};
use uuid::Uuid;

use super::pull::forget;
use crate::error::Result;

/// Starts (or restarts) a pass from 0 over each of `buckets` the device holds: its cursor goes
/// back to 0 and what an earlier pass was sent is forgotten. A bucket the device does not hold
/// is left alone (a pull of it starts from 0 anyway).
pub(crate) fn begin(conn: &Connection, buckets: &[String]) -> Result<()> {
    for bucket in buckets {
        let held = conn
            .prepare_cached("UPDATE cursors SET cursor = 0 WHERE bucket = ?1")?
            .execute([bucket])?;
        if held == 0 {
            continue;
        }
        conn.prepare_cached("INSERT OR IGNORE INTO resync_buckets (bucket) VALUES (?1)")?
            .execute([bucket])?;
        conn.prepare_cached("DELETE FROM resync_seen WHERE bucket = ?1")?
            .execute([bucket])?;
    }
    Ok(())
}

/// The buckets being pulled again from 0.
pub(crate) fn resyncing(conn: &Connection) -> Result<BTreeSet<String>> {
    let mut stmt = conn.prepare_cached("SELECT bucket FROM resync_buckets")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Notes that this pass over `bucket` was sent `item` (a record or a conflict).
pub(crate) fn seen(conn: &Connection, bucket: &str, item: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO resync_seen (bucket, id) VALUES (?1, ?2)")?
        .execute(params![bucket, item])?;
    Ok(())
}

/// Ends the pass over `bucket`. With `sweep`, every record the device held in the bucket that
/// the pass was not sent leaves it (and the device, unless another bucket holds it or a
/// pending edit names it: `pending`), with the conflicts of the bucket's records it was not
/// sent (a resolution waiting to be pushed stays). Nothing is proposed to the server. Without
/// `sweep` (a new epoch: reconciliation decides) the pass is only forgotten. Returns how many
/// records left the bucket.
pub(crate) fn finish(
    conn: &Connection,
    bucket: &str,
    sweep: bool,
    pending: &BTreeSet<Uuid>,
) -> Result<u64> {
    let mut removed = 0;
    if sweep {
        conn.prepare_cached(
            "DELETE FROM conflicts WHERE push_pending = 0
                 AND id NOT IN (SELECT id FROM resync_seen WHERE bucket = ?1)
                 AND record_id IN (SELECT record_id FROM record_buckets WHERE bucket = ?1)",
        )?
        .execute([bucket])?;
        let gone: Vec<String> = {
            let mut stmt = conn.prepare_cached(
                "SELECT record_id FROM record_buckets WHERE bucket = ?1
                     AND record_id NOT IN (SELECT id FROM resync_seen WHERE bucket = ?1)",
            )?;
            let rows = stmt.query_map([bucket], |r| r.get::<_, String>(0))?;
            rows.collect::<std::result::Result<_, _>>()?
        };
        for id in gone {
            conn.prepare_cached("DELETE FROM record_buckets WHERE record_id = ?1 AND bucket = ?2")?
                .execute(params![id, bucket])?;
            if let Ok(uuid) = Uuid::parse_str(&id) {
                forget(conn, uuid, pending.contains(&uuid))?;
            }
            removed += 1;
        }
    }
    conn.prepare_cached("DELETE FROM resync_seen WHERE bucket = ?1")?
        .execute([bucket])?;
    conn.prepare_cached("DELETE FROM resync_buckets WHERE bucket = ?1")?
        .execute([bucket])?;
    Ok(removed)
}
