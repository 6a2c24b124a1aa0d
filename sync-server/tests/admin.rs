//! The administration library (`pocketbook_sync_server::admin`) called directly, with no
//! process spawned, on a SQLite store in a temporary directory: teams and officers, codes,
//! devices, clear errors, and a GIAS import that offers devices only open establishments.

use std::path::Path;

use pocketbook_protocol::wire::PullRequest;
use pocketbook_protocol::Role;
use pocketbook_sync_server::admin::establishments::{self, GiasSummary, Upserted};
use pocketbook_sync_server::admin::teams::{self, NewOfficer};
use pocketbook_sync_server::admin::{codes, devices, AdminError};
use pocketbook_sync_server::error::StoreError;
use pocketbook_sync_server::secrets::{code_hash, secret_hash};
use pocketbook_sync_server::store::{Device, Enrolment, SqliteStore, Store, TokenCheck};
use uuid::Uuid;

/// A GIAS extract with one establishment of each status and one of a kind we skip.
const GIAS_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/gias-statuses.csv"
);

fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("server.db")).expect("server store")
}

async fn officer_in_new_team(store: &SqliteStore, team: &str) -> (Uuid, Uuid) {
    let team = teams::add_team(store, team.into()).await.expect("team").id;
    let officer = teams::add_officer(
        store,
        NewOfficer {
            name: "PC A".into(),
            shoulder_number: "1".into(),
            role: Role::Officer,
            team_ids: vec![team],
        },
    )
    .await
    .expect("officer");
    (team, officer.id)
}

/// Enrols a device for `officer` with a new code; the device's id, token and reference data.
async fn enrol(store: &SqliteStore, officer: Uuid) -> (Uuid, String, Enrolment) {
    let code = codes::issue_code(store, officer, 1).await.expect("code");
    let (device, token) = (Uuid::now_v7(), format!("token-{}", Uuid::now_v7()));
    let enrolment = store
        .enroll(
            code_hash(&code),
            device,
            "PC A phone".into(),
            secret_hash(&token),
            "127.0.0.1".into(),
        )
        .await
        .expect("enrol");
    (device, token, enrolment)
}

#[tokio::test]
async fn teams_and_officers_are_added_listed_and_moved() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(dir.path());
    let (north, officer) = officer_in_new_team(&store, "Northfield").await;
    let south = teams::add_team(&store, "Southfield".into())
        .await
        .expect("team");
    let names: Vec<String> = teams::teams(&store)
        .await
        .expect("teams")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Northfield", "Southfield"]);

    let moved = teams::update_officer(&store, officer, vec![south.id], Some(Role::Supervisor))
        .await
        .expect("update");
    assert_eq!(moved.team_ids, vec![south.id]);
    assert_eq!(moved.role, Role::Supervisor);
    let kept = teams::update_officer(&store, officer, vec![], None)
        .await
        .expect("update nothing");
    assert_eq!(kept, moved, "no teams and no role change nothing");
    let listed = teams::officers(&store).await.expect("officers");
    assert_eq!(listed, vec![moved]);

    let taken = teams::add_team(&store, "Northfield".into()).await;
    assert!(
        matches!(&taken, Err(AdminError::Store(StoreError::Invalid(_)))),
        "{taken:?}"
    );
    assert_ne!(north, south.id);
}

#[tokio::test]
async fn an_unknown_officer_or_team_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(dir.path());
    let nobody = Uuid::now_v7();
    let err = teams::update_officer(&store, nobody, vec![], Some(Role::Admin))
        .await
        .expect_err("unknown officer");
    assert!(matches!(err, AdminError::UnknownOfficer));
    assert_eq!(err.to_string(), "no officer with that id");

    let err = codes::issue_code(&store, nobody, 24)
        .await
        .expect_err("code for nobody");
    assert_eq!(err.to_string(), "unknown officer");

    let err = teams::add_officer(
        &store,
        NewOfficer {
            name: "PC B".into(),
            shoulder_number: "2".into(),
            role: Role::Officer,
            team_ids: vec![Uuid::now_v7()],
        },
    )
    .await
    .expect_err("unknown team");
    assert_eq!(err.to_string(), "unknown team");
}

