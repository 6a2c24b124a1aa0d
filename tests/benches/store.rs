//! Store benchmarks (a bench binary; CI compiles it, `cargo bench` runs it):
//! 1. recording a visit — record, field versions, outbox entry and audit event, encrypted, in
//!    one transaction — against a bare rusqlite insert of the same row into an encrypted
//!    database with the same pragmas, one transaction each, the two sides timed in turn in
//!    blocks of writes;
//! 2. opening an encrypted store that holds 100k records.
//!
//! `cargo bench -p pocketbook-tests --bench store [-- --records N --writes N]`

// Figures for a report: counts and durations turned into f64 rates lose nothing that matters.
#![allow(clippy::cast_precision_loss)]

use std::time::{Duration, Instant};

use pocketbook_core::model::VisitFilter;
use pocketbook_core::Pocketbook;
use pocketbook_tests::{open_at, provisioning, visit_draft, KEY_HEX};

struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Stats { samples }
    }
    fn pct(&self, p: f64) -> Duration {
        // The nearest rank; sample counts are far below 2^52 and p is within 0..=1.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let i = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[i.min(self.samples.len() - 1)]
    }
    fn mean(&self) -> Duration {
        let n = u32::try_from(self.samples.len()).unwrap_or(u32::MAX).max(1);
        self.samples.iter().sum::<Duration>() / n
    }
    fn line(&self, name: &str) -> String {
        format!(
            "| {name} | {} | {:.1} µs | {:.1} µs | {:.1} µs | {:.1} µs |",
            self.samples.len(),
            self.mean().as_secs_f64() * 1e6,
            self.pct(0.5).as_secs_f64() * 1e6,
            self.pct(0.95).as_secs_f64() * 1e6,
            self.pct(0.99).as_secs_f64() * 1e6,
        )
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// SQLite appends one WAL frame (a 24-byte header and the page) for every page a transaction
/// dirties.
const WAL_FRAME: usize = 4096 + 24;
const PAGE_PROBE_WRITES: usize = 50;
/// Timed writes each side makes in turn.
const BLOCK: usize = 250;

/// A visit's row as the bare side inserts it: id, team, time, data, versions.
type BareRow = (String, String, String, String, String);

/// Pages each of `PAGE_PROBE_WRITES` writes dirties, in all and by table: the store's WAL is
/// emptied, the writes run (well under the 1,000-frame automatic checkpoint, so every frame
/// stays), and the frames' page numbers (SQLite's headers, not encrypted) are named through
/// `dbstat`.
fn pages_per_write(
    db: &std::path::Path,
    mut write: impl FnMut(usize),
) -> (f64, Vec<(String, f64)>) {
    let conn = pocketbook_tests::raw_connection(db);
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("checkpoint");
    for i in 0..PAGE_PROBE_WRITES {
        write(i);
    }
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = std::fs::read(wal).unwrap_or_default();
    let pages: Vec<u32> = bytes
        .get(32..)
        .unwrap_or_default()
        .chunks_exact(WAL_FRAME)
        .map(|frame| u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]))
        .collect();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for page in &pages {
        let name: String = conn
            .query_row("SELECT name FROM dbstat WHERE pageno = ?1", [page], |r| {
                r.get(0)
            })
            .unwrap_or_else(|_| format!("page {page} (header or free)"));
        *counts.entry(name).or_default() += 1;
    }
    let per_write = |n: usize| n as f64 / PAGE_PROBE_WRITES as f64;
    let mut split: Vec<_> = counts
        .into_iter()
        .map(|(name, n)| (name, per_write(n)))
        .collect();
    split.sort_by(|a, b| b.1.total_cmp(&a.1));
    (per_write(pages.len()), split)
}

fn new_book(dir: &std::path::Path, name: &str) -> Pocketbook {
    let book = open_at(&dir.join(name)).expect("open store");
    book.provision(&provisioning()).expect("provision");
    book
}

