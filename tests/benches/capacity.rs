//! Server capacity: how many officers' shift changes one server takes, with the guard's limits
//! on (issue 13). A real encrypted device records a shift (a young person, three visits, a
//! concern, an engagement) and syncs it through a recording transport; its push is then
//! replayed by a light load generator for every officer of a bulk-provisioned force, each an
//! enrolled device of its own, with the ids rewritten (device, officer, team, a fresh id for
//! each record), its numbering continued and its audit chain re-hashed, so the server checks
//! and stores exactly what a real phone would send. Each replayed shift is a push of the six
//! mutations and their audit events, then a pull of the officer's team and the reference data,
//! page by page, as the core does.
//!
//! First the goal: `--devices` (10,000) devices whose shifts arrive at random instants spread
//! over `--window` seconds (60). Then, from the goal's rate, the arrival rate is stepped up by
//! a quarter while the load is met (p99 ≤ 1 s, no request failed) or down by a quarter while
//! it is not (`--step-secs` long, devices reused, each syncing on from where it stopped) until
//! the answer turns: the server's knee lies between the last two rates. Every backend in `--backends`:
//! `sqlite` (one process), `postgres` (one process), `postgres3` (three processes on one
//! database, devices spread over them as a load balancer would).
//!
//! ```sh
//! cargo build --release -p pocketbook-sync-server
//! scripts/with-postgres cargo bench -p pocketbook-tests --bench capacity \
//!     [-- --devices 10000 --window 60 --step-secs 20 --backends sqlite,postgres,postgres3]
//! ```
//! Goal on this machine: 10,000 shifts within 60 s, 0 errors of any kind (429 and 503
//! count), p99 ≤ 1 s, on one SQLite server process.

// Figures for a report: counts and durations turned into f64 rates lose nothing that matters.
#![allow(clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use pocketbook_core::{OpenConfig, Pocketbook};
use pocketbook_protocol::wire::{
    AckedPosition, EnrollRequest, EnrollResponse, PullRequest, PushOutcome, PushRequest,
    PushResponse, PROTOCOL_HEADER,
};
use pocketbook_protocol::GENESIS_HASH;
use pocketbook_tests::bench_data::{
    bench_arg, command_cpu_seconds, cpu_seconds, peak_rss_mb, process_cpu_seconds, quantile,
    record_shift,
};
use pocketbook_tests::http_transport::HttpTransport;
use pocketbook_tests::process_server::server_binary;
use rand::{Rng, SeedableRng};
use serde::de::IgnoredAny;
use serde::Deserialize;
use uuid::Uuid;

/// Officers in each provisioned team (a team pulls its officers' shifts).
const TEAM_SIZE: u32 = 10;
/// The page size the core asks for.
const PULL_PAGE: u32 = 1_000;
/// Steps of the arrival rate at most.
const MAX_STEPS: usize = 10;
/// Each step's rate over the last: up while the load is met, down while it is not.
const STEP_UP: f64 = 1.25;
const STEP_DOWN: f64 = 0.75;

/// The enrolment limit for setting up (enrolment is not what is measured: ten thousand
/// devices enrol from one address here). Every other limit stays at its default.
const ENROL_LIMIT: &str = "1000000";

