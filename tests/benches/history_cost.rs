//! Cost grows with the work, not the history: a device pushes 10 changes and pulls 10 new
//! changes from a server holding 1k changes and from one holding 1M, on SQLite and on
//! PostgreSQL; reports the median and p90 of each and the ratio 1M / 1k (target ≤ 1.2).
//! The store is driven directly (no HTTP), so the figures are the server's own cost.
//!
//! `scripts/with-postgres cargo bench -p pocketbook-tests --bench history_cost`
//! `  [-- --history 1000,1000000 --rounds 200 --backends sqlite,postgres]`
//! Without `POCKETBOOK_TEST_PG` (set by scripts/with-postgres) only SQLite runs.

// Figures for a report: counts and durations turned into f64 rates lose nothing that matters.
#![allow(clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use pocketbook_protocol::wire::{team_bucket, PullRequest};
use pocketbook_protocol::Role;
use pocketbook_sync_server::store::{PostgresOptions, SqliteStore, Store};
use pocketbook_tests::bench_data::{bench_arg, quantile, visit_template, VisitMaker};
use pocketbook_tests::pg::pg_store;
use pocketbook_tests::store_fixture::{officer, phone, Phone};

/// Where the head change number is read from.
enum Head {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Head {
    async fn read(&self) -> u64 {
        match self {
            Head::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open");
                conn.query_row(
                    "SELECT value FROM counters WHERE name = 'change'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .expect("head")
                .try_into()
                .expect("a change counter is never negative")
            }
            Head::Postgres(url) => {
                pocketbook_tests::pg::with_client(url, |c| {
                    c.query_one("SELECT value FROM counters WHERE name = 'change'", &[])
                        .expect("head")
                        .get::<_, i64>(0)
                        .try_into()
                        .expect("a change counter is never negative")
                })
                .await
            }
        }
    }
}

/// Medians and p90s (seconds) of pushing 10 and pulling 10.
struct Figures {
    push_p50: f64,
    push_p90: f64,
    pull_p50: f64,
    pull_p90: f64,
    seed_rate: f64,
}

/// A seeded store with a writer and a reader whose cursor is at the head.
struct Seeded<S> {
    store: S,
    writer: Phone,
    reader: Phone,
    maker: VisitMaker,
    epoch: String,
    cursors: BTreeMap<String, u64>,
    seed_rate: f64,
    pushes: Vec<f64>,
    pulls: Vec<f64>,
}

async fn seed<S: Store>(store: S, head: Head, history: u64) -> Seeded<S> {
    let team = store.add_team("T".into()).await.expect("team").id;
    let writer_officer = officer(&store, Role::Officer, &[team]).await;
    let reader_officer = officer(&store, Role::Officer, &[team]).await;
    let writer = phone(&store, &writer_officer).await;
    let reader = phone(&store, &reader_officer).await;
    let mut maker = VisitMaker::new(
        visit_template(),
        7,
        writer_officer.id,
        team,
        writer.device.device_id,
    )
    .bytes(300);
    let started = Instant::now();
    let mut seeded = 0u64;
    while seeded < history {
        let n = (history - seeded).min(1_000);
        let batch: Vec<_> = (0..n).map(|_| maker.next_visit()).collect();
        writer.push(&store, batch).await;
        seeded += n;
        if seeded.is_multiple_of(100_000) {
            eprintln!("  seeded {seeded}");
        }
    }
    let seed_rate = history as f64 / started.elapsed().as_secs_f64();
    let epoch = store.identity().await.expect("identity").1;
    let cursors: BTreeMap<String, u64> = [(team_bucket(team), head.read().await)].into();
    Seeded {
        store,
        writer,
        reader,
        maker,
        epoch,
        cursors,
        seed_rate,
        pushes: Vec::new(),
        pulls: Vec::new(),
    }
}

impl<S: Store> Seeded<S> {
    /// Pushes 10 new changes and pulls them; keeps the times unless warming up.
    async fn round(&mut self, keep: bool) {
        let batch: Vec<_> = (0..10).map(|_| self.maker.next_visit()).collect();
        let t = Instant::now();
        self.writer.push(&self.store, batch).await;
        let push = t.elapsed().as_secs_f64();
        let t = Instant::now();
        // The server's work for a page: serve it and write the bytes it sends.
        let served = self
            .store
            .serve_pull(
                self.reader.device.clone(),
                PullRequest {
                    epoch: Some(self.epoch.clone()),
                    cursors: self.cursors.clone(),
                    limit: Some(500),
                    reference: false,
                    common_version: true,
                },
            )
            .await
            .expect("pull");
        let sent = serde_json::to_vec(&served).expect("page JSON");
        let pull = t.elapsed().as_secs_f64();
        let page: pocketbook_protocol::wire::PullResponse =
            serde_json::from_slice(&sent).expect("the page as a device reads it");
        assert_eq!(
            page.entries.len(),
            10,
            "the pull returns just the new changes"
        );
        self.cursors = page.cursors;
        if keep {
            self.pushes.push(push);
            self.pulls.push(pull);
        }
    }

