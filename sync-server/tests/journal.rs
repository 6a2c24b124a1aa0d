//! Attacks on the admin journal (issue 12, item 2), in-process on SQLite: an altered or
//! removed line, another server's journal and a journal behind the database are refused
//! before anything changes, naming the line; a partial last line (a crash mid-append) is
//! ignored, and cut off by the next append; admin actions are refused while a restore is
//! pending and when the journal does not match the database; and while the restore is pending
//! `/v1/*` answers `503 restore_pending` while `/healthz` says why.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use pocketbook_protocol::Role;
use pocketbook_sync_server::admin::{self, teams};
use pocketbook_sync_server::api::{routers, Transport};
use pocketbook_sync_server::error::StoreError;
use pocketbook_sync_server::journal::{self, read_verified, Journal, JournalError, RestoreGate};
use pocketbook_sync_server::store::{JournalStore, SqliteStore, Store};
use pocketbook_sync_server::Config;
use tower::ServiceExt;

/// A server store with a journal, and a copy of its empty database (same server id) to
/// restore into.
struct Setup {
    _dir: tempfile::TempDir,
    store: SqliteStore,
    restored: SqliteStore,
    journal: PathBuf,
}

fn open(db: &Path, journal: &Path) -> SqliteStore {
    SqliteStore::open(db)
        .expect("store")
        .with_journal(Some(Journal::at(journal)))
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, copy, journal) = (
        dir.path().join("server.db"),
        dir.path().join("copy.db"),
        dir.path().join("admin.journal"),
    );
    drop(open(&db, &journal));
    std::fs::copy(&db, &copy).expect("copy");
    let restored = SqliteStore::open(&copy).expect("copy store");
    restored
        .set_restore_pending(Some("2026-01-01T00:00:00+00:00".into()))
        .await
        .expect("pending");
    Setup {
        store: open(&db, &journal),
        restored,
        journal,
        _dir: dir,
    }
}

/// Three journaled actions: a team, an officer in it, a code for them.
async fn three_actions(store: &SqliteStore) {
    let team = teams::add_team(store, "Northfield".into())
        .await
        .expect("team");
    let officer = teams::add_officer(
        store,
        teams::NewOfficer {
            name: "PC Journal".into(),
            shoulder_number: "77".into(),
            role: Role::Officer,
            team_ids: vec![team.id],
        },
    )
    .await
    .expect("officer");
    admin::codes::issue_code(store, officer.id, 1)
        .await
        .expect("code");
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("journal")
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").expect("write journal");
}

/// The restored store is as it was: no team, nothing replayed, still pending.
async fn unchanged(restored: &SqliteStore, audit_rows: usize) {
    assert!(restored.teams().await.expect("teams").is_empty());
    assert_eq!(restored.journal_seq().await.expect("seq"), 0);
    assert!(restored.restore_pending().await.expect("flag").is_some());
    assert_eq!(
        restored.audit_lines().await.expect("audit").len(),
        audit_rows
    );
}