fn admin(db: &str, args: &[&str]) -> String {
    let out = Command::new(server_binary())
        .args(["--db", db, "--enrol-limit-per-minute", ENROL_LIMIT])
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

/// A server process, killed when dropped.
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

impl Server {
    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

fn serve(db: &str) -> Server {
    let mut child = Command::new(server_binary())
        .args(["--db", db, "--enrol-limit-per-minute", ENROL_LIMIT])
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

/// One provisioned officer: `team_id`, `officer_id`, `code`.
#[derive(Deserialize)]
struct Provisioned {
    team_id: Uuid,
    officer_id: Uuid,
    code: String,
}

fn provision(db: &str, teams: u32, per_team: u32, prefix: &str) -> Vec<Provisioned> {
    admin(
        db,
        &[
            "provision",
            "--teams",
            &teams.to_string(),
            "--officers-per-team",
            &per_team.to_string(),
            "--prefix",
            prefix,
        ],
    )
    .lines()
    .map(|l| serde_json::from_str(l).expect("provision line"))
    .collect()
}

/// A real device's shift push, as recorded, and the ids to rewrite in it.
struct Template {
    /// The push body, decompressed JSON.
    push: String,
    /// Whether the device sent it in zstd (else gzip).
    zstd: bool,
    /// Its headers but the device's own token and the length.
    headers: Vec<(String, String)>,
    device: Uuid,
    officer: Uuid,
    team: Uuid,
    records: Vec<Uuid>,
    /// When it was recorded (its versions are moved on by the time since).
    recorded_ms: u64,
}

fn unpack(body: &[u8], zstd: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if zstd {
        zstd::stream::read::Decoder::new(body)
            .expect("zstd")
            .read_to_end(&mut out)
            .expect("unzstd");
    } else {
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("gunzip");
    }
    out
}

fn pack(body: &[u8], zstd: bool) -> Vec<u8> {
    if zstd {
        zstd::stream::encode_all(body, 3).expect("zstd")
    } else {
        let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut out, body).expect("gzip");
        out.finish().expect("gzip")
    }
}

/// Records a shift on a real encrypted device and syncs it through a recording
/// [`HttpTransport`].
async fn record_template(url: &str, who: &Provisioned) -> Template {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut book = Pocketbook::open(OpenConfig {
        db_path: dir.path().join("device.db"),
        key: pocketbook_tests::key(),
        device_name: "recorded phone".into(),
    })
    .expect("open");
    let recorder = Arc::new(HttpTransport::new(url));
    book.set_transport(recorder.clone());
    book.enroll(url, &who.code).await.expect("enrol");
    record_shift(&book);
    let records: Vec<Uuid> = book
        .pending_changes()
        .expect("outbox")
        .iter()
        .map(|m| m.record_id)
        .collect();
    let recorded_ms = pocketbook_protocol::unix_millis(Utc::now());
    let report = book.sync().await.expect("recorded sync");
    assert_eq!(report.pushed, 6, "the recorded shift pushes six mutations");
    let sent = recorder.sent();
    let push = sent
        .iter()
        .find(|r| r.path == "/v1/sync/push")
        .expect("a recorded push");
    let zstd = push
        .headers
        .iter()
        .any(|(n, v)| n == "content-encoding" && v == "zstd");
    let body = String::from_utf8(unpack(&push.body, zstd)).expect("utf-8 push");
    let recorded: PushRequest = serde_json::from_str(&body).expect("recorded push");
    assert_eq!(recorded.mutations.len(), 6, "one push carries the shift");
    Template {
        push: body,
        zstd,
        headers: push
            .headers
            .iter()
            .filter(|(n, _)| n != "authorization" && n != "content-length")
            .cloned()
            .collect(),
        device: book.device_id().expect("device id"),
        officer: who.officer_id,
        team: who.team_id,
        records,
        recorded_ms,
    }
}

/// Where one replaying device stands, as its own store would hold it.
struct DeviceState {
    seq: u64,
    audit_seq: u64,
    audit_head: String,
    cursors: BTreeMap<String, u64>,
    epoch: Option<String>,
}

/// One enrolled officer's phone, replayed.
struct Device {
    id: Uuid,
    officer: Uuid,
    team: Uuid,
    token: String,
    /// The server (of several) it syncs with.
    url: String,
    state: tokio::sync::Mutex<DeviceState>,
}

/// The template's push rewritten as `device`'s next shift.
fn next_shift(t: &Template, device: &Device, s: &DeviceState) -> PushRequest {
    let mut text = t
        .push
        .replace(&t.device.to_string(), &device.id.to_string())
        .replace(&t.officer.to_string(), &device.officer.to_string())
        .replace(&t.team.to_string(), &device.team.to_string());
    for record in &t.records {
        text = text.replace(&record.to_string(), &Uuid::now_v7().to_string());
    }
    let mut push: PushRequest = serde_json::from_str(&text).expect("rewritten push");
    let later = pocketbook_protocol::unix_millis(Utc::now()).saturating_sub(t.recorded_ms);
    for m in &mut push.mutations {
        m.seq += s.seq;
        // A version is written in its own compact form, not as a plain id: its node (the
        // device) is set here.
        m.version.hlc.millis += later;
        m.version.node = device.id;
        for v in m.versions.iter_mut().flat_map(|vs| vs.values_mut()) {
            v.hlc.millis += later;
            v.node = device.id;
        }
    }
    let mut head = s.audit_head.clone();
    for e in &mut push.audit {
        e.seq += s.audit_seq;
        e.prev_hash = head;
        e.hash = e.compute_hash();
        head = e.hash.clone();
    }
    push.acked = Some(AckedPosition {
        seq: s.seq,
        audit_seq: s.audit_seq,
        audit_head: s.audit_head.clone(),
    });
    if s.epoch.is_some() {
        push.epoch.clone_from(&s.epoch);
    }
    push
}

/// What went wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Failure {
    Status(u16),
    Transport,
    Refused,
}

/// What a pull page says about what is left (the entries are counted, not decoded).
#[derive(Deserialize)]
struct PageHead {
    epoch: String,
    entries: Vec<IgnoredAny>,
    cursors: BTreeMap<String, u64>,
    remaining: u64,
}

/// The generator: one HTTP client for every device (keep-alive across devices, as behind a
/// force's reverse proxy).
struct Generator {
    client: reqwest::Client,
    template: Template,
}

impl Generator {
    async fn post(&self, device: &Device, path: &str, body: &[u8]) -> Result<Vec<u8>, Failure> {
        let mut request = self
            .client
            .post(format!("{}{path}", device.url))
            .bearer_auth(&device.token);
        for (name, value) in &self.template.headers {
            request = request.header(name, value);
        }
        let answer = request
            .body(pack(body, self.template.zstd))
            .send()
            .await
            .map_err(|_| Failure::Transport)?;
        let status = answer.status().as_u16();
        let zstd = answer
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v.as_bytes() == b"zstd");
        let gzip = answer
            .headers()
            .get("content-encoding")
            .is_some_and(|v| v.as_bytes() == b"gzip");
        let raw = answer.bytes().await.map_err(|_| Failure::Transport)?;
        if status != 200 {
            return Err(Failure::Status(status));
        }
        Ok(if zstd || gzip {
            unpack(&raw, zstd)
        } else {
            raw.to_vec()
        })
    }

    /// One shift: push, then pull the team page by page. The device's state moves on only
    /// as far as the server acknowledged.
    async fn shift(&self, device: &Device) -> Result<usize, Failure> {
        let mut s = device.state.lock().await;
        let push = next_shift(&self.template, device, &s);
        let body = serde_json::to_vec(&push).expect("push json");
        let answer = self.post(device, "/v1/sync/push", &body).await?;
        let answer: PushResponse = serde_json::from_slice(&answer).map_err(|_| Failure::Refused)?;
        let applied = answer
            .results
            .iter()
            .all(|r| matches!(r.outcome, PushOutcome::Applied));
        let last = push.mutations.last().map_or(s.seq, |m| m.seq);
        if !applied || answer.results.len() != push.mutations.len() || answer.acked_seq != last {
            return Err(Failure::Refused);
        }
        s.seq = last;
        if let Some(e) = push.audit.last() {
            s.audit_seq = e.seq;
            s.audit_head.clone_from(&e.hash);
        }
        let (mut reference, mut pulled) = (true, 0);
        loop {
            let request = PullRequest {
                epoch: s.epoch.clone(),
                cursors: s.cursors.clone(),
                limit: Some(PULL_PAGE),
                reference,
                common_version: true,
            };
            let body = serde_json::to_vec(&request).expect("pull json");
            let page = self.post(device, "/v1/sync/pull", &body).await?;
            let page: PageHead = serde_json::from_slice(&page).map_err(|_| Failure::Refused)?;
            s.cursors = page.cursors;
            s.epoch = Some(page.epoch);
            reference = false;
            pulled += page.entries.len();
            if page.remaining == 0 || page.entries.is_empty() {
                return Ok(pulled);
            }
        }
    }
}

