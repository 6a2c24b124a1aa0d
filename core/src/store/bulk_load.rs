//! A first sync of many pages loaded as a bulk load: into a store holding no records, the
//! pulled records go without the index of records by kind and time (every pulled record would
//! otherwise update it at a random place, which at a million records reads, verifies and
//! decrypts an index page for nearly every insert), and the index is built once, by a sort,
//! when the pull ends — or, if the app died during the load, when the store is next opened.

use rusqlite::Connection;

use crate::error::Result;

/// The index a bulk load leaves out; the same definition as the schema's (migration 1).
const RECORDS_BY_ENTITY: &str =
    "CREATE INDEX IF NOT EXISTS records_by_entity ON records (entity, happened_at)";

/// The page cache while the index is built (KiB, negated as SQLite takes it).
const SORT_CACHE: i64 = -1024;

/// Starts a bulk load if the store holds no records (nothing a query needs quickly yet):
/// drops the index and says whether it did. A store already holding records is left as it is.
pub(crate) fn begin(conn: &Connection) -> Result<bool> {
    let empty: bool = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM records) AND NOT EXISTS (SELECT 1 FROM unreadable)",
        [],
        |r| r.get(0),
    )?;
    if empty {
        conn.execute_batch("DROP INDEX IF EXISTS records_by_entity")?;
    }
    Ok(empty)
}

/// Builds the index if it is missing: at the end of a bulk load (whether the pull finished or
/// failed), and on every open (a crash during a load). A no-op when it is there.
///
/// The build sorts every record's key in memory (temporary storage stays in memory: SQLCipher
/// does not encrypt the sorter's temporary files), about 60 bytes a record for the seconds it
/// runs (`BENCHMARKS.md`); the page cache is let go of meanwhile and set back after.
pub(crate) fn finish(conn: &Connection) -> Result<()> {
    let missing: bool = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master
                            WHERE type = 'index' AND name = 'records_by_entity')",
        [],
        |r| r.get(0),
    )?;
    if !missing {
        return Ok(());
    }
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.execute_batch(&format!("PRAGMA cache_size = {SORT_CACHE};"))?;
    let built = conn.execute_batch(RECORDS_BY_ENTITY);
    conn.execute_batch(&format!("PRAGMA cache_size = {cache};"))?;
    built?;
    Ok(())
}

#[cfg(test)]
#[path = "bulk_load_tests.rs"]
mod tests;