#[tokio::test]
async fn a_code_is_issued_for_a_lifetime_and_enrols_one_device() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(dir.path());
    let (_, officer) = officer_in_new_team(&store, "Northfield").await;
    for hours in [0, 337] {
        let err = codes::issue_code(&store, officer, hours).await;
        assert!(matches!(err, Err(AdminError::TtlOutOfRange)), "{hours} h");
    }
    let code = codes::issue_code(&store, officer, 24).await.expect("code");
    assert_eq!(code.len(), 14, "XXXX-XXXX-XXXX");
    assert_eq!(code.matches('-').count(), 2);
    let exchange = |device: Uuid| {
        store.enroll(
            code_hash(&code.to_lowercase()),
            device,
            "phone".into(),
            secret_hash("t"),
            "127.0.0.1".into(),
        )
    };
    let first = exchange(Uuid::now_v7()).await.expect("enrol");
    assert!(matches!(first, Enrolment::Enrolled(p) if p.officer.id == officer));
    let second = exchange(Uuid::now_v7()).await.expect("enrol again");
    assert!(matches!(second, Enrolment::BadCode), "a code is one-time");
    let audit = store.audit_lines().await.expect("audit").join("\n");
    assert!(!audit.contains(&code), "the code itself is never logged");
}

#[tokio::test]
async fn devices_are_listed_and_revoked_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(dir.path());
    let (_, officer) = officer_in_new_team(&store, "Northfield").await;
    let (device, token, _) = enrol(&store, officer).await;

    let listed = devices::devices(&store).await.expect("devices");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].device_id, listed[0].officer_id),
        (device, officer)
    );
    assert_eq!(listed[0].revoked_at, None);

    devices::revoke_device(&store, device)
        .await
        .expect("revoke");
    let listed = devices::devices(&store).await.expect("devices");
    assert!(listed[0].revoked_at.is_some());
    let check = store.check_token(secret_hash(&token)).await.expect("check");
    assert!(matches!(check, TokenCheck::Revoked));

    let again = devices::revoke_device(&store, device).await;
    assert!(matches!(again, Err(AdminError::UnknownDevice)));
    let unknown = devices::revoke_device(&store, Uuid::now_v7()).await;
    assert_eq!(
        unknown.err().map(|e| e.to_string()).as_deref(),
        Some("no live device with that id")
    );
}

#[tokio::test]
async fn gias_import_offers_devices_only_open_establishments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(dir.path());
    let summary = establishments::import_gias_file(&store, Path::new(GIAS_FIXTURE))
        .await
        .expect("import");
    assert_eq!(
        summary,
        GiasSummary {
            upserted: Upserted {
                added: 4,
                updated: 0
            },
            closed: 1,
            proposed_to_open: 1,
            skipped: 1,
        }
    );
    let kept = establishments::establishments(&store).await.expect("list");
    let kept: Vec<(&str, bool)> = kept.iter().map(|e| (e.urn.as_str(), e.closed)).collect();
    assert_eq!(
        kept,
        [
            ("300001", false),
            ("300002", false),
            ("300003", false),
            ("300004", true)
        ],
        "every establishment is kept on the server, the closed one marked closed"
    );

    let (_, officer) = officer_in_new_team(&store, "Northfield").await;
    let (device, _, enrolment) = enrol(&store, officer).await;
    let Enrolment::Enrolled(provisioning) = enrolment else {
        panic!("not enrolled: {enrolment:?}")
    };
    let offered: Vec<&str> = provisioning
        .establishments
        .iter()
        .map(|e| e.urn.as_str())
        .collect();
    assert_eq!(
        offered,
        ["300001", "300002"],
        "open, and open but proposed to close"
    );

    // A re-import that lists the new school as open offers it, in the pull's reference data too.
    let bytes = std::fs::read(GIAS_FIXTURE).expect("fixture");
    let reopened = String::from_utf8(bytes)
        .expect("utf-8 fixture")
        .replace("Proposed to open", "Open");
    let summary = establishments::import_gias(&store, reopened.as_bytes())
        .await
        .expect("re-import");
    assert_eq!(summary.upserted.updated, 4);
    assert_eq!(summary.proposed_to_open, 0);
    let officer = teams::officers(&store).await.expect("officers").remove(0);
    let page = store
        .pull(
            Device {
                device_id: device,
                officer,
            },
            PullRequest {
                epoch: None,
                cursors: Default::default(),
                limit: None,
                reference: true,
                common_version: false,
            },
        )
        .await
        .expect("pull");
    let offered: Vec<String> = page
        .reference
        .map(|p| p.establishments.into_iter().map(|e| e.urn).collect())
        .unwrap_or_default();
    assert_eq!(offered, ["300001", "300002", "300003"]);
}
