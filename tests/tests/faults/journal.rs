//! The admin journal makes a restored server whole (issue 12, item 2), on SQLite and on
//! PostgreSQL: admin actions made after a backup — a device enrolled, another revoked, an
//! officer's role and teams changed, a team and an officer added, records erased (one the
//! backup holds, one made after it), a code issued — are replayed from the journal into the
//! restored copy, which then holds what the server held just before the restore; the audit
//! chain verifies, and replaying again changes nothing.

use pocketbook_tests::process_server::server_binary;
use std::future::Future;
use std::path::Path;

use pocketbook_protocol::{Entity, Marking, Role};
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::journal::Journal;
use pocketbook_sync_server::store::{
    Enrolment, JournalStore, PostgresOptions, PostgresStore, RecordErasure, SqliteStore, Store,
    TokenCheck,
};
use pocketbook_tests::pg::{admin_url, pg_database, with_client};
use pocketbook_tests::store_fixture::{all_applied, officer, phone, Phone, Replica};
use serde_json::json;
use uuid::Uuid;

/// What the test made before the backup.
struct Before {
    team_a: Uuid,
    team_b: Uuid,
    moved: Uuid,
    keeper: Phone,
    revoked: Phone,
    erased_visit: Uuid,
    code_before: String,
    colleague: Uuid,
}

/// What it made after.
struct After {
    enrolled_token: String,
    team_c: Uuid,
    added_officer: Uuid,
    late_visit: Uuid,
    code_after: String,
}

async fn enrol_with<S: Store>(store: &S, code: &str) -> (Enrolment, String) {
    let token = new_code();
    let device = Uuid::now_v7();
    let outcome = store
        .enroll(
            code_hash(code),
            device,
            "phone".into(),
            code_hash(&token),
            format!("client-{device}"),
        )
        .await
        .expect("enrol");
    (outcome, token)
}

async fn issue<S: Store>(store: &S, officer: Uuid) -> String {
    let code = new_code();
    store
        .add_code(officer, code_hash(&code), 3600)
        .await
        .expect("code");
    code
}

async fn visit<S: Store>(store: &S, phone: &mut Phone, team: Uuid) -> Uuid {
    let create = phone.create(
        Entity::Visit,
        team,
        Marking::Official,
        json!({ "narrative": "Spoke to the school" }),
    );
    let id = create.record_id;
    assert!(all_applied(&phone.push(store, vec![create]).await));
    id
}

async fn before_backup<S: Store>(store: &S) -> Before {
    let team_a = store.add_team("A".into()).await.expect("team").id;
    let team_b = store.add_team("B".into()).await.expect("team").id;
    let moved = officer(store, Role::Officer, &[team_a]).await;
    let colleague = officer(store, Role::Officer, &[team_a]).await;
    let mut keeper = phone(store, &moved).await;
    let revoked = phone(store, &moved).await;
    let erased_visit = visit(store, &mut keeper, team_a).await;
    let code_before = issue(store, colleague.id).await;
    Before {
        team_a,
        team_b,
        moved: moved.id,
        keeper,
        revoked,
        erased_visit,
        code_before,
        colleague: colleague.id,
    }
}

async fn after_backup<S: Store + RecordErasure>(store: &S, b: &mut Before) -> After {
    let code = issue(store, b.colleague).await;
    let (enrolled, enrolled_token) = enrol_with(store, &code).await;
    assert!(matches!(enrolled, Enrolment::Enrolled(_)));
    assert!(store
        .revoke(b.revoked.device.device_id)
        .await
        .expect("revoke"));
    let mut moved = store
        .officers()
        .await
        .expect("officers")
        .into_iter()
        .find(|o| o.id == b.moved)
        .expect("officer");
    moved.role = Role::Supervisor;
    moved.team_ids = vec![b.team_b];
    let team_c = store.add_team("C".into()).await.expect("team").id;
    let added_officer = officer(store, Role::Officer, &[team_c]).await.id;
    let late_visit = visit(store, &mut b.keeper, b.team_a).await;
    for id in [b.erased_visit, late_visit] {
        assert!(store
            .erase_record(id, "Subject access".into())
            .await
            .expect("erase"));
    }
    store.update_officer(moved).await.expect("update officer");
    let code_after = issue(store, b.colleague).await;
    After {
        enrolled_token,
        team_c,
        added_officer,
        late_visit,
        code_after,
    }
}

