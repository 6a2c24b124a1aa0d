//! Several `pocketbook-server` processes share one PostgreSQL (DESIGN §6): three real server
//! processes on their own ports, devices enrolling and syncing through different ones, all
//! converging; one conflict made across two servers; the enrolment rate limit counted across
//! all of them, because every piece of server state lives in the database.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use pocketbook_core::model::VisitUpdate;
use pocketbook_protocol::wire::{EnrollRequest, PROTOCOL_HEADER};
use pocketbook_protocol::Role;
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::store::{PostgresOptions, PostgresStore, Store};
use pocketbook_tests::pg::pg_database;
use pocketbook_tests::server::{test_school, TestDevice};
use pocketbook_tests::{person_draft, visit_draft};
use uuid::Uuid;

/// The server binary the test command builds before the tests run.
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

/// A server process, killed when dropped.
struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    /// Starts `n` servers on one database at the same moment (so they race to migrate it),
    /// then waits for each to listen.
    fn start_together(db: &str, n: usize) -> Vec<ServerProcess> {
        let children: Vec<Child> = (0..n)
            .map(|_| {
                Command::new(server_binary())
                    .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("start server")
            })
            .collect();
        children
            .into_iter()
            .map(|mut child| {
                let stdout = child.stdout.take().expect("stdout");
                let mut line = String::new();
                BufReader::new(stdout)
                    .read_line(&mut line)
                    .expect("read the listening line");
                let url = line
                    .trim()
                    .strip_prefix("listening on ")
                    .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
                    .to_string();
                ServerProcess { child, url }
            })
            .collect()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn devices_syncing_through_three_servers_on_one_database_converge() {
    let db = pg_database().await;
    let servers = ServerProcess::start_together(&db, 3);
    let admin_url = db.clone();
    let admin = tokio::task::spawn_blocking(move || {
        PostgresStore::connect(&admin_url, PostgresOptions::default())
    })
    .await
    .expect("task")
    .expect("admin store");
    let team = admin.add_team("Team A".into()).await.expect("team").id;
    let school = Uuid::now_v7();
    admin
        .put_establishments(vec![test_school(school)])
        .await
        .expect("establishment");
    let http = pocketbook_tests::http_client();
    for s in &servers {
        let health = http
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .expect("healthz");
        assert!(health.status().is_success());
    }

    // Three officers, each enrolled through a different server.
    let mut devices = Vec::new();
    for s in &servers {
        let o = admin
            .add_officer("Officer".into(), "1".into(), Role::Officer, vec![team])
            .await
            .expect("officer");
        let code = new_code();
        admin
            .add_code(o.id, code_hash(&code), 600)
            .await
            .expect("code");
        let device = TestDevice::new();
        device.book.enroll(&s.url, &code).await.expect("enrol");
        devices.push(device);
    }

    // Each records a visit offline, then syncs through its own server.
    let mut child = person_draft();
    child.establishment_id = Some(school);
    let person = devices[0].book.add_young_person(child).expect("person").id;
    devices[0].book.sync().await.expect("sync");
    for d in &devices[1..] {
        d.book.sync().await.expect("sync");
    }
    let mut visits = Vec::new();
    for d in &devices {
        visits.push(
            d.book
                .record_visit(visit_draft(person, 2))
                .expect("visit")
                .id,
        );
    }
    for _ in 0..2 {
        for d in &devices {
            d.book.sync().await.expect("sync");
        }
    }
    for d in &devices {
        for v in &visits {
            assert!(
                d.book.visit(*v).is_ok(),
                "a device lacks a visit pushed elsewhere"
            );
        }
    }

    // The same field edited on two devices, pushed through two servers: one conflict.
    let edit = |text: &str| VisitUpdate {
        narrative: Some(text.into()),
        ..Default::default()
    };
    devices[0]
        .book
        .update_visit(visits[0], edit("via one"))
        .expect("edit");
    devices[1]
        .book
        .update_visit(visits[0], edit("via two"))
        .expect("edit");
    devices[0].book.sync().await.expect("sync");
    devices[1].book.sync().await.expect("sync");
    for d in &devices {
        d.book.sync().await.expect("sync");
    }
    let seen: Vec<_> = devices
        .iter()
        .map(|d| d.book.visit(visits[0]).expect("visit").narrative)
        .collect();
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "diverged: {seen:?}");
    assert_eq!(admin.conflicts(false).await.expect("conflicts").len(), 1);
    for d in &devices[..2] {
        assert_eq!(d.book.conflicts().expect("conflicts").len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_enrolment_rate_limit_is_shared_by_every_server() {
    let db = pg_database().await;
    let servers = ServerProcess::start_together(&db, 3);
    let http = pocketbook_tests::http_client();
    let attempt = |url: String| {
        let http = http.clone();
        async move {
            http.post(format!("{url}/v1/enroll"))
                .header(PROTOCOL_HEADER, "1")
                .json(&EnrollRequest {
                    token: None,
                    code: "WRONGCODE".into(),
                    device_id: Uuid::now_v7(),
                    device_name: "guess".into(),
                })
                .send()
                .await
                .expect("enrol request")
                .status()
                .as_u16()
        }
    };
    // Ten wrong guesses spread over the servers are allowed and refused one by one...
    for i in 0..10 {
        assert_eq!(attempt(servers[i % 3].url.clone()).await, 403);
    }
    // ...and the eleventh is limited on every server, including ones that saw few guesses.
    for s in &servers {
        assert_eq!(attempt(s.url.clone()).await, 429);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_whose_database_is_gone_reports_itself_unavailable() {
    let db = pg_database().await;
    let servers = ServerProcess::start_together(&db, 1);
    let http = pocketbook_tests::http_client();
    let health = || async {
        let answer = http
            .get(format!("{}/healthz", servers[0].url))
            .timeout(std::time::Duration::from_secs(60))
            .send()
            .await
            .expect("healthz");
        let status = answer.status().as_u16();
        let body: serde_json::Value = answer.json().await.expect("JSON body");
        (status, body)
    };
    assert_eq!(health().await.0, 200);
    let name = db.rsplit('/').next().expect("database name").to_string();
    pocketbook_tests::pg::with_client(&pocketbook_tests::pg::admin_url(), move |c| {
        c.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .expect("drop database");
    })
    .await;
    let (status, body) = health().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable");
}