/// An encrypted database with the store's pragmas and the same records table, nothing else.
fn bare_connection(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open bare");
    conn.execute_batch(&format!(
        "PRAGMA cipher_log_level = 'NONE'; PRAGMA key = \"x'{KEY_HEX}'\";
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;
         CREATE TABLE records (id TEXT PRIMARY KEY, entity TEXT NOT NULL, team_id TEXT NOT NULL,
             marking TEXT NOT NULL, happened_at TEXT NOT NULL, deleted INTEGER NOT NULL DEFAULT 0,
             data TEXT NOT NULL, versions TEXT NOT NULL);
         CREATE INDEX records_by_entity ON records (entity, happened_at);"
    ))
    .expect("bare schema");
    conn
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing; there are no tests here.
    }
    // Whatever the system is still writing back (a build just before, say) lands first, so the
    // checkpoints timed below do not share the disk with it.
    pocketbook_tests::bench_data::flush_writeback();
    let writes = arg("--writes", 3_000);
    let records = arg("--records", 100_000);
    let dir = tempfile::tempdir().expect("temp dir");

    // 1. Write path.
    let book = new_book(dir.path(), "write.db");
    let person = book
        .add_young_person(pocketbook_tests::person_draft())
        .expect("person")
        .id;
    let warm = 200;
    let raw = pocketbook_tests::raw_connection(&dir.path().join("write.db"));
    let bare = bare_connection(&dir.path().join("bare.db"));
    // The bare side inserts exactly the rows the store wrote: same ids, data and versions.
    let record = |ids: &mut Vec<String>| {
        let t = Instant::now();
        let visit = book
            .record_visit(visit_draft(person, 1))
            .expect("record visit");
        let elapsed = t.elapsed();
        ids.push(visit.id.to_string());
        elapsed
    };
    let rows_of = |ids: &[String]| -> Vec<BareRow> {
        let mut stmt = raw
            .prepare_cached(
                "SELECT id, team_id, happened_at, data, versions FROM records WHERE id = ?1",
            )
            .expect("select row");
        ids.iter()
            .map(|id| {
                stmt.query_row([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .expect("row written")
            })
            .collect()
    };
    let bare_insert = |row: &BareRow| {
        let t = Instant::now();
        let (id, team, happened, data, versions) = row;
        let tx = bare.unchecked_transaction().expect("begin");
        tx.execute(
            "INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data,
                                  versions) VALUES (?1, 'visit', ?2, 'OFFICIAL', ?3, 0, ?4, ?5)",
            rusqlite::params![id, team, happened, data, versions],
        )
        .expect("bare insert");
        tx.commit().expect("commit");
        t.elapsed()
    };
    // Pages dirtied per write, after each store has `warm` records: the same rows both sides.
    let mut ids = Vec::new();
    for _ in 0..warm {
        record(&mut ids);
    }
    let (our_pages, our_split) = pages_per_write(&dir.path().join("write.db"), |_| {
        record(&mut ids);
    });
    let probed = rows_of(&ids);
    for row in &probed[..warm] {
        bare_insert(row);
    }
    let (bare_pages, bare_split) = pages_per_write(&dir.path().join("bare.db"), |i| {
        bare_insert(&probed[warm + i]);
    });
    // Timed: the two sides in turn, a block of writes each, so whatever the machine does
    // meanwhile falls on both alike; each block of the bare side inserts the rows the block of
    // `record_visit` before it wrote. A first round of `warm` writes each is not timed.
    let mut ours = Vec::with_capacity(writes);
    let mut bare_times = Vec::with_capacity(writes);
    let mut done = 0;
    let mut warming = true;
    while done < writes {
        let block = if warming {
            warm
        } else {
            BLOCK.min(writes - done)
        };
        let mut ids = Vec::with_capacity(block);
        let times: Vec<Duration> = (0..block).map(|_| record(&mut ids)).collect();
        let bare_block: Vec<Duration> = rows_of(&ids).iter().map(bare_insert).collect();
        if !warming {
            ours.extend(times);
            bare_times.extend(bare_block);
            done += block;
        }
        warming = false;
    }
    let ours = Stats::new(ours);
    let bare_stats = Stats::new(bare_times);
    println!("| operation | n | mean | p50 | p95 | p99 |\n|---|---|---|---|---|---|");
    println!(
        "{}",
        ours.line("record_visit (record + versions + outbox + audit)")
    );
    println!(
        "{}",
        bare_stats.line("bare encrypted insert of the same row")
    );
    println!(
        "\nratio (mean): {:.2}x   ratio (p50): {:.2}x",
        ours.mean().as_secs_f64() / bare_stats.mean().as_secs_f64(),
        ours.pct(0.5).as_secs_f64() / bare_stats.pct(0.5).as_secs_f64()
    );
    println!(
        "pages dirtied per write (WAL frames over {PAGE_PROBE_WRITES} writes): record_visit {our_pages:.1}, bare insert {bare_pages:.1}"
    );
    for (side, split) in [("record_visit", our_split), ("bare insert", bare_split)] {
        let per_write: Vec<String> = split
            .iter()
            .map(|(name, n)| format!("{name} {n:.2}"))
            .collect();
        println!(
            "  {side}, pages per write by table: {}",
            per_write.join(", ")
        );
    }
    drop(book);

    // 2. Opening a store of `records` records.
    let path = dir.path().join("large.db");
    {
        let book = new_book(dir.path(), "large.db");
        let person = book
            .add_young_person(pocketbook_tests::person_draft())
            .expect("person")
            .id;
        let t = Instant::now();
        for _ in 1..records {
            book.record_visit(visit_draft(person, 2)).expect("fill");
        }
        println!(
            "\nfilled a store with {records} records in {:.1} s ({:.0} recorded visits/s, one transaction each)",
            t.elapsed().as_secs_f64(),
            records as f64 / t.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut opens = Vec::new();
    let mut open_and_read = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let book = open_at(&path).expect("open large");
        opens.push(t.elapsed());
        let session = book.session().expect("session");
        let latest = book
            .visits(&VisitFilter {
                since: Some(chrono::Utc::now() - chrono::Duration::minutes(90)),
                ..VisitFilter::default()
            })
            .expect("visits");
        open_and_read.push(t.elapsed());
        assert_eq!(session.officer.id, pocketbook_tests::OFFICER);
        assert!(latest.is_empty());
    }
    let opens = Stats::new(opens);
    println!(
        "\nstore of {records} records, {:.1} MB on disk\n| operation | n | mean | p50 | p95 | p99 |\n|---|---|---|---|---|---|",
        size as f64 / 1e6
    );
    println!(
        "{}",
        opens.line("Pocketbook::open (key check, migrations check)")
    );
    let reads = Stats::new(open_and_read);
    println!(
        "{}",
        reads.line("open + session + list the last 90 min of visits (index range)")
    );
}