/// The restored copy after the replay holds what the server held just before the restore.
async fn check_restored<S: Store + JournalStore>(
    restored: &S,
    journal: &Path,
    b: &Before,
    a: &After,
) {
    let replayed = pocketbook_sync_server::journal::replay(restored, journal)
        .await
        .expect("replay");
    assert!(replayed.applied >= 8, "{replayed:?}");
    assert!(replayed.cleared_restore);
    assert_eq!(restored.restore_pending().await.expect("flag"), None);

    let TokenCheck::Valid(colleague_phone) = restored
        .check_token(code_hash(&a.enrolled_token))
        .await
        .expect("token")
    else {
        panic!("the device enrolled after the backup must be known again");
    };
    assert!(matches!(
        restored
            .check_token(code_hash(&b.revoked.token))
            .await
            .expect("token"),
        TokenCheck::Revoked
    ));
    let officers = restored.officers().await.expect("officers");
    let moved = officers.iter().find(|o| o.id == b.moved).expect("moved");
    assert_eq!(
        (moved.role, moved.team_ids.clone()),
        (Role::Supervisor, vec![b.team_b])
    );
    let added = officers
        .iter()
        .find(|o| o.id == a.added_officer)
        .expect("added");
    assert_eq!(added.team_ids, vec![a.team_c]);

    let mut replica = Replica::default();
    replica.pull_all(restored, &colleague_phone, 100).await;
    for id in [b.erased_visit, a.late_visit] {
        let (fields, deleted) = replica.records.get(&id).expect("a tombstone is served");
        assert!(*deleted, "an erased record is a tombstone");
        assert!(
            !fields.contains_key("narrative"),
            "no content survives erasure"
        );
    }

    let (first, _) = enrol_with(restored, &a.code_after).await;
    assert!(matches!(first, Enrolment::Enrolled(_)), "{first:?}");
    let (again, _) = enrol_with(restored, &a.code_after).await;
    assert!(matches!(again, Enrolment::BadCode), "a code works once");
    let (before, _) = enrol_with(restored, &b.code_before).await;
    assert!(
        matches!(before, Enrolment::BadCode),
        "codes from before the backup stay invalid"
    );

    let chain = restored.verify_audit().await.expect("verify");
    assert_eq!(chain.broken, None);
    let lines = restored.audit_lines().await.expect("audit");
    assert!(lines.iter().any(|l| l.contains("\"replayed\"")));

    let seq = restored.journal_seq().await.expect("seq");
    let twice = pocketbook_sync_server::journal::replay(restored, journal)
        .await
        .expect("replay again");
    assert_eq!(
        (twice.applied, twice.unchanged, twice.cleared_restore),
        (0, 0, false)
    );
    assert_eq!(restored.journal_seq().await.expect("seq"), seq);
    let head = restored.audit_head().await.expect("head");
    assert_eq!(chain.head, head, "replaying twice changes nothing");
}