async fn enrol(client: &reqwest::Client, url: &str, who: &Provisioned) -> Device {
    let id = Uuid::now_v7();
    let request = EnrollRequest {
        code: who.code.clone(),
        device_id: id,
        device_name: "replayed phone".into(),
        token: None,
    };
    let answer = client
        .post(format!("{url}/v1/enroll"))
        .header(
            PROTOCOL_HEADER,
            pocketbook_protocol::PROTOCOL_VERSION.to_string(),
        )
        .json(&request)
        .send()
        .await
        .expect("enrol");
    assert!(answer.status().is_success(), "enrol: {}", answer.status());
    let answer: EnrollResponse = answer.json().await.expect("enrol answer");
    Device {
        id,
        officer: who.officer_id,
        team: who.team_id,
        token: answer.token,
        url: url.to_string(),
        state: tokio::sync::Mutex::new(DeviceState {
            seq: 0,
            audit_seq: 0,
            audit_head: GENESIS_HASH.to_string(),
            cursors: BTreeMap::new(),
            epoch: None,
        }),
    }
}

/// What one load (a set of arrivals) measured.
struct Load {
    devices: usize,
    failures: BTreeMap<Failure, usize>,
    /// Records pulled by a shift, on average.
    pulled: f64,
    p50: f64,
    p99: f64,
    max: f64,
    span: f64,
    server_cpu: f64,
    db_cpu: f64,
    generator_cpu: f64,
}

