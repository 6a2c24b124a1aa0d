//! A server restored from a backup (issue 12, item 2) against a real `pocketbook-server`
//! process on SQLite: records synced, `backup`, then an edit, a delete, a marking raised and
//! more records synced; the server stopped, `restore`d and started again; everyone syncs until
//! quiet. The server and every phone then hold the state of just before the restore: nothing
//! resurrected, nothing lost, no conflicts made, every audit chain verifying.
//!
//! The server runs with an admin journal: a phone enrolled and another revoked after the backup
//! are re-applied by `restore` from it, so the first keeps syncing and the second stays
//! revoked.

use std::collections::BTreeMap;
use std::time::Duration;

use pocketbook_core::model::{
    ConcernFilter, ConcernTriageUpdate, Marking, Visit, VisitFilter, VisitUpdate,
};
use pocketbook_core::Pocketbook;
use pocketbook_protocol::wire::{PullRequest, PushRequest, PROTOCOL_HEADER};
use pocketbook_protocol::{Entity, Hlc, Mutation, MutationKind, Role, Version};
use pocketbook_sync_server::store::{Epochs, Store};
use pocketbook_tests::restore_fixture::{admin_output, ServerProcess};
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{concern_draft, person_draft, visit_draft};
use serde_json::Value;
use uuid::Uuid;

/// What a phone shows: every visit (narrative, marking) and concern (marking) by id.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    visits: BTreeMap<Uuid, (String, Marking)>,
    concerns: BTreeMap<Uuid, Marking>,
}

fn shown(book: &Pocketbook) -> Shown {
    Shown {
        visits: book
            .visits(&VisitFilter::default())
            .expect("visits")
            .into_iter()
            .map(|v| (v.id, (v.narrative, v.meta.marking)))
            .collect(),
        concerns: book
            .concerns(&ConcernFilter::default())
            .expect("concerns")
            .into_iter()
            .map(|c| (c.id, c.meta.marking))
            .collect(),
    }
}

/// Syncs every device in turn until a whole round moves nothing (at most `rounds`); returns
/// how many restore mutations the server took.
async fn sync_until_quiet(devices: &[&TestDevice], rounds: usize) -> u64 {
    let mut restored = 0;
    for _ in 0..rounds {
        let mut moved = 0;
        for d in devices {
            let r = d.book.sync().await.expect("sync");
            moved += r.pushed + r.pulled + r.removed + r.restored + r.rejected + r.conflicts;
            restored += r.restored;
        }
        if moved == 0 {
            return restored;
        }
    }
    panic!("the devices never went quiet");
}

