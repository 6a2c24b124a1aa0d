//! The transport bounds, attacked against a real `pocketbook-server` process over loopback:
//! compression bombs (gzip and zstd), an unknown encoding, the in-flight cap, the request and
//! header timeouts, 500 slow clients beside an honest sync, per-device rate limits with the
//! device retrying by itself, pull pages under their byte budget, error messages that never
//! repeat what was sent — and the server's peak memory after it all. Build the server first
//! (`cargo build -p pocketbook-sync-server`; `cargo test --workspace` does).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pocketbook_core::model::YoungPersonDraft;
use pocketbook_tests::server::TestDevice;
use pocketbook_tests::{http_client, person_draft, visit_draft};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

/// A deadline only a hang misses.
const HANG: Duration = Duration::from_secs(30);
/// Peak memory (VmHWM) a server may reach in these tests: about four times what it uses at
/// rest here; only memory that grows with an attack's size passes it.
const PEAK_KB: u64 = 256 * 1024;

fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join("pocketbook-server");
    assert!(
        path.exists(),
        "{} is missing: build it first (cargo build -p pocketbook-sync-server)",
        path.display()
    );
    path
}

/// A server process over a SQLite file with one team and one officer, killed when dropped.
struct Server {
    child: Child,
    url: String,
    addr: String,
    db: String,
    officer: String,
    _dir: tempfile::TempDir,
}

