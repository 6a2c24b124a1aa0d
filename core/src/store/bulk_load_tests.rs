//! The bulk load on a real store: an empty store loads with the triggers of the table of
//! records by kind and time swapped for staging ones and gets the schema's own back with the
//! table filled, a store holding records keeps them, and a load the app died during is
//! finished at the next open; the table and its staging table follow every write to the
//! records, and the list reads the same meanwhile;
//! staged chronology links are merged whole in any number of passes, read by the chronology
//! meanwhile, and removed with their record.

use super::*;
use crate::store::audit::time_text;
use crate::store::schema::micros;
use crate::store::{schema, StoreKey};
use crate::test_support::{device, visit, young_person};

/// The triggers on `records` that keep `records_by_time` or stage its entries, as (name,
/// definition), by name.
fn timing_triggers(conn: &Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'trigger' AND tbl_name = 'records' AND name LIKE 'records_%timed%'
             ORDER BY name",
        )
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

fn store(dir: &tempfile::TempDir) -> Connection {
    let key = StoreKey::from_bytes(&[3u8; 32]).unwrap();
    let mut conn = crate::store::open_connection(&dir.path().join("s.db"), &key).unwrap();
    schema::migrate_to(&mut conn, schema::CURRENT_VERSION).unwrap();
    conn
}

/// A record id (a UUID) numbered `n`.
fn id(n: u64) -> String {
    format!("00000000-0000-7000-8000-{n:012x}")
}

/// Inserts a visit `n` at `when` as SQL would, whoever writes.
fn insert(conn: &Connection, n: u64, when: &str) -> rusqlite::Result<usize> {
    conn.execute(
        "INSERT OR IGNORE INTO records (id, entity, team_id, marking, happened_at, data, versions)
         VALUES (?1, 'visit', 't', 'official', ?2, '{}', '{}')",
        params![id(n), when],
    )
}

/// Every entry of `records_by_time`, as (entity, microseconds, id in hex), in order.
fn entries(conn: &Connection) -> Vec<(String, i64, String)> {
    rows3(
        conn,
        "SELECT entity, happened_at, lower(hex(id)) FROM records_by_time ORDER BY 1, 2, 3",
    )
}

/// Every entry staged, likewise.
fn staged(conn: &Connection) -> Vec<(String, i64, String)> {
    rows3(
        conn,
        "SELECT entity, happened_at, lower(hex(id)) FROM records_by_time_staged
         ORDER BY 1, 2, 3",
    )
}

/// What `records_by_time` must hold: every record's (entity, microseconds, id in hex), in
/// order (the times read by chrono, not by the triggers' SQL).
fn projection(conn: &Connection) -> Vec<(String, i64, String)> {
    let mut held: Vec<(String, i64, String)> = rows_of(
        conn,
        "SELECT entity, happened_at, replace(id, '-', '') FROM records",
        |r| {
            let at: String = r.get(1)?;
            let at = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
            Ok((r.get(0)?, at.timestamp_micros(), r.get(2)?))
        },
    );
    held.sort();
    held
}

fn rows3(conn: &Connection, sql: &str) -> Vec<(String, i64, String)> {
    rows_of(conn, sql, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
}

fn rows_of<T>(
    conn: &Connection,
    sql: &str,
    read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let mut stmt = conn.prepare(sql).unwrap();
    let rows = stmt.query_map([], read).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn an_empty_store_loads_with_staging_triggers_and_gets_the_schema_s_own_back() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store(&dir);
    let fresh = timing_triggers(&conn);
    let names: Vec<&str> = fresh.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["records_retimed", "records_timed", "records_untimed"]
    );
    let cache = |c: &Connection| c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0));
    let before = cache(&conn).unwrap();
    assert!(!loading(&conn).unwrap());
    assert!(begin(&conn).unwrap(), "an empty store starts a bulk load");
    assert!(loading(&conn).unwrap());
    let during: Vec<String> = timing_triggers(&conn).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        during,
        [
            "records_retimed_staged",
            "records_timed_staged",
            "records_untimed_staged"
        ]
    );
    for n in [3, 1, 2] {
        insert(&conn, n, &format!("2026-01-0{n}T00:00:00.000000Z")).unwrap();
    }
    assert!(
        entries(&conn).is_empty(),
        "nothing enters the table during the load"
    );
    assert_eq!(staged(&conn), projection(&conn), "every entry staged");
    finish(&conn).unwrap();
    assert!(staged(&conn).is_empty(), "nothing staged after");
    assert_eq!(cache(&conn).unwrap(), before, "the page cache is set back");
    assert!(!loading(&conn).unwrap());
    assert_eq!(
        timing_triggers(&conn),
        fresh,
        "put back as the schema has them"
    );
    assert_eq!(entries(&conn), projection(&conn), "filled at the end");
    assert_eq!(entries(&conn).len(), 3);
    finish(&conn).unwrap();
    assert_eq!(
        (timing_triggers(&conn), entries(&conn).len()),
        (fresh, 3),
        "finishing twice changes nothing"
    );
}