fn new_person(book: &Pocketbook) -> Uuid {
    let mut draft = person_draft();
    draft.establishment_id = None;
    book.add_young_person(draft).expect("person").id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restored_server_gets_back_everything_its_devices_held() {
    let mut server = ServerProcess::new();
    let team = server.admin(&["team", "add", "Team A"]);
    let alice = server.admin(&[
        "officer", "add", "--name", "Alice", "--number", "1", "--team", &team,
    ]);
    let bob = server.admin(&[
        "officer", "add", "--name", "Bob", "--number", "2", "--team", &team,
    ]);
    server.start();
    let a = server.device(&alice).await;
    let b = server.device(&bob).await;
    // A spare phone of Alice's, enrolled before the backup and revoked after it.
    let spare = server.device(&alice).await;
    spare.book.sync().await.expect("the spare phone syncs");

    // Before the backup: a child, three visits and an OFFICIAL concern, seen by both.
    let child = new_person(&a.book);
    let edited = a
        .book
        .record_visit(visit_draft(child, 5))
        .expect("visit")
        .id;
    let deleted = a
        .book
        .record_visit(visit_draft(child, 4))
        .expect("visit")
        .id;
    let kept = a
        .book
        .record_visit(visit_draft(child, 3))
        .expect("visit")
        .id;
    let mut draft = concern_draft(child, 2);
    draft.assigned_lead = None;
    draft.marking = Some(Marking::Official);
    let concern = a.book.raise_concern(draft).expect("concern").id;
    sync_until_quiet(&[&a, &b], 4).await;
    assert!(b.book.concern(concern).is_ok());

    let backup = server.path("backup.db");
    let line = server.admin(&["backup", backup.to_str().expect("utf-8")]);
    assert!(line.starts_with("backed up to"), "{line}");
    let again = admin_output(&server.db, &["backup", backup.to_str().expect("utf-8")]);
    assert!(!again.status.success(), "a backup never overwrites a file");

    // After the backup: an edit, a delete, a marking raised by a colleague, more records.
    let update = VisitUpdate {
        narrative: Some("Edited after the backup.".into()),
        ..Default::default()
    };
    a.book.update_visit(edited, update).expect("edit");
    a.book
        .delete_visit(deleted, "recorded twice")
        .expect("delete");
    let raise = ConcernTriageUpdate {
        marking: Some(Marking::OfficialSensitive),
        ..Default::default()
    };
    b.book.update_concern_triage(concern, raise).expect("raise");
    let late_child = new_person(&b.book);
    let late_visit = b
        .book
        .record_visit(visit_draft(late_child, 1))
        .expect("visit")
        .id;
    sync_until_quiet(&[&a, &b], 4).await;
    let (before_a, before_b) = (shown(&a.book), shown(&b.book));
    assert_eq!(before_a.concerns[&concern], Marking::OfficialSensitive);
    assert!(
        !before_b.concerns.contains_key(&concern),
        "a peer loses sight of it"
    );
    assert!(!before_a.visits.contains_key(&deleted));
    // After the backup, too: a phone of Bob's enrolled, Alice's spare revoked.
    let late_phone = server.device(&bob).await;
    late_phone.book.sync().await.expect("the late phone syncs");
    let spare_id = spare.book.session().expect("session").device_id.to_string();
    server.admin(&["device", "revoke", &spare_id]);

    // Restoring under a running server is refused, the store untouched; a PostgreSQL store
    // is told the way that works for it.
    let busy = admin_output(&server.db, &["restore", backup.to_str().expect("utf-8")]);
    assert!(!busy.status.success(), "a restore under a running server");
    assert!(String::from_utf8_lossy(&busy.stderr).contains("stop the server"));
    let pg = pocketbook_tests::restore_fixture::admin_output(
        std::path::Path::new("postgres://nobody@127.0.0.1:1/none"),
        &["backup", "never.db"],
    );
    let said = String::from_utf8_lossy(&pg.stderr);
    assert!(!pg.status.success() && said.contains("pg_dump") && said.contains("new-epoch"));
    sync_until_quiet(&[&a, &b], 2).await;

    // The server is lost and restored from the backup.
    server.stop();
    let line = server.admin(&["restore", backup.to_str().expect("utf-8")]);
    assert!(line.starts_with("restored"), "{line}");
    assert!(line.contains("replayed the admin journal"), "{line}");
    server.start();
    // The journal put back what the backup missed: the revoked phone stays revoked (and
    // wipes itself), the phone enrolled after the backup keeps syncing.
    assert!(matches!(
        spare.book.sync().await,
        Err(pocketbook_core::Error::DeviceRevoked)
    ));
    late_phone
        .book
        .sync()
        .await
        .expect("the late phone's token still works");

    // Alice's phone is cut off again and again part way through reconciling (a sync dropped
    // at an await, as a kill between two of its transactions): each next sync resumes it.
    for ms in [1, 2, 3, 5, 8, 13, 21, 34, 55] {
        let cut = tokio::time::timeout(Duration::from_millis(ms), a.book.sync()).await;
        if let Ok(outcome) = cut {
            outcome.expect("sync");
        }
    }
    sync_until_quiet(&[&a, &b], 6).await;
    assert_eq!(shown(&a.book), before_a, "Alice's phone after reconciling");
    assert_eq!(shown(&b.book), before_b, "Bob's phone after reconciling");
    sync_until_quiet(&[&late_phone], 3).await;
    assert_eq!(
        shown(&late_phone.book),
        before_b,
        "Bob's phone enrolled after the backup, after reconciling"
    );
    let a_visits = shown(&a.book).visits;
    assert_eq!(a_visits[&edited].0, "Edited after the backup.");
    assert!(a_visits.contains_key(&kept) && a_visits.contains_key(&late_visit));
    assert!(
        !a_visits.contains_key(&deleted),
        "the deleted stays deleted"
    );
    for d in [&a, &b] {
        assert!(
            d.book.young_person(late_child).is_ok(),
            "a child added after the backup"
        );
    }

    // The server holds it too: a phone enrolled now receives exactly what Alice's shows.
    let fresh = server.device(&alice).await;
    fresh.book.sync().await.expect("first sync");
    assert_eq!(shown(&fresh.book), before_a, "the restored server's state");
    for d in [&a, &b, &late_phone, &fresh] {
        assert!(
            d.book.conflicts().expect("conflicts").is_empty(),
            "no conflicts made"
        );
        d.book.verify_audit_chain().expect("device audit chain");
        assert!(d.book.pending_changes().expect("pending").is_empty());
    }
    assert_eq!(server.admin(&["conflict", "list", "--all"]), "");
    let verdict = server.admin(&["audit", "verify"]);
    assert!(verdict.starts_with("audit chain holds"), "{verdict}");
    let audit = server.admin(&["audit"]);
    assert!(audit.contains("\"operation\":\"new_epoch\""));
    // The edit, the delete, the marking, the late child and visit came back as restores.
    let restored: std::collections::BTreeSet<Uuid> = audit
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|row| row["operation"] == "restore")
        .filter_map(|row| {
            row["detail"]["record_id"]
                .as_str()
                .and_then(|s| s.parse().ok())
        })
        .collect();
    for id in [edited, deleted, concern, late_child, late_visit] {
        assert!(restored.contains(&id), "{id} was not restored");
    }
    let check = server.admin(&["validate-store"]);
    assert!(check.ends_with("quarantined 0"), "{check}");
}

