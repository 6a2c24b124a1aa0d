//! Conflicts on the device: kept as the server sends them, marked resolved by the officer, and
//! the resolutions the server has not yet taken. Synchronous; runs inside the caller's
//! transaction.

use rusqlite::{params, Connection};

use pocketbook_protocol::merge::Conflict;

use crate::error::{Error, Result};

/// Keeps a conflict the server sent, as the server holds it now (a restored server may have made
/// the same loss again against another winner); a resolution, once seen, stays resolved. The
/// server never
/// reopens a resolved conflict, so one it sends open that this device holds resolved lost its
/// resolution in a server restore: the resolution is told to the server again at the next
/// push (which judges it again, and a refusal reopens it here).
pub(crate) fn save_conflict(conn: &Connection, conflict: &Conflict, resolved: bool) -> Result<()> {
    let data = serde_json::to_string(conflict).map_err(|_| Error::Corrupt { what: "conflict" })?;
    conn.prepare_cached(
        "INSERT INTO conflicts (id, record_id, data, resolved) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data,
             resolved = max(resolved, excluded.resolved),
             push_pending = CASE WHEN excluded.resolved = 0 AND conflicts.resolved = 1 THEN 1
                                 ELSE conflicts.push_pending END",
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

#[cfg(test)]
mod tests {
    use pocketbook_protocol::{Entity, Hlc, Version};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::store::{Store, StoreKey};

    fn conflict(winning: &str) -> Conflict {
        let v = |millis| Version {
            hlc: Hlc { millis, counter: 0 },
            node: Uuid::from_u128(3),
        };
        Conflict {
            id: "0123456789abcdef0123456789abcdef".into(),
            entity: Entity::Visit,
            record_id: Uuid::from_u128(9),
            field: "notes".into(),
            losing_value: json!("lost"),
            losing_version: v(1),
            winning_value: json!(winning),
            winning_version: v(2),
        }
    }

    /// A restored server may make the same loss again against another winner, and may have
    /// lost a resolution: the device takes the server's conflict as it is now, and tells it
    /// again a resolution it holds (found by the simulation's restore seeds 41, 88 and 119).
    #[test]
    fn a_conflict_is_kept_as_the_server_holds_it_and_a_lost_resolution_is_told_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("d.db"),
            &StoreKey::from_bytes(&[7u8; 32]).unwrap(),
            "d",
            &pocketbook_protocol::sources::SystemSources,
        )
        .unwrap();
        store
            .write(|tx| {
                save_conflict(tx, &conflict("first"), false)?;
                save_conflict(tx, &conflict("second"), false)?;
                assert_eq!(open_conflicts(tx)?, vec![conflict("second")]);
                assert!(mark_resolved(tx, &conflict("x").id)?);
                assert_eq!(resolutions_to_push(tx)?, vec![conflict("x").id]);
                // Taken by the server, and seen resolved by a pull.
                tx.execute("UPDATE conflicts SET push_pending = 0", [])?;
                save_conflict(tx, &conflict("second"), true)?;
                assert!(resolutions_to_push(tx)?.is_empty());
                // A later pull sends it open (the server was restored): still resolved
                // here, and the resolution goes to the server again.
                save_conflict(tx, &conflict("second"), false)?;
                assert!(open_conflicts(tx)?.is_empty());
                assert_eq!(resolutions_to_push(tx)?, vec![conflict("x").id]);
                Ok(())
            })
            .unwrap();
    }
}
