//! SQLite (SQLCipher) is built to ask the C library for an allocation's size
//! (`HAVE_MALLOC_USABLE_SIZE`, set for every build in `.cargo/config.toml`) instead of keeping
//! it in an 8-byte prefix of its own. The prefix costs a size class on most of a sort's small
//! records: a first sync's index build at a million records held about 16 MB more with it
//! (`BENCHMARKS.md`). This watches the build setting take effect, by the memory an index
//! build's in-memory sort takes per row. One test in its own binary: it reads the process's
//! peak resident memory, which nothing else may move meanwhile.

#![cfg(target_os = "linux")]

use pocketbook_tests::bench_data::peak_rss_mb;

/// Rows sorted: enough that the sort's memory stands well clear of anything else.
const ROWS: u32 = 200_000;
/// The key's length: with the record's header, the row id and the sorter's own 16 bytes, 54
/// or 55 bytes asked for each row — a 64-byte block of glibc's without a prefix (at most 56
/// bytes fit one), an 80-byte one with it.
const KEY_LEN: usize = 33;

#[test]
fn an_index_builds_sort_takes_no_size_prefix_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("sort.db")).unwrap();
    // As the store keeps it: temporary storage in memory, so the sort never spills to a file;
    // a small page cache, so the table's pages are not what grows.
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY; PRAGMA cache_size = -256;
         CREATE TABLE t (k TEXT NOT NULL);",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = tx.prepare("INSERT INTO t (k) VALUES (?1)").unwrap();
        for i in 0..ROWS {
            // Keys in no order, each exactly KEY_LEN bytes.
            let key = format!("{:0width$}", (i * 7_919) % ROWS, width = KEY_LEN);
            insert.execute([key]).unwrap();
        }
    }
    tx.commit().unwrap();

    let before = peak_rss_mb("self").unwrap();
    conn.execute_batch("CREATE INDEX t_by_k ON t (k)").unwrap();
    let per_row = (peak_rss_mb("self").unwrap() - before) * 1024.0 * 1024.0 / f64::from(ROWS);

    // 64 bytes a row without the prefix (and a little for the rest of the statement), 80
    // with it.
    assert!(
        (56.0..72.0).contains(&per_row),
        "the index build's sort took {per_row:.0} bytes a row: is SQLite built with \
         HAVE_MALLOC_USABLE_SIZE (.cargo/config.toml)?"
    );
}