fn admin(db: &str, args: &[&str]) -> String {
    let out = Command::new(server_binary())
        .args(["--db", db])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run an admin command");
    assert!(out.status.success(), "{args:?} failed");
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

impl Server {
    fn start(flags: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("server.db").display().to_string();
        let team = admin(&db, &["team", "add", "Team A"]);
        let officer = admin(
            &db,
            &[
                "officer", "add", "--name", "PC One", "--number", "1", "--team", &team,
            ],
        );
        let mut child = Command::new(server_binary())
            .args(["--db", &db, "serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        let addr = url.trim_start_matches("http://").to_string();
        Server {
            child,
            url,
            addr,
            db,
            officer,
            _dir: dir,
        }
    }

    fn code(&self) -> String {
        admin(&self.db, &["code", "--officer", &self.officer])
    }

    /// A device token from a raw enrolment.
    async fn token(&self) -> String {
        let answer: Value = http_client()
            .post(format!("{}/v1/enroll", self.url))
            .header("pocketbook-protocol", "1")
            .json(&json!({"code": self.code(), "device_id": Uuid::now_v7(), "device_name": "raw"}))
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("enrol answer");
        answer["token"].as_str().expect("token").to_string()
    }

    /// An enrolled device with `visits` visits recorded offline, each with a narrative of
    /// `narrative` characters.
    async fn device(&self, visits: usize, narrative: usize) -> (TestDevice, Uuid) {
        let device = TestDevice::new();
        device
            .book
            .enroll(&self.url, &self.code())
            .await
            .expect("enrol");
        let person = device
            .book
            .add_young_person(YoungPersonDraft {
                establishment_id: None,
                ..person_draft()
            })
            .expect("young person");
        for i in 0..visits {
            let mut draft = visit_draft(person.id, i64::try_from(i).unwrap() + 1);
            draft.narrative = "word ".repeat(narrative / 5);
            device.book.record_visit(draft).expect("visit");
        }
        (device, person.id)
    }

    /// The server process's peak resident memory (kB).
    fn peak_kb(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM")
    }

    async fn healthy(&self) {
        let status = http_client()
            .get(format!("{}/healthz", self.url))
            .timeout(HANG)
            .send()
            .await
            .expect("health")
            .status();
        assert_eq!(status, StatusCode::OK);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post_raw(
    url: &str,
    token: &str,
    body: Vec<u8>,
    encoding: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = http_client()
        .post(url)
        .header("pocketbook-protocol", "1")
        .header("content-type", "application/json")
        .bearer_auth(token)
        .timeout(HANG)
        .body(body);
    if let Some(encoding) = encoding {
        request = request.header("content-encoding", encoding);
    }
    let response = request.send().await.expect("send");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn compression_bombs_are_refused_early_in_bounded_memory() {
    let server = Server::start(&[]);
    let token = server.token().await;
    let push = format!("{}/v1/sync/push", server.url);
    let gig = 1usize << 30;
    let zeros = vec![b' '; 1 << 20];
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..(gig / zeros.len()) {
        gz.write_all(&zeros).unwrap();
    }
    let gzip_bomb = gz.finish().unwrap();
    let mut zs = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    for _ in 0..(gig / zeros.len()) {
        zs.write_all(&zeros).unwrap();
    }
    let zstd_bomb = zs.finish().unwrap();
    // gzip's ratio stops near 1,000:1 (about 1 MB for 1 GiB); zstd's goes far beyond.
    eprintln!(
        "bombs of 1 GiB: gzip {} bytes, zstd {} bytes",
        gzip_bomb.len(),
        zstd_bomb.len()
    );
    assert!(zstd_bomb.len() < 1 << 20 && gzip_bomb.len() < 4 << 20);
    for (bomb, encoding) in [(gzip_bomb, "gzip"), (zstd_bomb, "zstd")] {
        let sent = Instant::now();
        let (status, _, body) = post_raw(&push, &token, bomb, Some(encoding)).await;
        eprintln!("{encoding} bomb answered {status} in {:?}", sent.elapsed());
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{encoding}");
        assert_eq!(body["code"], "too_large", "{encoding}");
        assert!(body["message"].is_string());
        server.healthy().await;
    }
    // An encoding the server does not decode: 415, JSON.
    let (status, _, body) = post_raw(&push, &token, b"{}".to_vec(), Some("br")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["code"], "unsupported_media_type");
    let peak = server.peak_kb();
    eprintln!("server peak after the bombs: {peak} kB");
    assert!(peak < PEAK_KB, "server peak {peak} kB after the bombs");
}

#[tokio::test(flavor = "multi_thread")]
async fn zstd_and_gzip_both_ways_and_the_device_syncs() {
    let server = Server::start(&[]);
    let token = server.token().await;
    let pull = format!("{}/v1/sync/pull", server.url);
    let body = serde_json::to_vec(&json!({"cursors": {}, "reference": true})).unwrap();
    for encoding in ["zstd", "gzip"] {
        let packed = match encoding {
            "zstd" => zstd::encode_all(&body[..], 3).unwrap(),
            _ => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&body).unwrap();
                gz.finish().unwrap()
            }
        };
        let response = reqwest::Client::builder()
            .no_gzip()
            .build()
            .unwrap()
            .post(&pull)
            .header("pocketbook-protocol", "1")
            .header("content-type", "application/json")
            .header("content-encoding", encoding)
            .header("accept-encoding", encoding)
            .bearer_auth(&token)
            .body(packed)
            .send()
            .await
            .expect("pull");
        assert_eq!(response.status(), StatusCode::OK, "{encoding}");
        assert_eq!(response.headers()["content-encoding"], encoding);
        let raw = response.bytes().await.unwrap();
        let plain = match encoding {
            "zstd" => zstd::decode_all(&raw[..]).unwrap(),
            _ => {
                let mut out = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
                    .unwrap();
                out
            }
        };
        let page: Value = serde_json::from_slice(&plain).expect("a pull page");
        assert!(page["epoch"].is_string());
    }
    // The device: its first answer comes in zstd, so its later pushes go in zstd.
    let (device, person) = server.device(20, 2_000).await;
    device.book.sync().await.expect("first sync");
    device
        .book
        .record_visit(visit_draft(person, 30))
        .expect("visit");
    device.book.sync().await.expect("sync in zstd");
    let (reader, _) = server.device(0, 0).await;
    reader.book.sync().await.expect("reader sync");
}

/// Opens a request whose head is complete but whose body never arrives.
async fn held_request(addr: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(
        b"POST /v1/enroll HTTP/1.1\r\nhost: x\r\npocketbook-protocol: 1\r\n\
          content-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"co",
    )
    .await
    .expect("write");
    tcp
}

async fn read_head(tcp: &mut TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(HANG, tcp.read(&mut buf))
        .await
        .expect("an answer before the deadline")
        .expect("read");
    String::from_utf8_lossy(&buf[..n]).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_in_flight_cap_answers_busy_and_a_slow_body_times_out() {
    // The held request keeps the one slot until its timeout: long enough that a loaded machine
    // still sees the cap refuse within it (at 2 s a busy test run once missed the window).
    let server = Server::start(&["--max-in-flight", "1", "--request-timeout-secs", "6"]);
    let mut held = held_request(&server.addr).await;
    let client = http_client();
    // Let the held request take the one slot.
    let started = Instant::now();
    loop {
        let response = client
            .get(format!("{}/healthz", server.url))
            .timeout(HANG)
            .send()
            .await
            .expect("health");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(response.headers().contains_key("retry-after"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "busy");
            break;
        }
        assert!(started.elapsed() < HANG, "the cap never refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The held request's body never comes: it is answered 408 at the request timeout.
    let head = read_head(&mut held).await;
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
    assert!(head.contains("\"timeout\""), "{head}");
    server.healthy().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_header_timeout_closes_idle_and_trickling_connections() {
    let server = Server::start(&["--header-timeout-secs", "1"]);
    let mut silent = TcpStream::connect(&server.addr).await.expect("connect");
    let mut partial = TcpStream::connect(&server.addr).await.expect("connect");
    partial.write_all(b"GET /heal").await.expect("write");
    for tcp in [&mut silent, &mut partial] {
        let mut buf = [0u8; 512];
        let closed = tokio::time::timeout(HANG, async {
            loop {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the server kept an idle connection open");
    }
    server.healthy().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn five_hundred_slow_clients_do_not_stop_an_honest_sync() {
    let server = Server::start(&["--header-timeout-secs", "20"]);
    let (device, _) = server.device(50, 500).await;
    let calm = Instant::now();
    device.book.sync().await.expect("sync without slow clients");
    let calm = calm.elapsed();
    let (other, _) = server.device(50, 500).await;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut slow = Vec::new();
    for _ in 0..500 {
        let tcp = TcpStream::connect(&server.addr)
            .await
            .expect("a slow connection");
        let stop = stop.clone();
        slow.push(tokio::spawn(async move {
            let mut tcp = tcp;
            let head = b"POST /v1/sync/pull HTTP/1.1\r\nhost: slow\r\n";
            for byte in head.iter().cycle() {
                if stop.load(std::sync::atomic::Ordering::Relaxed)
                    || tcp.write_all(&[*byte]).await.is_err()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }
    let busy = Instant::now();
    tokio::time::timeout(HANG, other.book.sync())
        .await
        .expect("the honest sync finished before the deadline")
        .expect("sync beside 500 slow clients");
    let busy = busy.elapsed();
    eprintln!(
        "honest sync (push 50 visits, pull 100): alone {calm:?}, beside 500 slow clients {busy:?}"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in slow {
        let _ = task.await;
    }
    server.healthy().await;
    let peak = server.peak_kb();
    eprintln!("server peak after 500 slow clients: {peak} kB");
    assert!(
        peak < PEAK_KB,
        "server peak {peak} kB after the slow clients"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_answer_429_and_the_device_retries_by_itself() {
    let server = Server::start(&[
        "--pull-burst",
        "1",
        "--pull-per-second",
        "1",
        "--push-burst",
        "1",
        "--push-per-second",
        "1",
    ]);
    let token = server.token().await;
    let pull = format!("{}/v1/sync/pull", server.url);
    let body = || serde_json::to_vec(&json!({"cursors": {}})).unwrap();
    let (status, _, _) = post_raw(&pull, &token, body(), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, answer) = post_raw(&pull, &token, body(), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer["code"], "rate_limited");
    assert_eq!(headers["retry-after"], "1");
    // A device syncing twice at once is refused on its second push and pull, waits and
    // retries, and both syncs complete.
    let (device, person) = server.device(5, 100).await;
    device.book.sync().await.expect("first sync");
    device
        .book
        .record_visit(visit_draft(person, 30))
        .expect("visit");
    tokio::time::timeout(HANG, device.book.sync())
        .await
        .expect("the retried sync finished")
        .expect("the retried sync");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pull_page_stays_under_its_byte_budget() {
    let server = Server::start(&[]);
    // 150 visits of ~19,000 characters of narrative: about 3 MB of snapshots.
    let (writer, _) = server.device(150, 19_000).await;
    writer.book.sync().await.expect("push the big visits");
    let token = server.token().await;
    let pull = format!("{}/v1/sync/pull", server.url);
    let mut cursors = json!({});
    let mut epoch = Value::Null;
    let (mut pages, mut snapshots) = (0, 0);
    loop {
        let (status, _, page) = post_raw(
            &pull,
            &token,
            serde_json::to_vec(&json!({"cursors": cursors, "epoch": epoch, "limit": 2000}))
                .unwrap(),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        pages += 1;
        let entries = page["entries"].as_array().expect("entries");
        let bytes: usize = entries
            .iter()
            .map(|e| e["fields"].to_string().len() + e["versions"].to_string().len())
            .sum();
        assert!(
            bytes <= 2 * 1024 * 1024 + 64 * 1024,
            "page of {bytes} bytes"
        );
        snapshots += entries.iter().filter(|e| e["type"] == "snapshot").count();
        cursors = page["cursors"].clone();
        epoch = page["epoch"].clone();
        if page["remaining"] == 0 {
            break;
        }
        assert!(pages < 20, "the cursor stopped moving");
    }
    assert!(pages >= 2, "one page held everything");
    assert_eq!(snapshots, 151, "150 visits and their young person");
    // And the device reads them all.
    let (reader, _) = server.device(0, 0).await;
    reader.book.sync().await.expect("reader sync");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_never_repeats_the_value_sent() {
    let server = Server::start(&[]);
    let token = server.token().await;
    let name = "Jessica Okonkwo-Smith";
    let (status, _, body) = post_raw(
        &format!("{}/v1/sync/pull", server.url),
        &token,
        serde_json::to_vec(&json!({"cursors": {}, "limit": name})).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "invalid_json");
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("limit"), "{message}");
    assert!(!message.contains("Jessica"), "{message}");
    let (status, _, body) = post_raw(
        &format!("{}/v1/sync/push", server.url),
        &token,
        serde_json::to_vec(&json!({"mutations": [{"entity": name}], "audit": []})).unwrap(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().expect("message");
    assert!(!message.contains("Jessica"), "{message}");
}
