//! The bulk load on a real store: an empty store loads without the index and gets the
//! schema's own back, a store holding records keeps it, and a load the app died during has
//! it built at the next open; staged chronology links are merged whole in any number of
//! passes, read by the chronology meanwhile, and removed with their record.

use super::*;
use crate::store::{schema, StoreKey};
use crate::test_support::{device, visit, young_person};

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

/// Every chronology link in `table`, as (young person, record), in order.
fn links(conn: &Connection, table: &str) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare(&format!(
            "SELECT young_person_id, record_id FROM {table} ORDER BY 1, 2"
        ))
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Stages `records` records' links to young people drawn from a pool of `people` (one or two
/// each), as a bulk load does; returns the links staged.
fn stage(conn: &Connection, records: u128, people: u128) -> Vec<(String, String)> {
    let mut staged = Vec::new();
    for r in 0..records {
        let record = Uuid::from_u128(0x1000_0000 + r);
        // Spread over the id space, in no order of the records'.
        let person =
            |k: u128| Uuid::from_u128(((r * 7 + k) % people).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let named: Vec<Uuid> = if r % 3 == 0 {
            vec![person(0), person(1)]
        } else {
            vec![person(0)]
        };
        stage_links(conn, record, &named).unwrap();
        staged.extend(named.iter().map(|p| (p.to_string(), record.to_string())));
    }
    staged.sort();
    staged.dedup();
    staged
}

#[test]
fn staged_links_are_merged_whole_in_any_number_of_passes() {
    for pass in [1, 7, 100, 1_000, MERGE_PASS] {
        let dir = tempfile::tempdir().unwrap();
        let conn = store(&dir);
        assert!(begin(&conn).unwrap());
        assert_eq!(
            Links::now(&conn).unwrap(),
            Links::Staged,
            "a load stages links"
        );
        let staged = stage(&conn, 900, 40);
        assert_eq!(links(&conn, "record_people_staged"), staged);
        assert!(links(&conn, "record_people").is_empty());
        finish_in_passes_of(&conn, pass).unwrap();
        assert_eq!(links(&conn, "record_people"), staged, "passes of {pass}");
        assert!(
            links(&conn, "record_people_staged").is_empty(),
            "passes of {pass}"
        );
        assert_eq!(
            Links::now(&conn).unwrap(),
            Links::Indexed,
            "the load is over"
        );
        let secure: i64 = conn
            .query_row("PRAGMA secure_delete", [], |r| r.get(0))
            .unwrap();
        assert_eq!(secure, 1, "secure delete is on again");
    }
}

#[test]
fn a_sample_splits_the_merge_at_young_people_and_counts_every_link() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store(&dir);
    let staged = stage(&conn, 3 * SAMPLE as u128, 5_000);
    let (count, sample) = sample_people(&conn).unwrap();
    assert_eq!(count, staged.len());
    assert!(
        (SAMPLE..2 * SAMPLE).contains(&sample.len()),
        "kept between one and two samples' worth: {}",
        sample.len()
    );
    // Every k-th row in the table's order: the first sampled is the first row's.
    let first: String = conn
        .query_row(
            "SELECT young_person_id FROM record_people_staged",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sample[0], first);
}

#[test]
fn a_load_the_app_died_during_has_its_links_merged_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let key = StoreKey::from_bytes(&[3u8; 32]).unwrap();
    let sources = pocketbook_protocol::sources::SystemSources;
    let store = crate::store::Store::open(&path, &key, "t", &sources).unwrap();
    let staged = store
        .write(|tx| {
            assert!(begin(tx)?);
            Ok(stage(tx, 50, 9))
        })
        .unwrap();
    drop(store); // the app dies before the pull ends
    let store = crate::store::Store::open(&path, &key, "t", &sources).unwrap();
    store
        .read(|c| {
            assert_eq!(links(c, "record_people"), staged);
            assert!(links(c, "record_people_staged").is_empty());
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_chronology_reads_staged_links_and_a_record_s_removal_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let (first, second) = (young_person(&book), young_person(&book));
    let kept = visit(&book, first, &time);
    let moved = visit(&book, first, &time);
    // As if both had been pulled during a load still under way: their links staged.
    book.store
        .write(|tx| {
            tx.execute_batch(
                "INSERT INTO record_people_staged (record_id, young_person_id)
                     SELECT record_id, young_person_id FROM record_people;
                 DELETE FROM record_people;",
            )?;
            Ok(())
        })
        .unwrap();
    let chronology = |person| -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = book
            .chronology(person, "review")
            .unwrap()
            .iter()
            .map(|e| e.record_id)
            .collect();
        ids.sort();
        ids
    };
    let mut both = vec![kept, moved];
    both.sort();
    assert_eq!(chronology(first), both, "read from the staged links");
    book.update_visit(
        moved,
        crate::model::VisitUpdate {
            young_person_ids: Some(vec![second]),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(chronology(first), vec![kept]);
    assert_eq!(chronology(second), vec![moved]);
    book.delete_visit(kept, "recorded twice").unwrap();
    let left = book
        .store
        .read(|c| Ok((links(c, "record_people_staged"), links(c, "record_people"))))
        .unwrap();
    assert_eq!(
        left,
        (vec![], vec![(second.to_string(), moved.to_string())]),
        "the staged links went with their records' changes; the new one is indexed"
    );
}