#[test]
fn a_store_holding_records_keeps_its_triggers() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store(&dir);
    let fresh = timing_triggers(&conn);
    insert(&conn, 1, "2026-01-01T00:00:00.000000Z").unwrap();
    assert!(!begin(&conn).unwrap());
    assert_eq!(timing_triggers(&conn), fresh);
    assert_eq!(entries(&conn), projection(&conn));
    assert_eq!(entries(&conn).len(), 1);
}

/// A deterministic run of inserts, time changes, kind changes and deletes of `records`, with
/// a bulk load begun and finished part way (as a first sync with the officer writing
/// meanwhile does), checking after each step that the table and its staging table between
/// them hold exactly the records' entries, the staging table only while the load is on; a
/// record whose id is not a UUID is refused whole.
#[test]
fn the_table_follows_every_write_during_a_load_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store(&dir);
    assert!(begin(&conn).unwrap());
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for step in 0..600 {
        let n = next(60);
        let when = format!("2026-01-{:02}T00:00:00.000000Z", 1 + next(28));
        match next(5) {
            0 | 1 => {
                insert(&conn, n, &when).unwrap();
            }
            2 => {
                conn.execute(
                    "UPDATE records SET happened_at = ?2, data = '{\"x\":1}' WHERE id = ?1",
                    params![id(n), when],
                )
                .unwrap();
            }
            3 => {
                conn.execute(
                    "UPDATE records SET entity = 'concern', team_id = 'u' WHERE id = ?1",
                    params![id(n)],
                )
                .unwrap();
            }
            _ => {
                conn.execute("DELETE FROM records WHERE id = ?1", params![id(n)])
                    .unwrap();
            }
        }
        if step == 400 {
            finish(&conn).unwrap();
        }
        let (table, staged) = (entries(&conn), staged(&conn));
        let mut both = [table.clone(), staged.clone()].concat();
        both.sort();
        assert_eq!(both, projection(&conn), "step {step}");
        if step < 400 {
            assert!(
                table.is_empty(),
                "step {step}: nothing in the table during the load"
            );
        } else {
            assert!(staged.is_empty(), "step {step}: nothing staged after it");
        }
    }
    let held = projection(&conn);
    assert!(held.len() > 20, "{}", held.len());
    let refused = conn.execute(
        "INSERT INTO records (id, entity, team_id, marking, happened_at, data, versions)
         VALUES ('not-a-uuid', 'visit', 't', 'official', '2026-01-01', '{}', '{}')",
        [],
    );
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!((projection(&conn), entries(&conn)), (held.clone(), held));
}

