//! The bulk load on a real store: an empty store loads without the index and gets the
//! schema's own back, a store holding records keeps it, and a load the app died during has
//! it built at the next open.

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
