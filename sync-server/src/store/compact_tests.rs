//! Unit tests of the compaction rules over a real SQLite store, its rows written directly so
//! each rule is seen alone: what goes, what stays, and each bucket's horizon.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use pocketbook_protocol::sources::SeededSources;
use pocketbook_protocol::{Hlc, Version};

use super::*;
use crate::store::SqliteStore;

const T0_MS: i64 = 1_800_000_000_000;

fn versions(deleted: bool) -> String {
    let v = Version {
        hlc: Hlc {
            millis: 1,
            counter: 0,
        },
        node: Uuid::nil(),
    };
    let mut map = BTreeMap::from([("created_at".to_string(), v)]);
    if deleted {
        map.insert(DELETED_FIELD.to_string(), v);
    }
    serde_json::to_string(&map).expect("versions")
}

fn id(n: u128) -> String {
    Uuid::from_u128(n).to_string()
}

/// Records 1 (live), 2 (deleted long ago), 3 (deleted recently); conflict c1 resolved and c2
/// open on record 1; a `remove` entry of record 9; changes 1..=5 old, 10 recent.
fn seed(db: &mut dyn Db) -> Result<(), StoreError> {
    for (n, deleted) in [(1, false), (2, true), (3, true)] {
        db.execute(
            "INSERT INTO records (id, entity, team_id, marking, created_by, fields, versions,
                 deleted) VALUES (?1, 'visit', ?2, 'official', ?2, '{}', ?3, ?4)",
            args![id(n), id(100), versions(deleted), deleted],
        )?;
    }
    for (c, resolved) in [("c1", true), ("c2", false)] {
        db.execute(
            "INSERT INTO conflicts (id, record_id, data, resolved) VALUES (?1, ?2, '{}', ?3)",
            args![c, id(1), resolved],
        )?;
    }
    let entries = [
        ("team:a", id(1), "snapshot", 1),
        ("team:a", id(2), "snapshot", 2),
        ("team:b", id(2), "snapshot", 2),
        ("team:a", id(9), "remove", 3),
        ("team:a", "c1".to_string(), "conflict", 4),
        ("team:a", "c2".to_string(), "conflict", 5),
        ("team:a", id(3), "snapshot", 10),
    ];
    for (bucket, item, kind, seq) in entries {
        db.execute(
            "INSERT INTO bucket_entries (bucket, item, kind, entity, seq)
             VALUES (?1, ?2, ?3, 'visit', ?4)",
            args![bucket, item, kind, seq],
        )?;
    }
    db.execute("UPDATE counters SET value = 10 WHERE name = 'change'", &[])?;
    db.execute(
        "INSERT INTO seq_times (seq, at_ms) VALUES (5, ?1), (10, ?2)",
        args![T0_MS, T0_MS + 10 * 86_400_000],
    )?;
    Ok(())
}

fn store() -> (tempfile::TempDir, SqliteStore, Arc<SeededSources>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Utc.timestamp_millis_opt(T0_MS).single().expect("time");
    let sources = Arc::new(SeededSources::new(7, start));
    let store =
        SqliteStore::open_with_sources(&dir.path().join("s.db"), sources.clone()).expect("store");
    (dir, store, sources)
}

async fn strings(store: &SqliteStore, sql: &'static str) -> Vec<String> {
    store
        .run_read(move |db, _| db.query(sql, &[])?.iter().map(|r| r.text(0)).collect())
        .await
        .expect("query")
}

async fn check(
    store: &SqliteStore,
    device: u128,
    asked: &BTreeMap<String, i64>,
    reached: &BTreeMap<String, i64>,
) -> Vec<String> {
    let (asked, reached) = (asked.clone(), reached.clone());
    store
        .run(move |db, _| check_cursors(db, Uuid::from_u128(device), &asked, &reached))
        .await
        .expect("check")
}