#[test]
fn a_load_the_app_died_during_is_finished_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let key = StoreKey::from_bytes(&[3u8; 32]).unwrap();
    let sources = pocketbook_protocol::sources::SystemSources;
    let store = crate::store::Store::open(&path, &key, "t", &sources).unwrap();
    let fresh = store.read(|c| Ok(timing_triggers(c))).unwrap();
    store
        .write(|tx| {
            assert!(begin(tx)?);
            insert(tx, 2, "2026-01-02T00:00:00.000000Z")?;
            insert(tx, 1, "2026-01-01T00:00:00.000000Z")?;
            Ok(())
        })
        .unwrap();
    drop(store); // the app dies before the pull ends: `finish` never runs
    let conn = crate::store::open_connection(&path, &key).unwrap();
    assert!(loading(&conn).unwrap(), "the file was left mid-load");
    assert!(entries(&conn).is_empty());
    assert_eq!(staged(&conn), projection(&conn));
    drop(conn);
    let store = crate::store::Store::open(&path, &key, "t", &sources).unwrap();
    store
        .read(|c| {
            assert_eq!(timing_triggers(c), fresh);
            assert_eq!(entries(c), projection(c));
            assert_eq!(entries(c).len(), 2);
            assert!(staged(c).is_empty());
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_finish_that_fails_leaves_the_load_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store(&dir);
    assert!(begin(&conn).unwrap());
    insert(&conn, 1, "2026-01-01T00:00:00.000000Z").unwrap();
    // A stray object under a trigger's name: putting the schema's triggers back fails.
    conn.execute_batch(
        "CREATE TRIGGER records_untimed AFTER UPDATE OF marking ON records BEGIN SELECT 1; END;",
    )
    .unwrap();
    assert!(finish(&conn).is_err());
    assert!(loading(&conn).unwrap(), "still loading");
    assert!(entries(&conn).is_empty(), "nothing moved");
    assert_eq!(staged(&conn), projection(&conn), "still staged");
    assert!(conn.is_autocommit(), "no savepoint left open");
    conn.execute_batch("DROP TRIGGER records_untimed;").unwrap();
    finish(&conn).unwrap();
    assert!(!loading(&conn).unwrap());
    assert_eq!(entries(&conn), projection(&conn));
    assert_eq!(entries(&conn).len(), 1);
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
        finish_in_passes_of(&conn, ENTRY_PASS, pass).unwrap();
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

#[test]
fn the_list_reads_staged_entries_during_a_load_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let listed = |book: &crate::Pocketbook| -> Vec<Uuid> {
        book.visits(&Default::default())
            .unwrap()
            .iter()
            .map(|v| v.id)
            .collect()
    };
    let mut held = Vec::new();
    for hours in [5, 2, 3] {
        let start =
            pocketbook_protocol::sources::Sources::now(&*time) - chrono::Duration::hours(hours);
        let draft = crate::test_support::visit_draft(person, start, "Seen");
        held.push(book.record_visit(draft).unwrap().id);
    }
    let before = listed(&book);
    assert_eq!(before, [held[1], held[2], held[0]], "newest first");
    // As if these had been pulled during a load still under way: their entries staged.
    book.store
        .write(|tx| {
            tx.execute_batch(&format!(
                "INSERT INTO records_by_time_staged (id, entity, happened_at)
                     SELECT id, entity, happened_at FROM records_by_time;
                 DELETE FROM records_by_time;
                 {DROP_TRIGGERS}{STAGING_TRIGGERS}"
            ))?;
            Ok(())
        })
        .unwrap();
    assert!(book.store.read(loading).unwrap());
    assert_eq!(listed(&book), before, "read from the staged entries");
    let during = visit(&book, person, &time);
    let with_it = [vec![during], before].concat();
    assert_eq!(
        listed(&book),
        with_it,
        "a visit recorded during the load, an hour ago"
    );
    book.store.write(|tx| finish(tx)).unwrap();
    assert_eq!(listed(&book), with_it, "read from the table after it");
}

#[test]
fn the_list_is_read_through_the_table_in_its_order() {
    let dir = tempfile::tempdir().unwrap();
    let conn = store(&dir);
    let plan = |conn: &Connection| -> String {
        let mut stmt = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                crate::store::records::LIST_BY_TIME
            ))
            .unwrap();
        let rows = stmt
            .query_map(params!["visit", i64::MIN, i64::MAX, None::<String>], |r| {
                r.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
    };
    let plan = plan(&conn);
    assert!(
        plan.contains("SEARCH t USING PRIMARY KEY") && plan.contains("SEARCH r USING INDEX"),
        "{plan}"
    );
    assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
}

#[test]
fn staged_entries_are_moved_whole_in_any_number_of_passes() {
    for pass in [1, 7, 100, 1_000, ENTRY_PASS] {
        let dir = tempfile::tempdir().unwrap();
        let conn = store(&dir);
        assert!(begin(&conn).unwrap());
        // 900 records over 40 times (many sharing one) and two kinds, in no order of theirs.
        for n in 0..900u64 {
            let when = format!("2026-02-{:02}T00:00:00.000000Z", 1 + (n * 7) % 40 / 2);
            insert(&conn, n, &when).unwrap();
            if n % 5 == 0 {
                conn.execute(
                    "UPDATE records SET entity = 'concern' WHERE id = ?1",
                    [id(n)],
                )
                .unwrap();
            }
        }
        let held = projection(&conn);
        assert_eq!(staged(&conn), held, "passes of {pass}");
        finish_in_passes_of(&conn, pass, MERGE_PASS).unwrap();
        assert_eq!(entries(&conn), held, "passes of {pass}");
        assert!(staged(&conn).is_empty(), "passes of {pass}");
        assert!(!loading(&conn).unwrap(), "passes of {pass}");
    }
}

#[test]
fn bounds_split_at_the_sample_s_quantiles_without_repeats() {
    assert_eq!(
        bounds(10, vec![5, 1, 3], 100),
        Vec::<i32>::new(),
        "one pass"
    );
    assert_eq!(bounds(0, Vec::<i32>::new(), 0), Vec::<i32>::new());
    assert_eq!(bounds(100, (0..100).rev().collect(), 25), [25, 50, 75]);
    assert_eq!(bounds(100, vec![7; 100], 10), [7], "one key: one bound");
}

#[test]
fn a_time_as_the_store_writes_it_is_read_as_its_microseconds() {
    let conn = Connection::open_in_memory().unwrap();
    let sql = concat!("SELECT ", micros!("?1"));
    for at in [
        "2026-12-04T17:03:52.123456Z",
        "1970-01-01T00:00:00.000001Z",
        "2099-02-28T23:59:59.999999Z",
    ] {
        let time = chrono::DateTime::parse_from_rfc3339(at).unwrap();
        assert_eq!(time_text(time.into()), at, "as the store writes it");
        let read: i64 = conn.query_row(sql, [at], |r| r.get(0)).unwrap();
        assert_eq!(read, time.timestamp_micros(), "{at}");
    }
    for not_a_time in ["", "yesterday", "2026-13-01T00:00:00.000000Z"] {
        let read: Option<i64> = conn.query_row(sql, [not_a_time], |r| r.get(0)).unwrap();
        assert_eq!(read, None, "{not_a_time:?}");
    }
}
