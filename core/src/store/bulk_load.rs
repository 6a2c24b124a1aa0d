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
/// does not encrypt the sorter's temporary files), about 64 bytes a record, so a million
/// records take some 60 MB more for the seconds it runs (`BENCHMARKS.md`); the page cache is
/// let go of meanwhile (and set back after), so its memory goes to the sort.
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
mod tests {
    use super::*;
    use crate::store::{schema, StoreKey};

    fn index_sql(conn: &Connection) -> Option<String> {
        conn.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'records_by_entity'",
            [],
            |r| r.get(0),
        )
        .ok()
    }

    fn store(dir: &tempfile::TempDir) -> Connection {
        let key = StoreKey::from_bytes(&[3u8; 32]).unwrap();
        let mut conn = crate::store::open_connection(&dir.path().join("s.db"), &key).unwrap();
        schema::migrate_to(&mut conn, schema::CURRENT_VERSION).unwrap();
        conn
    }

    #[test]
    fn an_empty_store_loads_without_the_index_and_gets_the_schema_s_own_back() {
        let dir = tempfile::tempdir().unwrap();
        let conn = store(&dir);
        let fresh = index_sql(&conn).expect("the schema has the index");
        let cache = |c: &Connection| c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0));
        let before = cache(&conn).unwrap();
        assert!(begin(&conn).unwrap(), "an empty store starts a bulk load");
        assert_eq!(index_sql(&conn), None);
        finish(&conn).unwrap();
        assert_eq!(cache(&conn).unwrap(), before, "the page cache is set back");
        assert_eq!(
            index_sql(&conn),
            Some(fresh.clone()),
            "rebuilt as the schema has it"
        );
        finish(&conn).unwrap();
        assert_eq!(
            index_sql(&conn),
            Some(fresh),
            "finishing twice changes nothing"
        );
    }

    #[test]
    fn a_store_holding_records_keeps_its_index() {
        let dir = tempfile::tempdir().unwrap();
        let conn = store(&dir);
        conn.execute(
            "INSERT INTO records (id, entity, team_id, marking, happened_at, data, versions)
             VALUES ('r', 'visit', 't', 'official', '2026-01-01T00:00:00Z', '{}', '{}')",
            [],
        )
        .unwrap();
        assert!(!begin(&conn).unwrap());
        assert!(index_sql(&conn).is_some());
    }

    #[test]
    fn a_load_the_app_died_during_has_its_index_built_at_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let key = StoreKey::from_bytes(&[3u8; 32]).unwrap();
        let sources = pocketbook_protocol::sources::SystemSources;
        let store = crate::store::Store::open(&path, &key, "t", &sources).unwrap();
        assert!(store.write(|tx| begin(tx)).unwrap());
        drop(store); // the app dies before the pull ends: `finish` never runs
        let conn = crate::store::open_connection(&path, &key).unwrap();
        assert_eq!(
            index_sql(&conn),
            None,
            "the file was left without the index"
        );
        drop(conn);
        let store = crate::store::Store::open(&path, &key, "t", &sources).unwrap();
        assert!(store.read(|c| Ok(index_sql(c))).unwrap().is_some());
    }
}