impl Load {
    fn errors(&self) -> usize {
        self.failures.values().sum()
    }

    fn failures_text(&self) -> String {
        if self.failures.is_empty() {
            return "0".into();
        }
        self.failures
            .iter()
            .map(|(f, n)| match f {
                Failure::Status(code) => format!("{n} × {code}"),
                Failure::Transport => format!("{n} × no answer"),
                Failure::Refused => format!("{n} × refused"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs `count` shifts of `devices` (round robin from `first`), arriving at random instants
/// over `window` seconds; latency is from each shift's arrival to its last pull page.
async fn load(
    generator: &Arc<Generator>,
    devices: &[Arc<Device>],
    first: usize,
    count: usize,
    window: f64,
    servers: &[Server],
    seed: u64,
) -> Load {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let server_cpu = || -> f64 {
        servers
            .iter()
            .filter_map(|s| process_cpu_seconds(&s.pid(), false))
            .sum()
    };
    let (server_before, db_before, own_before) =
        (server_cpu(), command_cpu_seconds("postgres"), cpu_seconds());
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in 0..count {
        let device = devices[(first + i) % devices.len()].clone();
        let generator = generator.clone();
        let at = started + Duration::from_secs_f64(rng.random_range(0.0..window));
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
            let result = generator.shift(&device).await;
            let ended = Instant::now();
            (ended.duration_since(at).as_secs_f64(), result, ended)
        }));
    }
    let (mut latencies, mut failures, mut last) = (Vec::new(), BTreeMap::new(), started);
    let mut pulled = 0;
    for task in tasks {
        let (latency, result, ended) = task.await.expect("shift task");
        latencies.push(latency);
        match result {
            Ok(n) => pulled += n,
            Err(f) => *failures.entry(f).or_insert(0) += 1,
        }
        last = last.max(ended);
    }
    let span = (last - started).as_secs_f64();
    Load {
        devices: count,
        failures,
        pulled: pulled as f64 / count.max(1) as f64,
        p50: quantile(&mut latencies, 0.5),
        p99: quantile(&mut latencies, 0.99),
        max: quantile(&mut latencies, 1.0),
        span,
        server_cpu: (server_cpu() - server_before) / span,
        db_cpu: (command_cpu_seconds("postgres") - db_before) / span,
        generator_cpu: (cpu_seconds() - own_before) / span,
    }
}

fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// One backend: set up, record, enrol, the goal load, then the steps.
async fn backend(
    name: &str,
    db: &str,
    processes: usize,
    devices: u32,
    window: f64,
    step: f64,
) -> (String, Vec<String>) {
    let postgres = db.starts_with("postgres");
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
    let recorder = provision(db, 1, 1, "Recorded team")
        .pop()
        .expect("a recorded officer");
    let force = provision(db, devices.div_ceil(TEAM_SIZE), TEAM_SIZE, "Load team");
    let servers: Vec<Server> = (0..processes).map(|_| serve(db)).collect();
    let template = record_template(&servers[0].url, &recorder).await;
    eprintln!(
        "  {name}: recorded a shift push of {} bytes ({}); enrolling {} devices",
        template.push.len(),
        if template.zstd { "zstd" } else { "gzip" },
        force.len()
    );
    let client = pocketbook_tests::http_client();
    let force = Arc::new(force);
    let mut fleet: Vec<Arc<Device>> = Vec::with_capacity(force.len());
    for chunk in (0..force.len()).collect::<Vec<_>>().chunks(32) {
        let mut tasks = Vec::new();
        for &i in chunk {
            let (client, force) = (client.clone(), force.clone());
            let url = servers[i % servers.len()].url.clone();
            tasks.push(tokio::spawn(async move {
                enrol(&client, &url, &force[i]).await
            }));
        }
        for t in tasks {
            fleet.push(Arc::new(t.await.expect("enrol task")));
        }
    }
    let generator = Arc::new(Generator { client, template });
    let db_cpu = |l: &Load| {
        if postgres {
            percent(l.db_cpu)
        } else {
            "in the server".into()
        }
    };

    eprintln!("  {name}: {} shifts over {window} s", fleet.len());
    let goal = load(&generator, &fleet, 0, fleet.len(), window, &servers, 13).await;
    let rss: f64 = servers
        .iter()
        .filter_map(|s| peak_rss_mb(&s.pid()))
        .fold(0.0, f64::max);
    let goal_row = format!(
        "| {name} | {processes} | {} | {window:.0} s | {} | {:.0} | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} s | {} | {} | {rss:.0} MB | {} |",
        goal.devices,
        goal.failures_text(),
        goal.pulled,
        goal.p50 * 1e3,
        goal.p99 * 1e3,
        goal.max * 1e3,
        goal.span,
        percent(goal.server_cpu),
        db_cpu(&goal),
        percent(goal.generator_cpu),
    );

    // From the goal's rate, step up while the load is met (p99 ≤ 1 s, no error) and down while
    // it is not, until the answer turns: the knee lies between the last two rates.
    let met = |l: &Load| l.p99 <= 1.0 && l.errors() == 0;
    let goal_rate = fleet.len() as f64 / window;
    let upwards = met(&goal);
    let factor = if upwards { STEP_UP } else { STEP_DOWN };
    let mut steps = Vec::new();
    let mut rate = goal_rate * factor;
    let (mut passing, mut failing) = if upwards {
        (Some(goal_rate), None)
    } else {
        (None, Some(goal_rate))
    };
    let mut next = fleet.len();
    for i in 0..MAX_STEPS {
        tokio::time::sleep(Duration::from_secs(2)).await;
        // Counts of devices: far below 2^52, and positive.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let count = (rate * step).round() as usize;
        eprintln!("  {name}: step {}: {rate:.0} shifts/s", i + 1);
        let l = load(
            &generator,
            &fleet,
            next,
            count,
            step,
            &servers,
            100 + i as u64,
        )
        .await;
        next += count;
        steps.push(format!(
            "| {name} | {processes} | {rate:.0} | {:.0} | {} | {} | {:.0} | {:.0} ms | {:.0} ms | {:.0} ms | {} | {} | {} |",
            rate * 6.0,
            l.devices,
            l.failures_text(),
            l.pulled,
            l.p50 * 1e3,
            l.p99 * 1e3,
            l.max * 1e3,
            percent(l.server_cpu),
            db_cpu(&l),
            percent(l.generator_cpu),
        ));
        if met(&l) {
            passing = Some(rate);
        } else {
            failing = Some(rate);
        }
        if met(&l) != upwards {
            break;
        }
        rate *= factor;
    }
    let shown = |r: Option<f64>| r.map_or_else(|| "not reached".into(), |r| format!("{r:.0}"));
    steps.push(format!(
        "| {name} | {processes} | knee: met at {} shifts/s, not at {} | | | | | | | | | | |",
        shown(passing),
        shown(failing)
    ));
    (goal_row, steps)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let devices: u32 = bench_arg("--devices").map_or(10_000, |v| v.parse().expect("--devices"));
    let window: f64 = bench_arg("--window").map_or(60.0, |v| v.parse().expect("--window"));
    let step: f64 = bench_arg("--step-secs").map_or(20.0, |v| v.parse().expect("--step-secs"));
    let have_pg = std::env::var(pocketbook_tests::pg::PG_ENV).is_ok();
    let backends: Vec<String> = bench_arg("--backends")
        .unwrap_or_else(|| {
            if have_pg {
                "sqlite,postgres,postgres3"
            } else {
                "sqlite"
            }
            .into()
        })
        .split(',')
        .map(str::to_string)
        .collect();
    let (mut goals, mut steps) = (Vec::new(), Vec::new());
    for name in &backends {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db, processes) = match name.as_str() {
            "sqlite" => (dir.path().join("server.db").display().to_string(), 1),
            "postgres" => (pocketbook_tests::pg::pg_database().await, 1),
            "postgres3" => (pocketbook_tests::pg::pg_database().await, 3),
            other => panic!("unknown backend {other}"),
        };
        let (goal, stepped) = backend(name, &db, processes, devices, window, step).await;
        goals.push(goal);
        steps.extend(stepped);
        drop(dir);
    }
    println!("| backend | processes | shifts | window | errors | records pulled a shift | p50 | p99 | max | span | server CPU | database CPU | server peak RSS | generator CPU |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in goals {
        println!("{row}");
    }
    println!();
    println!("| backend | processes | shifts/s | mutations/s | shifts | errors | records pulled a shift | p50 | p99 | max | server CPU | database CPU | generator CPU |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in steps {
        println!("{row}");
    }
}