    fn figures(&mut self) -> Figures {
        Figures {
            push_p50: quantile(&mut self.pushes, 0.5),
            push_p90: quantile(&mut self.pushes, 0.9),
            pull_p50: quantile(&mut self.pulls, 0.5),
            pull_p90: quantile(&mut self.pulls, 0.9),
            seed_rate: self.seed_rate,
        }
    }
}

/// Seeds one store per history size, then measures them in interleaved rounds so that
/// whatever else the machine does weighs on every size alike.
async fn measure_all<S: Store>(
    stores: Vec<(S, Head)>,
    history: &[u64],
    rounds: usize,
) -> Vec<Figures> {
    let mut seeded = Vec::new();
    for ((store, head), n) in stores.into_iter().zip(history) {
        eprintln!("  seeding {n} changes");
        seeded.push(seed(store, head, *n).await);
    }
    for round in 0..rounds + 5 {
        for s in seeded.iter_mut() {
            s.round(round >= 5).await;
        }
    }
    seeded.iter_mut().map(Seeded::figures).collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let history: Vec<u64> = bench_arg("--history")
        .unwrap_or_else(|| "1000,1000000".into())
        .split(',')
        .map(|v| v.parse().expect("--history: numbers"))
        .collect();
    let rounds: usize = bench_arg("--rounds").map_or(200, |v| v.parse().expect("--rounds"));
    let have_pg = std::env::var(pocketbook_tests::pg::PG_ENV).is_ok();
    let backends: Vec<String> = bench_arg("--backends")
        .unwrap_or_else(|| if have_pg { "sqlite,postgres" } else { "sqlite" }.into())
        .split(',')
        .map(str::to_string)
        .collect();
    println!(
        "| backend | history | push 10 p50 | push 10 p90 | pull 10 p50 | pull 10 p90 | seeding |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    let mut dirs = Vec::new();
    for backend in &backends {
        eprintln!("{backend}:");
        let figures = match backend.as_str() {
            "sqlite" => {
                let mut stores = Vec::new();
                for _ in &history {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let path = dir.path().join("server.db");
                    stores.push((
                        SqliteStore::open(&path).expect("sqlite"),
                        Head::Sqlite(path),
                    ));
                    dirs.push(dir);
                }
                measure_all(stores, &history, rounds).await
            }
            "postgres" => {
                let mut stores = Vec::new();
                for _ in &history {
                    let (store, url) = pg_store(PostgresOptions::default()).await;
                    stores.push((store, Head::Postgres(url)));
                }
                measure_all(stores, &history, rounds).await
            }
            other => panic!("unknown backend {other}"),
        };
        for (n, figures) in history.iter().zip(figures) {
            println!(
                "| {backend} | {n} | {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} changes/s |",
                figures.push_p50 * 1e3,
                figures.push_p90 * 1e3,
                figures.pull_p50 * 1e3,
                figures.pull_p90 * 1e3,
                figures.seed_rate
            );
            rows.push((backend.clone(), *n, figures));
        }
    }
    println!();
    for backend in &backends {
        let of = |n: u64| {
            rows.iter()
                .find(|r| &r.0 == backend && r.1 == n)
                .map(|r| &r.2)
        };
        if let (Some(small), Some(large)) = (
            history.iter().min().and_then(|n| of(*n)),
            history.iter().max().and_then(|n| of(*n)),
        ) {
            println!(
                "{backend}: ratio largest/smallest history — push {:.2}, pull {:.2} (target ≤ 1.2)",
                large.push_p50 / small.push_p50,
                large.pull_p50 / small.pull_p50
            );
        }
    }
}
