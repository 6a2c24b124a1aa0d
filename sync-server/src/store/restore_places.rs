//! Where a record stood when a restore window opened (issue 12): a device reconciling with a
//! restored server sends what it acknowledged before the restore, and a record its officer
//! could see then may since have left the officer's sight (a colleague's phone raised its
//! marking, or moved it to another team, after the restore). Every bucket a record leaves
//! while a device still reconciles is noted here, so `restore_apply` can judge sight on the
//! record as it stood then. Emptied by each new epoch. Runs inside the caller's transaction.

use uuid::Uuid;

use super::epoch;
use super::sql::{args, Db};
use crate::error::StoreError;

/// Forgets every noted place (a new epoch opens a new window).
pub fn clear(db: &mut dyn Db) -> Result<(), StoreError> {
    db.execute("DELETE FROM restore_places", &[])?;
    Ok(())
}

/// Notes that record `id` leaves `buckets`, if any device still reconciles (no restore can
/// arrive otherwise, so nothing is kept).
pub fn note_left(db: &mut dyn Db, id: Uuid, buckets: &[&String]) -> Result<(), StoreError> {
    if buckets.is_empty() || !epoch::anyone_reconciling(db)? {
        return Ok(());
    }
    for bucket in buckets {
        db.execute(
            "INSERT INTO restore_places (record_id, bucket) VALUES (?1, ?2)
             ON CONFLICT (record_id, bucket) DO NOTHING",
            args![id.to_string(), bucket.as_str()],
        )?;
    }
    Ok(())
}

/// Whether record `id` stood in any of `buckets` at some time since the window opened.
pub fn stood_in(db: &mut dyn Db, id: Uuid, buckets: &[String]) -> Result<bool, StoreError> {
    let rows = db.query(
        "SELECT bucket FROM restore_places WHERE record_id = ?1",
        args![id.to_string()],
    )?;
    for row in rows {
        if buckets.contains(&row.text(0)?) {
            return Ok(true);
        }
    }
    Ok(false)
}
