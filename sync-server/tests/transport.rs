//! The server's transport settings (issue 11): its SQLite file and WAL are owner-only;
//! `/metrics` served apart is not on the API's router; the enrolment limit believes
//! `X-Forwarded-For` only from a trusted proxy (a spoofed header from anyone else is ignored).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use pocketbook_protocol::wire::PROTOCOL_HEADER;
use pocketbook_protocol::PROTOCOL_VERSION;
use pocketbook_sync_server::api::{routers, Transport};
use pocketbook_sync_server::store::{SqliteStore, Store};
use pocketbook_sync_server::Config;
use tower::ServiceExt;

#[cfg(unix)]
#[test]
fn the_sqlite_file_and_its_wal_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("server.db");
    let store = SqliteStore::open(&path).expect("store");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(store.add_team("T".into()))
        .expect("a write, so the WAL exists");
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("server.db{suffix}"));
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|_| panic!("{} exists", file.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "server.db{suffix} is owner-only");
    }
}

async fn get(app: &Router, path: &str) -> StatusCode {
    let request = Request::get(path)
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))))
        .body(Body::empty())
        .expect("request");
    app.clone().oneshot(request).await.expect("answer").status()
}

#[tokio::test]
async fn metrics_served_apart_are_not_on_the_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("server.db")).expect("store");
    let (api, none) = routers(store.clone(), Config::default(), Transport::default());
    assert!(none.is_none());
    assert_eq!(get(&api, "/metrics").await, StatusCode::OK);
    let apart = Transport {
        metrics_apart: true,
        ..Transport::default()
    };
    let (api, metrics) = routers(store, Config::default(), apart);
    let metrics = metrics.expect("a metrics router");
    assert_eq!(get(&api, "/metrics").await, StatusCode::NOT_FOUND);
    assert_eq!(get(&api, "/healthz").await, StatusCode::OK);
    assert_eq!(get(&metrics, "/metrics").await, StatusCode::OK);
    assert_eq!(
        get(&metrics, "/v1/openapi.json").await,
        StatusCode::NOT_FOUND
    );
}

/// An enrolment attempt with a wrong code from `peer`, claiming `forwarded`; its status.
async fn attempt(app: &Router, peer: [u8; 4], forwarded: &str) -> StatusCode {
    let body = serde_json::json!({
        "code": "WRONG-CODE",
        "device_id": uuid::Uuid::now_v7(),
        "device_name": "p",
    });
    let request = Request::post("/v1/enroll")
        .header("content-type", "application/json")
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .header("x-forwarded-for", forwarded)
        .extension(ConnectInfo(SocketAddr::from((peer, 40_000))))
        .body(Body::from(body.to_string()))
        .expect("request");
    app.clone().oneshot(request).await.expect("answer").status()
}

#[tokio::test]
async fn the_enrolment_limit_believes_forwarded_addresses_only_from_trusted_proxies() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The per-code count is the store's (ten a minute): these tests stay under it per code
    // by being counted per address first.
    let store = SqliteStore::open(&dir.path().join("server.db")).expect("store");
    let config = Config {
        enrol_per_minute: 2,
        ..Config::default()
    };
    let transport = Transport {
        trusted_proxies: vec!["10.0.0.0/8".parse().expect("cidr")],
        ..Transport::default()
    };
    let (app, _) = routers(store, config, transport);

    // An untrusted peer spoofing a new address each time is counted as itself.
    assert_eq!(
        attempt(&app, [192, 0, 2, 1], "203.0.113.1").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        attempt(&app, [192, 0, 2, 1], "203.0.113.2").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        attempt(&app, [192, 0, 2, 1], "203.0.113.3").await,
        StatusCode::TOO_MANY_REQUESTS,
        "a spoofed header from an untrusted peer is ignored"
    );

    // Behind the trusted proxy, each client is counted by its forwarded address.
    for client in 1..=3 {
        let forwarded = format!("198.51.100.{client}, 10.0.0.7");
        assert_eq!(
            attempt(&app, [10, 0, 0, 1], &forwarded).await,
            StatusCode::FORBIDDEN,
            "client {client} behind the proxy has its own allowance"
        );
    }
    assert_eq!(
        attempt(&app, [10, 0, 0, 1], "198.51.100.1").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        attempt(&app, [10, 0, 0, 1], "198.51.100.1").await,
        StatusCode::TOO_MANY_REQUESTS,
        "one forwarded client past its allowance"
    );
}

/// A `GET` over a plain TCP connection; the status line's code.
fn http_status(addr: &str, path: &str) -> u16 {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer");
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("status line")
}

/// A server process, killed when dropped.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_with_metrics_listen_answers_metrics_on_its_own_address_only() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_pocketbook-server"))
            .arg("--db")
            .arg(dir.path().join("server.db"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start server"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut address = |prefix: &str| {
        let line = lines.next().expect("a line").expect("utf-8");
        line.strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{line:?} starts with {prefix:?}"))
            .to_string()
    };
    let metrics = address("metrics on http://");
    let api = address("listening on http://");
    assert_eq!(http_status(&metrics, "/metrics"), 200);
    assert_eq!(http_status(&api, "/metrics"), 404);
    assert_eq!(http_status(&api, "/healthz"), 200);
}