/// Runs the scenario: `copy` takes the backup of the store (and gives it back reopened),
/// `restore` makes the copy pending a restore with the codes it holds invalidated, as
/// `new-epoch` does.
async fn scenario<S, C, CF, R, RF>(store: S, journal: &Path, copy: C, restore: R)
where
    S: Store + RecordErasure + JournalStore,
    C: FnOnce(S) -> CF,
    CF: Future<Output = (S, S)>,
    R: FnOnce(S) -> RF,
    RF: Future<Output = S>,
{
    let mut b = before_backup(&store).await;
    let at_backup = store.journal_seq().await.expect("seq");
    assert!(at_backup > 0, "admin actions are journaled");
    let (store, backup) = copy(store).await;
    let a = after_backup(&store, &mut b).await;
    drop(store);
    let restored = restore(backup).await;
    assert_eq!(restored.journal_seq().await.expect("seq"), at_backup);
    assert!(restored.restore_pending().await.expect("flag").is_some());
    check_restored(&restored, journal, &b, &a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_sqlite_server_replays_the_admin_actions_since_its_backup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = dir.path().join("admin.journal");
    let (db, copy_at) = (dir.path().join("server.db"), dir.path().join("backup.db"));
    let open = |path: &Path, journal: &Path| {
        SqliteStore::open(path)
            .expect("store")
            .with_journal(Some(Journal::at(journal)))
    };
    let store = open(&db, &journal);
    let copy = |store: SqliteStore| {
        let (db, copy_at, journal) = (db.clone(), copy_at.clone(), journal.clone());
        async move {
            drop(store);
            // A closed store's file is a consistent copy.
            std::fs::copy(&db, &copy_at).expect("copy");
            (open(&db, &journal), open(&copy_at, &journal))
        }
    };
    let restore = |backup: SqliteStore| {
        let copy_at = copy_at.clone();
        async move {
            drop(backup);
            let conn = rusqlite::Connection::open(&copy_at).expect("open copy");
            conn.execute(
                "UPDATE enrol_codes SET used_at = 0 WHERE used_at IS NULL",
                [],
            )
            .expect("invalidate codes");
            drop(conn);
            let restored = SqliteStore::open(&copy_at).expect("restored");
            restored
                .set_restore_pending(Some(chrono::Utc::now().to_rfc3339()))
                .await
                .expect("pending");
            restored
        }
    };
    scenario(store, &journal, copy, restore).await;
}

async fn pg_open(url: &str, journal: &Path) -> PostgresStore {
    let at = url.to_string();
    tokio::task::spawn_blocking(move || PostgresStore::connect(&at, PostgresOptions::default()))
        .await
        .expect("task")
        .expect("postgres store")
        .with_journal(Some(Journal::at(journal)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_postgres_server_replays_the_admin_actions_since_its_backup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = dir.path().join("admin.journal");
    let url = pg_database().await;
    let store = pg_open(&url, &journal).await;
    let copy_url = {
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        format!("{base}/{}_copy", url.rsplit('/').next().expect("name"))
    };
    let copy = |store: PostgresStore| {
        let (url, copy_url, journal) = (url.clone(), copy_url.clone(), journal.clone());
        async move {
            drop(store);
            let (name, copy) = (
                url.rsplit('/').next().expect("name").to_string(),
                copy_url.rsplit('/').next().expect("name").to_string(),
            );
            // pg_dump's consistent copy, made the quick way: a template of the closed database.
            with_client(&admin_url(), move |client| {
                for attempt in 0.. {
                    let made =
                        client.batch_execute(&format!("CREATE DATABASE {copy} TEMPLATE {name}"));
                    match made {
                        Ok(()) => break,
                        // The closed pool's sessions may take a moment to end.
                        Err(_) if attempt < 100 => {
                            std::thread::sleep(std::time::Duration::from_millis(100))
                        }
                        Err(e) => panic!("copy the database: {e}"),
                    }
                }
            })
            .await;
            (
                pg_open(&url, &journal).await,
                pg_open(&copy_url, &journal).await,
            )
        }
    };
    let restore = |backup: PostgresStore| {
        let copy_url = copy_url.clone();
        async move {
            with_client(&copy_url, |client| {
                client
                    .batch_execute("UPDATE enrol_codes SET used_at = 0 WHERE used_at IS NULL")
                    .expect("invalidate codes")
            })
            .await;
            backup
                .set_restore_pending(Some(chrono::Utc::now().to_rfc3339()))
                .await
                .expect("pending");
            backup
        }
    };
    scenario(store, &journal, copy, restore).await;
}

/// Runs an admin command with the journal; its output.
fn admin(db: &Path, journal: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(server_binary())
        .arg("--db")
        .arg(db)
        .arg("--admin-journal")
        .arg(journal)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run an admin command");
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_string()
}

/// A `serve` process, killed when dropped.
struct Serving(std::process::Child, String);

impl Serving {
    fn start(db: &Path, journal: &Path) -> Serving {
        use std::io::BufRead;
        let mut child = std::process::Command::new(server_binary())
            .arg("--db")
            .arg(db)
            .arg("--admin-journal")
            .arg(journal)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Serving(child, url)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn pull_status(url: &str, token: &str) -> (u16, serde_json::Value) {
    let answer = pocketbook_tests::http_client()
        .post(format!("{url}/v1/sync/pull"))
        .header("pocketbook-protocol", "1")
        .bearer_auth(token)
        .json(&json!({ "cursors": {} }))
        .send()
        .await
        .expect("pull");
    let status = answer.status().as_u16();
    (
        status,
        answer.json().await.unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_server_process_waits_for_replay_journal_then_serves_the_api_enrolment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (db, backup, journal) = (
        dir.path().join("server.db"),
        dir.path().join("backup.db"),
        dir.path().join("admin.journal"),
    );
    let team = admin(&db, &journal, &["team", "add", "Team A"]);
    let officer = admin(
        &db,
        &journal,
        &[
            "officer", "add", "--name", "PC One", "--number", "1", "--team", &team,
        ],
    );
    std::fs::copy(&db, &backup).expect("back up the closed database");
    // After the backup: a code from the admin command, an enrolment through the API of the
    // serving process: two processes append to one journal.
    let code = admin(&db, &journal, &["code", "--officer", &officer]);
    let server = Serving::start(&db, &journal);
    let enrolled: serde_json::Value = pocketbook_tests::http_client()
        .post(format!("{}/v1/enroll", server.1))
        .header("pocketbook-protocol", "1")
        .json(&json!({ "code": code, "device_id": Uuid::now_v7(), "device_name": "phone" }))
        .send()
        .await
        .expect("enrol")
        .json()
        .await
        .expect("enrol answer");
    let token = enrolled["token"].as_str().expect("token").to_string();
    assert!(!std::fs::read_to_string(&journal)
        .expect("journal")
        .contains(&token));
    drop(server);

    std::fs::copy(&backup, &db).expect("restore the backup");
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('restore_pending', '2026-01-01T00:00:00Z')",
        [],
    )
    .expect("pending, as new-epoch leaves it");
    drop(conn);
    let server = Serving::start(&db, &journal);
    let (status, body) = pull_status(&server.1, &token).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("restore_pending"))
    );

    let said = admin(&db, &journal, &["replay-journal"]);
    assert!(said.contains("serving again"), "{said}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, _) = pull_status(&server.1, &token).await;
        if status != 503 {
            assert_eq!(status, 200, "the token enrolled after the backup works");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never served again");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let verified = admin(&db, &journal, &["audit", "verify"]);
    assert!(verified.contains("audit chain holds"), "{verified}");
}