/// A device's token, for raw requests.
pub(crate) fn token(device: &TestDevice) -> String {
    pocketbook_tests::raw_connection(&device.path)
        .query_row("SELECT token FROM sync_state", [], |r| r.get(0))
        .expect("token")
}

/// A raw POST with a device token: the status and the JSON answer.
pub(crate) async fn post(
    url: &str,
    token: &str,
    path: &str,
    body: &impl serde::Serialize,
) -> (u16, Value) {
    let resp = pocketbook_tests::http_client()
        .post(format!("{url}{path}"))
        .header(PROTOCOL_HEADER, "1")
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("every answer is JSON"))
}

/// A restore mutation of one visit's narrative, at `seq`, stamped now by `node`.
pub(crate) fn restore_narrative(seq: u64, visit: &Visit, node: Uuid, text: &str) -> Mutation {
    let version = Version {
        hlc: Hlc {
            millis: pocketbook_protocol::unix_millis(chrono::Utc::now()),
            counter: 0,
        },
        node,
    };
    Mutation {
        seq,
        entity: Entity::Visit,
        record_id: visit.id,
        kind: MutationKind::Restore,
        team_id: visit.meta.team_id,
        marking: visit.meta.marking,
        fields: [("narrative".to_string(), Value::from(text))].into(),
        base: Default::default(),
        sets: Default::default(),
        version,
        reason: None,
        versions: Some([("narrative".to_string(), version)].into()),
        conflicts: None,
    }
}

/// Pushes `mutations` raw under `epoch`.
pub(crate) async fn push(
    server: &TestServer,
    token: &str,
    epoch: &str,
    mutations: Vec<Mutation>,
) -> (u16, Value) {
    let request = PushRequest {
        mutations,
        epoch: Some(epoch.to_string()),
        ..PushRequest::default()
    };
    post(&server.url, token, "/v1/sync/push", &request).await
}