#[tokio::test]
async fn old_removes_tombstones_and_resolved_conflicts_go_and_everything_else_stays() {
    let (_dir, store, sources) = store();
    store.run(|db, _| seed(db)).await.expect("seed");
    sources.advance(Duration::days(5));
    // Horizon 3 days: changes up to 5 (stamped at T0) are old; 10 (T0 + 10 days) is not.
    let report = store.compact(3 * 86_400_000).await.expect("compact");
    assert_eq!(
        report,
        CompactReport {
            horizon_seq: 5,
            removes: 1,
            tombstone_entries: 2,
            conflicts: 1,
            records: 1,
        }
    );
    let records = strings(&store, "SELECT id FROM records ORDER BY id").await;
    assert_eq!(
        records,
        vec![id(1), id(3)],
        "the live record and the recent delete stay"
    );
    let conflicts = strings(&store, "SELECT id FROM conflicts ORDER BY id").await;
    assert_eq!(conflicts, vec!["c2".to_string()], "the open conflict stays");
    let items = strings(&store, "SELECT item FROM bucket_entries ORDER BY seq").await;
    assert_eq!(items, vec![id(1), "c2".to_string(), id(3)]);
    assert_eq!(
        store.tombstone_ids().await.expect("tombstones"),
        [Uuid::from_u128(2)].into_iter().collect()
    );
    let horizons = strings(
        &store,
        "SELECT bucket || '=' || seq FROM bucket_horizons ORDER BY bucket",
    )
    .await;
    assert_eq!(horizons, vec!["team:a=4", "team:b=2"]);

    // Cursors: below a bucket's horizon (and above 0) must resync; at or above it, or 0, not.
    let asked = BTreeMap::from([
        ("team:a".to_string(), 3),
        ("team:b".to_string(), 2),
        ("team:c".to_string(), 1),
    ]);
    assert_eq!(check(&store, 1, &asked, &asked).await, vec!["team:a"]);
    let fresh = BTreeMap::from([("team:a".to_string(), 0), ("team:b".to_string(), 0)]);
    assert!(check(&store, 1, &fresh, &fresh).await.is_empty());

    // A pass from 0 that stops below the horizon goes on from where it stopped; another
    // device's cursor there, or this device's once the pass is over, is stale.
    let from_zero = BTreeMap::from([("team:a".to_string(), 0)]);
    let at_3 = BTreeMap::from([("team:a".to_string(), 3)]);
    let at_5 = BTreeMap::from([("team:a".to_string(), 5)]);
    assert!(check(&store, 2, &from_zero, &at_3).await.is_empty());
    assert!(
        check(&store, 2, &at_3, &at_3).await.is_empty(),
        "its own pass goes on"
    );
    assert_eq!(check(&store, 3, &at_3, &at_3).await, vec!["team:a"]);
    assert!(check(&store, 2, &at_3, &at_5).await.is_empty());
    assert_eq!(
        check(&store, 2, &at_3, &at_3).await,
        vec!["team:a"],
        "the pass ended"
    );

    let tomb = store
        .run_read(|db, _| {
            Ok((
                tombstoned(db, Uuid::from_u128(2))?,
                tombstoned(db, Uuid::from_u128(1))?,
            ))
        })
        .await
        .expect("tombstoned");
    assert_eq!(tomb, (true, false));

    // Again: nothing more is old enough; nothing changes.
    let again = store.compact(3 * 86_400_000).await.expect("compact");
    assert_eq!(
        again.removes + again.tombstone_entries + again.conflicts + again.records,
        0
    );
}

#[tokio::test]
async fn nothing_is_compacted_before_any_change_is_older_than_the_horizon() {
    let (_dir, store, _sources) = store();
    store.run(|db, _| seed(db)).await.expect("seed");
    let report = store.compact(3 * 86_400_000).await.expect("compact");
    assert_eq!(report, CompactReport::default());
    assert_eq!(strings(&store, "SELECT id FROM records").await.len(), 3);
}

#[tokio::test]
async fn an_admin_erasure_of_a_compacted_record_drops_its_kept_content() {
    let (_dir, store, sources) = store();
    store.run(|db, _| seed(db)).await.expect("seed");
    store
        .run(|db, _| {
            db.execute(
                "INSERT INTO retained (record_id, entity, fields, versions, review_due,
                     deleted_at) VALUES (?1, 'visit', '{}', '{}', '9999-12-31', 'then')",
                args![id(2)],
            )
        })
        .await
        .expect("retained");
    sources.advance(Duration::days(5));
    store.compact(3 * 86_400_000).await.expect("compact");
    assert_eq!(
        strings(&store, "SELECT record_id FROM retained").await,
        vec![id(2)],
        "compaction leaves the kept content to the erasure"
    );
    let erased = store
        .run(|db, sources| super::super::erase::erase(db, sources, Uuid::from_u128(2), "asked"))
        .await
        .expect("erase");
    assert!(erased);
    assert!(strings(&store, "SELECT record_id FROM retained")
        .await
        .is_empty());
    let unknown = store
        .run(|db, sources| super::super::erase::erase(db, sources, Uuid::from_u128(8), "asked"))
        .await
        .expect("erase");
    assert!(!unknown, "no record, no tombstone");
}