#[tokio::test]
async fn every_admin_action_is_one_chained_line_holding_no_secret() {
    let s = setup().await;
    three_actions(&s.store).await;
    let server = s.store.identity().await.expect("identity").0;
    let journal = read_verified(&s.journal, server).expect("verified");
    let kinds: Vec<&str> = journal.entries.iter().map(|(_, a)| a.kind()).collect();
    assert_eq!(kinds, ["add_team", "add_officer", "issue_code"]);
    assert_eq!(s.store.journal_seq().await.expect("seq"), 3);
    // The code itself is printed once to the admin and kept nowhere: only its hash.
    let text = std::fs::read_to_string(&s.journal).expect("journal");
    assert!(text.contains("code_hash"));
    assert!(!text.contains("\"code\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&s.journal)
            .expect("journal")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the journal is owner-only");
    }
}

#[tokio::test]
async fn an_altered_line_is_refused_naming_it_and_nothing_changes() {
    let s = setup().await;
    three_actions(&s.store).await;
    let rows = s.restored.audit_lines().await.expect("audit").len();
    let mut altered = lines(&s.journal);
    altered[1] = altered[1].replace("\"role\":\"officer\"", "\"role\":\"admin\"");
    assert_ne!(altered, lines(&s.journal), "the test altered the line");
    write_lines(&s.journal, &altered);
    let err = journal::replay(&s.restored, &s.journal).await.err();
    assert!(
        matches!(err, Some(JournalError::Broken { line: 2, .. })),
        "{err:?}"
    );
    assert!(err.is_some_and(|e| e.to_string().contains("line 2")));
    unchanged(&s.restored, rows).await;
}

#[tokio::test]
async fn a_removed_line_is_refused_naming_the_line_after_it() {
    let s = setup().await;
    three_actions(&s.store).await;
    let rows = s.restored.audit_lines().await.expect("audit").len();
    let mut cut = lines(&s.journal);
    cut.remove(1);
    write_lines(&s.journal, &cut);
    let err = journal::replay(&s.restored, &s.journal).await.err();
    assert!(
        matches!(err, Some(JournalError::Broken { line: 2, .. })),
        "{err:?}"
    );
    unchanged(&s.restored, rows).await;
}

#[tokio::test]
async fn another_servers_journal_is_refused() {
    let s = setup().await;
    let other = setup().await;
    three_actions(&other.store).await;
    let rows = s.restored.audit_lines().await.expect("audit").len();
    let err = journal::replay(&s.restored, &other.journal).await.err();
    assert!(
        matches!(err, Some(JournalError::ForeignServer { line: 1 })),
        "{err:?}"
    );
    unchanged(&s.restored, rows).await;
    // Nor does a server append to another's journal.
    let wrong = s
        .store
        .clone()
        .with_journal(Some(Journal::at(&other.journal)));
    let refused = teams::add_team(&wrong, "Elsewhere".into()).await;
    assert!(refused.is_err());
    assert!(s.store.teams().await.expect("teams").is_empty());
}

#[tokio::test]
async fn a_journal_behind_the_database_is_refused_and_not_appended_to() {
    let s = setup().await;
    three_actions(&s.store).await;
    // The database reflects entry 3; a journal of one entry is not its journal.
    let first = lines(&s.journal)[..1].to_vec();
    write_lines(&s.journal, &first);
    let err = journal::replay(&s.store, &s.journal).await.err();
    assert!(
        matches!(
            err,
            Some(JournalError::Behind {
                journal: 1,
                database: 3
            })
        ),
        "{err:?}"
    );
    let refused = teams::add_team(&s.store, "Southfield".into()).await;
    assert!(matches!(
        refused,
        Err(admin::AdminError::Store(StoreError::Journal(_)))
    ));
    assert_eq!(s.store.teams().await.expect("teams").len(), 1);
    assert_eq!(lines(&s.journal), first, "nothing was appended");
}

#[tokio::test]
async fn a_partial_last_line_is_ignored_and_cut_off_by_the_next_append() {
    let s = setup().await;
    three_actions(&s.store).await;
    let mut text = std::fs::read_to_string(&s.journal).expect("journal");
    text.push_str("{\"n\":4,\"server\":\"");
    std::fs::write(&s.journal, &text).expect("crash mid-append");
    let done = journal::replay(&s.restored, &s.journal)
        .await
        .expect("a partial last line is not fatal");
    assert!(done.partial_tail);
    assert_eq!((done.applied, done.to), (3, 3));
    assert_eq!(s.restored.teams().await.expect("teams").len(), 1);
    teams::add_team(&s.store, "Southfield".into())
        .await
        .expect("the next append cuts the partial line off");
    let server = s.store.identity().await.expect("identity").0;
    let journal = read_verified(&s.journal, server).expect("whole again");
    assert_eq!((journal.last(), journal.partial_tail), (4, false));
}

#[tokio::test]
async fn admin_actions_wait_while_a_restore_is_pending() {
    let s = setup().await;
    three_actions(&s.store).await;
    let pending = s
        .restored
        .clone()
        .with_journal(Some(Journal::at(&s.journal)));
    let refused = teams::add_team(&pending, "Southfield".into()).await;
    assert!(matches!(
        refused,
        Err(admin::AdminError::Store(StoreError::Journal(_)))
    ));
    assert!(pending.teams().await.expect("teams").is_empty());
    admin::journal::replay_journal(&pending, &s.journal)
        .await
        .expect("replay");
    teams::add_team(&pending, "Southfield".into())
        .await
        .expect("after the replay admin actions are journaled again");
    assert_eq!(pending.journal_seq().await.expect("seq"), 4);
}

async fn call(app: &Router, method: &str, path: &str) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))))
        .body(Body::from("{}"))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn while_a_restore_is_pending_the_api_answers_503_and_health_says_why() {
    let s = setup().await;
    let gate = RestoreGate::default();
    let _watch = journal::gate::watch(s.restored.clone(), gate.clone())
        .await
        .expect("watch");
    let transport = Transport {
        restore_gate: gate,
        ..Transport::default()
    };
    let (app, _) = routers(s.restored.clone(), Config::default(), transport);
    for path in ["/v1/sync/pull", "/v1/sync/push", "/v1/enroll"] {
        let (status, body) = call(&app, "POST", path).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(body["code"], "restore_pending", "{path}");
    }
    let (status, body) = call(&app, "GET", "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "restore_pending");
    assert!(body["message"]
        .as_str()
        .is_some_and(|m| m.contains("replay-journal")));

    assert!(admin::journal::confirm_restore(&s.restored)
        .await
        .expect("confirm"));
    let lines = s.restored.audit_lines().await.expect("audit");
    assert!(lines
        .iter()
        .any(|l| l.contains("confirmed_no_admin_actions")));
    // The serving process notices within a few seconds; a generous deadline only a hang misses.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = call(&app, "POST", "/v1/sync/pull").await;
        if status != StatusCode::SERVICE_UNAVAILABLE {
            // Served again: the bare request now meets the handler's own checks.
            assert!(status.is_client_error(), "{status}");
            assert_ne!(body["code"], "restore_pending");
            break;
        }
        assert!(Instant::now() < deadline, "the gate never opened");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, body) = call(&app, "GET", "/healthz").await;
    assert_eq!(body["status"], "ok");
}