pub(crate) fn refusal_codes(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["code"]
                .as_str()
                .or(r["outcome"].as_str())
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_mutations_old_epochs_and_second_seq_gaps_are_refused() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let carol = server
        .officer("Carol", Role::Officer, &[server.team_b])
        .await;
    let (a, b, c) = (
        server.device(alice.id).await,
        server.device(bob.id).await,
        server.device(carol.id).await,
    );
    let mut person = person_draft();
    person.establishment_id = Some(server.school);
    let child = a.book.add_young_person(person.clone()).expect("person").id;
    let shared = a.book.record_visit(visit_draft(child, 3)).expect("visit");
    let mut sensitive = visit_draft(child, 2);
    sensitive.marking = Some(Marking::OfficialSensitive);
    let sensitive = a.book.record_visit(sensitive).expect("visit");
    let other_child = c.book.add_young_person(person).expect("person").id;
    let other_team = c
        .book
        .record_visit(visit_draft(other_child, 2))
        .expect("visit");
    for d in [&a, &b, &c] {
        d.book.sync().await.expect("sync");
    }
    let (old_epoch, bob_token) = (server.store.identity().await.expect("id").1, token(&b));
    let bob_node = b.book.device_id().expect("device id");

    // Outside a reconciliation a restore mutation is refused, even of a record Bob sees.
    let m = restore_narrative(1, &shared, bob_node, "rewritten");
    let (status, answer) = push(&server, &bob_token, &old_epoch, vec![m]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(refusal_codes(&answer), ["restore_refused"], "{answer}");

    let epoch = server.store.new_epoch().await.expect("new epoch");
    assert_ne!(epoch, old_epoch);

    // A push or pull on the old epoch: 409 epoch_changed with the server's position, nothing
    // applied.
    let m = restore_narrative(2, &shared, bob_node, "rewritten");
    let (status, answer) = push(&server, &bob_token, &old_epoch, vec![m]).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "epoch_changed");
    assert_eq!(answer["epoch"], epoch.as_str());
    assert_eq!(
        answer["position"]["seq"], 1,
        "the refused restore was answered"
    );
    let pull = PullRequest {
        epoch: Some(old_epoch.clone()),
        ..PullRequest::default()
    };
    let (status, answer) = post(&server.url, &bob_token, "/v1/sync/pull", &pull).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("epoch_changed"))
    );

    // Reconciling, Bob may restore only what he could see: not another team's record, not a
    // colleague's sensitive one. Nothing of either is written.
    let foreign = restore_narrative(2, &other_team, bob_node, "rewritten");
    let hidden = restore_narrative(3, &sensitive, bob_node, "rewritten");
    let (status, answer) = push(&server, &bob_token, &epoch, vec![foreign, hidden]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        refusal_codes(&answer),
        ["restore_refused", "restore_refused"]
    );
    // A record he sees is restored, by higher version, whoever's node stamped it.
    let alice_node = a.book.device_id().expect("device id");
    let seen = restore_narrative(4, &shared, alice_node, "restored by Bob");
    let (status, answer) = push(&server, &bob_token, &epoch, vec![seen]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(refusal_codes(&answer), ["applied"]);

    // Alice's first push of the epoch may skip sequence numbers; her second may not.
    let alice_token = token(&a);
    let acked = a.book.sync_status().expect("status").pending;
    assert_eq!(acked, 0);
    let m = restore_narrative(50, &shared, alice_node, "first gap");
    let (status, answer) = push(&server, &alice_token, &epoch, vec![m]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(refusal_codes(&answer), ["applied"]);
    let m = restore_narrative(60, &shared, alice_node, "second gap");
    let (status, answer) = push(&server, &alice_token, &epoch, vec![m]).await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (409, Some("seq_gap")),
        "{answer}"
    );

    // What the others see: the foreign and the sensitive visits untouched.
    for d in [&a, &c] {
        d.book.sync().await.expect("sync");
    }
    assert_eq!(
        c.book.visit(other_team.id).expect("visit").narrative,
        other_team.narrative
    );
    assert_eq!(
        a.book.visit(sensitive.id).expect("visit").narrative,
        sensitive.narrative
    );
    assert_eq!(
        a.book.visit(shared.id).expect("visit").narrative,
        "first gap"
    );
    assert!(a.book.conflicts().expect("conflicts").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn new_epoch_invalidates_unused_codes_and_sets_restore_pending() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let before = server.code(alice.id).await;
    server.store.new_epoch().await.expect("new epoch");
    let device = TestDevice::new();
    let refused = device.book.enroll(&server.url, &before).await;
    assert!(
        refused.is_err(),
        "a code issued before the new epoch must not work"
    );
    let after = server.code(alice.id).await;
    device
        .book
        .enroll(&server.url, &after)
        .await
        .expect("a code issued after it works");
    let pending: String = rusqlite::Connection::open(server.dir().join("server.db"))
        .expect("open")
        .query_row(
            "SELECT value FROM meta WHERE key = 'restore_pending'",
            [],
            |r| r.get(0),
        )
        .expect("restore_pending is set");
    assert!(
        chrono::DateTime::parse_from_rfc3339(&pending).is_ok(),
        "{pending}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_taken_while_a_device_pushes_opens_and_verifies() {
    let mut server = ServerProcess::new();
    let team = server.admin(&["team", "add", "Team A"]);
    let alice = server.admin(&[
        "officer", "add", "--name", "Alice", "--number", "1", "--team", &team,
    ]);
    server.start();
    let a = server.device(&alice).await;
    let writer = tokio::spawn(async move {
        let child = new_person(&a.book);
        for round in 0..5 {
            for i in 0..40 {
                a.book
                    .record_visit(visit_draft(child, 2 + (round * 40 + i) % 20))
                    .expect("visit");
            }
            a.book.sync().await.expect("sync");
        }
        a
    });
    let (mut backups, mut during) = (Vec::new(), 0);
    // Up to three copies while it writes (one at least, even if it finished first).
    while backups.is_empty() || (!writer.is_finished() && backups.len() < 3) {
        during += usize::from(!writer.is_finished());
        let file = server.path(&format!("backup-{}.db", backups.len()));
        let line = server.admin(&["backup", file.to_str().expect("utf-8")]);
        assert!(line.starts_with("backed up to"), "{line}");
        backups.push(file);
    }
    assert!(during > 0, "no backup was taken while the device wrote");
    let a = writer.await.expect("writer");
    assert!(a.book.pending_changes().expect("pending").is_empty());
    for file in &backups {
        let check = pocketbook_tests::restore_fixture::admin(file, &["validate-store"]);
        assert!(check.ends_with("quarantined 0"), "{check}");
        let verdict = pocketbook_tests::restore_fixture::admin(file, &["audit", "verify"]);
        assert!(verdict.starts_with("audit chain holds"), "{verdict}");
    }
}

/// The epoch rules on one backend: `new-epoch` refuses the old epoch with the device's
/// position, invalidates unused codes, and takes a restore while the device reconciles.
async fn epoch_rules_on<S: Store + Epochs>(store: S) {
    use pocketbook_sync_server::auth::{code_hash, new_code};
    use pocketbook_sync_server::error::PushRefusal;
    use pocketbook_sync_server::store::Enrolment;
    use pocketbook_tests::store_fixture::{all_applied, officer, phone};

    let team = store.add_team("Team".into()).await.expect("team").id;
    let alice = officer(&store, Role::Officer, &[team]).await;
    let mut p = phone(&store, &alice).await;
    let visit = p.create(
        Entity::Visit,
        team,
        Marking::Official,
        serde_json::json!({}),
    );
    assert!(all_applied(&p.push(&store, vec![visit.clone()]).await));
    let unused = new_code();
    store
        .add_code(alice.id, code_hash(&unused), 3600)
        .await
        .expect("code");
    let old = store.identity().await.expect("identity").1;
    let epoch = store.new_epoch().await.expect("new epoch");
    assert_ne!(epoch, old);
    assert_eq!(store.identity().await.expect("identity").1, epoch);

    let edit = p.update(
        &visit,
        serde_json::json!({"place": "elsewhere"}),
        Some(visit.version),
    );
    let request = |mutations: Vec<Mutation>, named: &str| PushRequest {
        mutations,
        epoch: Some(named.to_string()),
        ..PushRequest::default()
    };
    let refused = store
        .push(p.device.clone(), request(vec![edit.clone()], &old))
        .await
        .expect("push");
    match refused {
        Err(PushRefusal::EpochChanged { epoch: e, position }) => {
            assert_eq!(e, epoch);
            assert_eq!(position.seq, 1, "nothing of the refused push was applied");
        }
        other => panic!("expected epoch_changed, got {other:?}"),
    }
    let pull = store
        .epoch_refusal(p.device.device_id, Some(old.clone()))
        .await
        .expect("check");
    assert!(matches!(pull, Some(PushRefusal::EpochChanged { .. })));
    assert!(store
        .epoch_refusal(p.device.device_id, Some(epoch.clone()))
        .await
        .expect("check")
        .is_none());

    let stamp = p.stamp();
    let mut restore = edit.clone();
    restore.kind = MutationKind::Restore;
    restore.version = stamp;
    restore.versions = Some([("place".to_string(), stamp)].into());
    restore.base = Default::default();
    let answer = store
        .push(p.device.clone(), request(vec![restore], &epoch))
        .await
        .expect("push")
        .expect("taken");
    assert!(all_applied(&answer), "{answer:?}");
    let audit = store.audit_lines().await.expect("audit").join("\n");
    assert!(audit.contains("\"operation\":\"restore\"") && audit.contains("new_epoch"));
    let late = store
        .enroll(
            code_hash(&unused),
            Uuid::now_v7(),
            "late".into(),
            code_hash(&new_code()),
            "client".into(),
        )
        .await
        .expect("enrol");
    assert!(matches!(late, Enrolment::BadCode), "{late:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn epoch_rules_hold_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let store =
        pocketbook_sync_server::store::SqliteStore::open(&dir.path().join("s.db")).expect("store");
    epoch_rules_on(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn epoch_rules_hold_on_postgres() {
    let (store, _url) = pocketbook_tests::pg::pg_store(Default::default()).await;
    epoch_rules_on(store).await;
}
