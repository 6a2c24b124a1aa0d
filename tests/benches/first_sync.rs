//! First sync: a fresh, encrypted device enrols and pulls 100k visit records (about 600 bytes of
//! JSON each, narratives from a varied vocabulary) from a real server over HTTP on loopback.
//! Reports records/s applied, the client's peak RSS (the client is a separate process: this
//! binary run again in client mode) and bytes on the wire per record against the same records
//! as uncompressed JSON. In the same run, the same records are pulled by a fresh PouchDB client
//! from a CouchDB-protocol server (`bench/pouchdb`, express-pouchdb, both on disk) and the
//! ratios are printed. Then the device, holding every record, is opened five times and synced
//! eleven times each, each sync bringing ten new visits, in turn with a device of another team
//! on the same server holding 1,000 records drawn alike (synced the same way, so whatever the
//! machine does meanwhile falls on both): the median of the syncs after each opening's first is
//! the cost of an ordinary sync at that size, and its ratio to the small device's is the
//! scaling figure; the first after opening (with SQLite's page cache empty; the system's file
//! cache stays warm) is reported apart (`FIRST_SYNC_EACH=1` prints every one).
//!
//! `--against N` (for the 1M runs, N = 100000) also seeds a third team with N visits drawn
//! alike and then times fresh devices' first syncs of the two teams in turn, [`SCALING_ROUNDS`]
//! of each (ordered small, large, large, small, …, each on a flushed disk), so that the
//! per-record time at the large size is judged against the small one's in the same run and on
//! the same server, as medians: single first syncs a minute apart varied by a quarter and more
//! on this machine (the same code gave a 1M first sync at ×1.05 and ×1.32 the 100k time).
//!
//! `cargo bench -p pocketbook-tests --bench first_sync [-- --records 100000 --no-peer]`
//! Each visit names a young person of its own (ids in time order, so every chronology link is
//! appended); `--young-people N` draws them from N instead, as a force's records are, so the
//! links land at random places in their index.
//! For profiling, `FIRST_SYNC_HOLD=1` seeds, serves and prints the client's environment line
//! instead of running it (run the client by hand, e.g. under `perf record`; it prints one line
//! for each of [`HELD_CODES`] enrolment codes, each good for one fresh device), and
//! `FIRST_SYNC_SERVER_ONLY=1` also times an in-process pull of every page (no HTTP, no device;
//! its replica keeps every record in memory, so at 1M its own work grows with them: not a
//! measure of the server alone).
//! Targets on a 2-core machine: ≥ 35k records/s, ≤ 100 MB, ≤ 130 bytes per record; against
//! PouchDB at least 10× the records/s with half the memory.

// Figures for a report: counts and durations turned into f64 rates lose nothing that matters.
#![allow(clippy::cast_precision_loss)]

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use pocketbook_core::{OpenConfig, Pocketbook};
use pocketbook_protocol::Role;
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::store::{SqliteStore, Store};
use pocketbook_tests::bench_data::{
    bench_arg, flush_writeback, peak_rss_mb, quantile, visit_template, VisitMaker,
};
use pocketbook_tests::store_fixture::{officer, phone};
use serde_json::{json, Value};

const CLIENT_ENV: &str = "POCKETBOOK_FIRST_SYNC_CLIENT";
/// Where the client keeps its store (so the bench can sync it again afterwards); a temporary
/// directory of its own when unset.
const CLIENT_DB_ENV: &str = "POCKETBOOK_FIRST_SYNC_DB";
/// Set for a client that only times its first sync, without reading every record back.
const NO_READ_BACK_ENV: &str = "POCKETBOOK_FIRST_SYNC_NO_READ_BACK";
/// Enrolment codes `FIRST_SYNC_HOLD=1` prints: one client run each, against the same server.
const HELD_CODES: usize = 12;
/// Times the device's store is opened, once it holds everything, for syncs of ten new changes.
const OPENINGS: usize = 5;
/// Syncs of ten new changes timed after the first one following each opening.
const ROUNDS_PER_OPENING: usize = 10;

