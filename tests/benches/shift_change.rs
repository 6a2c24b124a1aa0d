//! Shift change: 1,000 devices in 100 teams of 10, bulk-provisioned by the admin command, each
//! holding a shift's records made offline (a young person, three visits, a concern, an
//! engagement), all arriving within 60 seconds to push and then pull, against one
//! `pocketbook-server` process on SQLite and on PostgreSQL. Reports errors, p50/p99 latency
//! per sync, mutations/s, the server's peak memory and the load generator's own CPU.
//!
//! ```sh
//! cargo build --release -p pocketbook-sync-server
//! scripts/with-postgres cargo bench -p pocketbook-tests --bench shift_change \
//!     [-- --teams 100 --per-team 10 --window 60 --backends sqlite,postgres]
//! ```
//! Target on a 2-core machine: 0 errors, p99 ≤ 1 s.

// Figures for a report: counts and durations turned into f64 rates lose nothing that matters.
#![allow(clippy::cast_precision_loss)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pocketbook_core::{OpenConfig, Pocketbook};
use pocketbook_tests::bench_data::{bench_arg, cpu_seconds, peak_rss_mb, quantile, record_shift};
use rand::{Rng, SeedableRng};
use serde_json::Value;

/// The release server binary beside this bench.
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("bench executable");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("pocketbook-server");
    assert!(
        path.exists(),
        "{} is missing: cargo build --release -p pocketbook-sync-server",
        path.display()
    );
    path
}

fn admin(db: &str, args: &[&str]) -> String {
    let out = Command::new(server_binary())
        .args(["--db", db, "--enrol-limit-per-minute", "100000"])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("admin command");
    assert!(
        out.status.success(),
        "admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str) -> Server {
    let mut child = Command::new(server_binary())
        .args(["--db", db, "--enrol-limit-per-minute", "100000"])
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    Server { child, url }
}

/// One officer's phone with a shift's records waiting to sync.
struct Phone {
    book: Pocketbook,
    _dir: tempfile::TempDir,
}

async fn phone(url: &str, code: &str) -> Phone {
    let dir = tempfile::tempdir().expect("temp dir");
    let book = Pocketbook::open(OpenConfig {
        db_path: dir.path().join("device.db"),
        key: pocketbook_tests::key(),
        device_name: "shift phone".into(),
    })
    .expect("open");
    book.enroll(url, code).await.expect("enrol");
    record_shift(&book);
    Phone { book, _dir: dir }
}

struct Outcome {
    errors: usize,
    p50: f64,
    p99: f64,
    max: f64,
    mutations_per_s: f64,
    server_peak_mb: f64,
    generator_cpu: f64,
    span: f64,
}

async fn run(db: &str, teams: u32, per_team: u32, window: f64) -> Outcome {
    admin(
        db,
        &[
            "establishment",
            "add",
            "--urn",
            "100001",
            "--name",
            "Northfield Academy",
            "--kind",
            "secondary",
        ],
    );
    let provisioned = admin(
        db,
        &[
            "provision",
            "--teams",
            &teams.to_string(),
            "--officers-per-team",
            &per_team.to_string(),
        ],
    );
    let server = serve(db);
    let codes: Vec<String> = provisioned
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("provision line")["code"]
                .as_str()
                .expect("code")
                .to_string()
        })
        .collect();
    eprintln!(
        "  enrolling {} phones and recording their shifts",
        codes.len()
    );
    let mut phones = Vec::new();
    for code in &codes {
        phones.push(Arc::new(phone(&server.url, code).await));
    }
    let mutations: usize = phones
        .iter()
        .map(|p| p.book.pending_changes().map(|c| c.len()).unwrap_or(0))
        .sum();
    eprintln!("  {mutations} mutations waiting; syncing within {window} s");
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for p in &phones {
        let at = Duration::from_secs_f64(rng.random_range(0.0..window));
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(started + at)).await;
            let t = Instant::now();
            let result = p.book.sync().await;
            (t.elapsed().as_secs_f64(), result.is_ok(), Instant::now())
        }));
    }
    let (mut latencies, mut errors, mut last) = (Vec::new(), 0, started);
    for t in tasks {
        let (latency, ok, ended) = t.await.expect("sync task");
        latencies.push(latency);
        errors += usize::from(!ok);
        last = last.max(ended);
    }
    let span = (last - started).as_secs_f64();
    let generator_cpu = (cpu_seconds() - cpu_before) / span;
    let server_peak_mb = peak_rss_mb(&server.child.id().to_string()).unwrap_or(f64::NAN);
    Outcome {
        errors,
        p50: quantile(&mut latencies, 0.5),
        p99: quantile(&mut latencies, 0.99),
        max: quantile(&mut latencies, 1.0),
        mutations_per_s: mutations as f64 / span,
        server_peak_mb,
        generator_cpu,
        span,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 8)]
async fn main() {
    let teams: u32 = bench_arg("--teams").map_or(100, |v| v.parse().expect("--teams"));
    let per_team: u32 = bench_arg("--per-team").map_or(10, |v| v.parse().expect("--per-team"));
    let window: f64 = bench_arg("--window").map_or(60.0, |v| v.parse().expect("--window"));
    let have_pg = std::env::var(pocketbook_tests::pg::PG_ENV).is_ok();
    let backends: Vec<String> = bench_arg("--backends")
        .unwrap_or_else(|| if have_pg { "sqlite,postgres" } else { "sqlite" }.into())
        .split(',')
        .map(str::to_string)
        .collect();
    println!("| backend | devices | errors | p50 | p99 | max | mutations/s | server peak RSS | generator CPU | span |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for backend in backends {
        eprintln!("{backend}:");
        let dir = tempfile::tempdir().expect("temp dir");
        let db = match backend.as_str() {
            "sqlite" => dir.path().join("server.db").display().to_string(),
            "postgres" => pocketbook_tests::pg::pg_database().await,
            other => panic!("unknown backend {other}"),
        };
        let o = run(&db, teams, per_team, window).await;
        println!(
            "| {backend} | {} | {} | {:.0} ms | {:.0} ms | {:.0} ms | {:.0} | {:.0} MB | {:.0} % of a core | {:.1} s |",
            teams * per_team,
            o.errors,
            o.p50 * 1e3,
            o.p99 * 1e3,
            o.max * 1e3,
            o.mutations_per_s,
            o.server_peak_mb,
            o.generator_cpu * 100.0,
            o.span
        );
    }
}