/// Client mode: enrol a fresh encrypted store, time one sync, print one JSON line.
async fn client(spec: &str) {
    let (url, code) = spec.split_once(' ').expect("client spec: URL CODE");
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = std::env::var(CLIENT_DB_ENV)
        .map_or_else(|_| dir.path().join("device.db"), std::path::PathBuf::from);
    let book = reopen(&db_path);
    book.enroll(url, code).await.expect("enrol");
    let rss_before = peak_rss_mb("self").unwrap_or(f64::NAN);
    let started = Instant::now();
    let report = book.sync().await.expect("sync");
    let seconds = started.elapsed().as_secs_f64();
    let peak = peak_rss_mb("self");
    // Every record pulled must read back as a visit (after the memory reading), unless the
    // run only times first syncs (reading a million back takes as long as pulling them).
    let held = if std::env::var_os(NO_READ_BACK_ENV).is_some() {
        None
    } else {
        Some(
            book.visits(&Default::default())
                .map(|v| v.len())
                .unwrap_or(0),
        )
    };
    println!(
        "{}",
        json!({
            "peer": "pocketbook",
            "records": report.pulled,
            "records_held": held,
            "seconds": seconds,
            "records_per_s": report.pulled as f64 / seconds,
            "client_peak_rss_mb": peak,
            "client_rss_before_sync_mb": rss_before,
            "wire_bytes": report.bytes_received,
            "wire_bytes_per_record": report.bytes_received as f64 / report.pulled.max(1) as f64,
        })
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Ok(spec) = std::env::var(CLIENT_ENV) {
        client(&spec).await;
        return;
    }
    let records: u64 = bench_arg("--records").map_or(100_000, |v| v.parse().expect("--records"));
    let with_peer = !std::env::args().any(|a| a == "--no-peer");
    let young_people: usize =
        bench_arg("--young-people").map_or(0, |v| v.parse().expect("--young-people"));
    let against: Option<u64> = bench_arg("--against").map(|v| v.parse().expect("--against"));
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("server.db")).expect("server store");
    let team = store.add_team("Team A".into()).await.expect("team").id;
    let author = officer(&store, Role::Officer, &[team]).await;
    let reader = officer(&store, Role::Officer, &[team]).await;
    let writer = phone(&store, &author).await;

    eprintln!("seeding {records} visits");
    let jsonl = dir.path().join("records.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&jsonl).expect("jsonl"));
    let mut maker = VisitMaker::new(
        visit_template(),
        42,
        author.id,
        team,
        writer.device.device_id,
    )
    .young_people(young_people);
    let (mut seeded, mut json_bytes) = (0u64, 0u64);
    while seeded < records {
        let n = (records - seeded).min(1_000);
        let batch: Vec<_> = (0..n).map(|_| maker.next_visit()).collect();
        for m in &batch {
            let mut doc = serde_json::Map::new();
            doc.insert("id".into(), json!(m.record_id));
            doc.extend(m.fields.clone());
            let line = Value::Object(doc).to_string();
            json_bytes += line.len() as u64;
            writeln!(out, "{line}").expect("write jsonl");
        }
        writer.push(&store, batch).await;
        seeded += n;
    }
    out.flush().expect("flush");
    drop(out);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let server_url = url.clone();
    tokio::spawn(pocketbook_sync_server::serve(
        listener,
        store.clone(),
        Default::default(),
        std::future::pending(),
    ));
    let code = code_for(&store, &reader).await;
    if std::env::var("FIRST_SYNC_SERVER_ONLY").is_ok() {
        let t = Instant::now();
        let mut replica = pocketbook_tests::store_fixture::Replica::default();
        replica.pull_all(&store, &writer.device, 1_000).await;
        eprintln!(
            "server side: {} records in {:.2}s",
            replica.records.len(),
            t.elapsed().as_secs_f64()
        );
    }

    if std::env::var("FIRST_SYNC_HOLD").is_ok() {
        // For profiling: run the client by hand with one of these specs, e.g. under perf.
        println!("{CLIENT_ENV}='{url} {code}'");
        for _ in 1..HELD_CODES {
            let code = code_for(&store, &reader).await;
            println!("{CLIENT_ENV}='{url} {code}'");
        }
        tokio::time::sleep(std::time::Duration::from_secs(900)).await;
        return;
    }
    eprintln!("pulling with a fresh device");
    let device_db = dir.path().join("device.db");
    let ours = run_client(&url, &code, Some(&device_db), true).await;
    let json_per_record = json_bytes as f64 / records as f64;
    println!("{ours}");
    println!(
        "pocketbook: {:.0} records/s, peak RSS {:.1} MB, {:.0} bytes/record on the wire vs {:.0} bytes/record as JSON",
        ours["records_per_s"].as_f64().unwrap_or(f64::NAN),
        ours["client_peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
        ours["wire_bytes_per_record"].as_f64().unwrap_or(f64::NAN),
        json_per_record
    );
    assert_eq!(ours["records"], json!(records), "every record arrived");
    assert_eq!(
        ours["records_held"],
        json!(records),
        "every record reads back"
    );
    if let Some(against) = against {
        scaling(&store, &server_url, team, records, against, young_people).await;
    }

    // The device now holds every record: time a sync that brings ten new ones, as an officer's
    // phone does all day long, whatever it already holds, against a device of the same server
    // holding `SMALL` records of another team (drawn alike), the two synced in turn so that
    // whatever the machine does meanwhile falls on both alike. The first sync after a store is
    // opened also reads the upper pages of its indexes into the page cache; the ones after it
    // are the ordinary syncs of an app left open. Both are timed, over several openings.
    let mut small = Small::enrol(&store, &dir, &server_url, young_people, records).await;
    // The system is still writing back what the first syncs (and the seeding) wrote, a gigabyte
    // and more at 1M: that lands first, so the syncs timed below do not share the disk with it
    // (a phone's first sync is long written back by its next one).
    flush_writeback();
    let mut large = Timings::default();
    let mut small_times = Timings::default();
    let each = std::env::var("FIRST_SYNC_EACH").is_ok();
    for _ in 0..OPENINGS {
        let book = reopen(&device_db);
        let small_book = reopen(&small.db);
        for round in 0..=ROUNDS_PER_OPENING {
            let took = sync_ten(&store, &writer, &mut maker, &book).await;
            let took_small = sync_ten(&store, &small.writer, &mut small.maker, &small_book).await;
            if each {
                eprintln!(
                    "round {round}: {:.2} ms ({SMALL} records: {:.2} ms)",
                    took * 1e3,
                    took_small * 1e3
                );
            }
            large.push(round, took);
            small_times.push(round, took_small);
        }
    }
    let (ordinary, first) = large.medians();
    let (small_ordinary, small_first) = small_times.medians();
    println!(
        "pocketbook: a sync bringing 10 new changes to a device holding {records} records: median {:.2} ms, p90 {:.2} ms (of {} with the store open); the first after opening the store: median {:.2} ms (of {OPENINGS})",
        ordinary * 1e3,
        quantile(&mut large.ordinary, 0.9) * 1e3,
        large.ordinary.len(),
        first * 1e3,
    );
    println!(
        "pocketbook: the same, in turn with it, to a device holding {SMALL} records: median {:.2} ms, p90 {:.2} ms; the first after opening: median {:.2} ms; ratio {records} / {SMALL}: x{:.2} (the first after opening: x{:.2})",
        small_ordinary * 1e3,
        quantile(&mut small_times.ordinary, 0.9) * 1e3,
        small_first * 1e3,
        ordinary / small_ordinary,
        first / small_first,
    );

    if !with_peer {
        return;
    }
    let peer_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/pouchdb");
    if !peer_dir.join("node_modules").exists() {
        eprintln!("installing the PouchDB harness (npm ci)");
        let status = Command::new("npm")
            .args(["ci", "--silent"])
            .current_dir(&peer_dir)
            .status()
            .expect("npm");
        assert!(status.success(), "npm ci failed");
    }
    eprintln!("pulling the same records with PouchDB");
    let peer = Command::new("node")
        .arg("run.js")
        .arg("--records")
        .arg(&jsonl)
        .current_dir(&peer_dir)
        .output()
        .expect("node");
    let theirs: Value = serde_json::from_slice(
        peer.stdout
            .split(|b| *b == b'\n')
            .find(|l| l.starts_with(b"{"))
            .unwrap_or_else(|| {
                panic!(
                    "PouchDB harness said: {}",
                    String::from_utf8_lossy(&peer.stderr)
                )
            }),
    )
    .expect("peer JSON");
    println!("{theirs}");
    let ratio = |key: &str| {
        ours[key].as_f64().unwrap_or(f64::NAN) / theirs[key].as_f64().unwrap_or(f64::NAN)
    };
    println!(
        "ours / PouchDB: records/s ×{:.1}, peak RSS ×{:.2}, wire bytes per record ×{:.2}",
        ratio("records_per_s"),
        ratio("client_peak_rss_mb"),
        ratio("wire_bytes_per_record")
    );
}

/// Records held by the small device the large one is compared with.
const SMALL: u64 = 1_000;

/// A second team on the same server with [`SMALL`] visits, and a device of one of its officers
/// that has pulled them.
struct Small {
    db: std::path::PathBuf,
    writer: pocketbook_tests::store_fixture::Phone,
    maker: VisitMaker,
}

impl Small {
    /// Seeds the team (its young people in the same proportion to its visits as the large
    /// team's) and pulls it onto a fresh device.
    async fn enrol(
        store: &SqliteStore,
        dir: &tempfile::TempDir,
        url: &str,
        young_people: usize,
        records: u64,
    ) -> Small {
        let team = SeededTeam::seed(store, "Team B", 7, SMALL, young_people, records).await;
        let reader = officer(store, Role::Officer, &[team.id]).await;
        let code = code_for(store, &reader).await;
        let db = dir.path().join("small.db");
        let book = reopen(&db);
        book.enroll(url, &code)
            .await
            .expect("enrol the small device");
        let report = book.sync().await.expect("first sync of the small device");
        assert_eq!(
            report.pulled, SMALL,
            "the small device holds its team's visits"
        );
        Small {
            db,
            writer: team.writer,
            maker: team.maker,
        }
    }
}

/// A team of the bench's server, seeded with visits, and what writes more of them.
struct SeededTeam {
    id: uuid::Uuid,
    writer: pocketbook_tests::store_fixture::Phone,
    maker: VisitMaker,
}

impl SeededTeam {
    /// Adds team `name` and pushes `n` visits from an officer's phone, a thousand at a time,
    /// drawn alike to the large team's (`records` visits of `young_people`, 0: a young person
    /// each) with their young people in the same proportion to the visits; `seed` keeps teams'
    /// visits apart.
    async fn seed(
        store: &SqliteStore,
        name: &str,
        seed: u64,
        n: u64,
        young_people: usize,
        records: u64,
    ) -> SeededTeam {
        let id = store.add_team(name.into()).await.expect("team").id;
        let author = officer(store, Role::Officer, &[id]).await;
        let writer = phone(store, &author).await;
        let pool = if young_people == 0 {
            0
        } else {
            usize::try_from((young_people as u64 * n).div_ceil(records.max(1)))
                .unwrap_or(1)
                .max(1)
        };
        let mut maker = VisitMaker::new(
            visit_template(),
            seed,
            author.id,
            id,
            writer.device.device_id,
        )
        .young_people(pool);
        let mut pushed = 0;
        while pushed < n {
            let batch: Vec<_> = (0..(n - pushed).min(1_000))
                .map(|_| maker.next_visit())
                .collect();
            pushed += batch.len() as u64;
            writer.push(store, batch).await;
        }
        SeededTeam { id, writer, maker }
    }
}

/// A fresh enrolment code for one new device of `officer`.
async fn code_for(store: &SqliteStore, officer: &pocketbook_protocol::Officer) -> String {
    let code = new_code();
    store
        .add_code(officer.id, code_hash(&code), 3600)
        .await
        .expect("code");
    code
}

/// Runs this binary as a fresh device's client (a process of its own, so its peak RSS is its
/// own): it enrols with `code` at `url`, times its first sync and says so in one JSON line,
/// returned. Its store is at `db` (kept) or in a temporary directory of its own (removed);
/// `read_back` reads every record back after the sync.
async fn run_client(url: &str, code: &str, db: Option<&std::path::Path>, read_back: bool) -> Value {
    let exe = std::env::current_exe().expect("this binary");
    let mut command = Command::new(exe);
    command.env(CLIENT_ENV, format!("{url} {code}"));
    if let Some(db) = db {
        command.env(CLIENT_DB_ENV, db);
    }
    if !read_back {
        command.env(NO_READ_BACK_ENV, "1");
    }
    let output = tokio::task::spawn_blocking(move || command.output().expect("run client"))
        .await
        .expect("client task");
    serde_json::from_slice(
        output
            .stdout
            .split(|b| *b == b'\n')
            .find(|l| l.starts_with(b"{"))
            .unwrap_or_else(|| panic!("client said: {}", String::from_utf8_lossy(&output.stderr))),
    )
    .expect("client JSON")
}

/// Fresh-device first syncs timed at each size in turn ([`SCALING_ROUNDS`] of each).
const SCALING_ROUNDS: usize = 5;

/// Seeds a team of `against` visits drawn alike beside the large team (of `records`), then
/// times fresh devices' first syncs of the two in turn, each after the disk is flushed, and
/// prints each one's records/s, the medians and the ratio of per-record times.
async fn scaling(
    store: &SqliteStore,
    url: &str,
    large_team: uuid::Uuid,
    records: u64,
    against: u64,
    young_people: usize,
) {
    eprintln!("seeding {against} visits of a third team");
    let small_team = SeededTeam::seed(store, "Team C", 11, against, young_people, records)
        .await
        .id;

    // Per-record seconds at the small size and at the large one, and the peak RSS of all.
    let (mut small, mut large) = (Vec::new(), Vec::new());
    let mut peak_rss = 0f64;
    for round in 0..SCALING_ROUNDS {
        let mut order = [(small_team, against, false), (large_team, records, true)];
        if round % 2 == 1 {
            order.reverse();
        }
        for (team, n, is_large) in order {
            let reader = officer(store, Role::Officer, &[team]).await;
            let code = code_for(store, &reader).await;
            flush_writeback();
            let got = run_client(url, &code, None, false).await;
            assert_eq!(got["records"], json!(n), "every record arrived");
            let seconds = got["seconds"].as_f64().unwrap_or(f64::NAN);
            peak_rss = peak_rss.max(got["client_peak_rss_mb"].as_f64().unwrap_or(f64::NAN));
            eprintln!(
                "first sync of {n} records: {:.0} records/s",
                n as f64 / seconds
            );
            if is_large { &mut large } else { &mut small }.push(seconds / n as f64);
        }
    }
    let rates = |per_record: &[f64]| {
        per_record
            .iter()
            .map(|s| format!("{:.0}", 1.0 / s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (small_each, large_each) = (rates(&small), rates(&large));
    let small_median = quantile(&mut small, 0.5);
    let large_median = quantile(&mut large, 0.5);
    println!(
        "pocketbook: fresh devices' first syncs in turn, {SCALING_ROUNDS} of each: {records} records at {:.0} records/s (median of {large_each}), {against} records at {:.0} records/s (median of {small_each}); peak RSS {peak_rss:.1} MB; per-record time {records} / {against}: x{:.2}",
        1.0 / large_median,
        1.0 / small_median,
        large_median / small_median,
    );
}

/// Opens a device's store (made on the first open).
fn reopen(db: &std::path::Path) -> Pocketbook {
    Pocketbook::open(OpenConfig {
        db_path: db.to_path_buf(),
        key: pocketbook_tests::key(),
        device_name: "first sync bench".into(),
    })
    .expect("open the device")
}

/// Pushes ten new visits from `writer` and times the sync of `book` that brings them.
async fn sync_ten(
    store: &SqliteStore,
    writer: &pocketbook_tests::store_fixture::Phone,
    maker: &mut VisitMaker,
    book: &Pocketbook,
) -> f64 {
    let ten: Vec<_> = (0..10).map(|_| maker.next_visit()).collect();
    writer.push(store, ten).await;
    let started = Instant::now();
    let report = book.sync().await.expect("sync ten");
    let took = started.elapsed().as_secs_f64();
    assert_eq!(report.pulled, 10, "ten new records arrive");
    took
}

/// One device's timed syncs: the first after each opening, and the others.
#[derive(Default)]
struct Timings {
    firsts: Vec<f64>,
    ordinary: Vec<f64>,
}

impl Timings {
    fn push(&mut self, round: usize, took: f64) {
        if round == 0 {
            &mut self.firsts
        } else {
            &mut self.ordinary
        }
        .push(took);
    }

    /// The medians of the ordinary syncs and of the firsts.
    fn medians(&mut self) -> (f64, f64) {
        (
            quantile(&mut self.ordinary, 0.5),
            quantile(&mut self.firsts, 0.5),
        )
    }
}
