//! Forks (issue 12, item 1) against a real server over real HTTP: a device store copied with
//! its key to a second place, both recording (creates and edits, the same record edited on
//! both), both syncing: the second copy is told `device_forked`, re-enrols as a new device
//! with a code and sends its re-stamped changes; every record from both arrives exactly once,
//! nothing either recorded is lost, every audit chain verifies. And the attacks: a resend after
//! a lost answer is still acknowledged; a raw push resending a held seq or audit event with
//! other content, or naming another head, is refused 409 and changes nothing.

use pocketbook_core::model::{VisitFilter, VisitUpdate};
use pocketbook_core::{Error, Pocketbook};
use pocketbook_protocol::wire::{AckedPosition, ErrorBody, PushResponse};
use pocketbook_protocol::{AuditOperation, ErrorCode, Role, GENESIS_HASH};
use pocketbook_tests::fork_fixture::{
    copy_store, open, server_db, server_record, verified_device_chains, RawDevice,
};
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{person_draft, visit_draft};
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

fn narrate(text: &str) -> VisitUpdate {
    VisitUpdate {
        narrative: Some(text.into()),
        ..VisitUpdate::default()
    }
}

/// A child at the server's school.
fn child_draft(server: &TestServer) -> pocketbook_core::model::YoungPersonDraft {
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    draft
}

fn visit_ids(book: &Pocketbook) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = book
        .visits(&VisitFilter::default())
        .expect("visits")
        .iter()
        .map(|v| v.id)
        .collect();
    ids.sort();
    ids
}

/// Whether `text` is a visit's current narrative on the server or a value in one of its
/// conflicts (kept, not lost).
fn kept_on_server(server: &TestServer, visit: Uuid, text: &str) -> bool {
    let current = server_record(server, visit).expect("visit on the server");
    if current["narrative"] == text {
        return true;
    }
    let conn = server_db(server);
    let mut stmt = conn
        .prepare("SELECT data FROM conflicts WHERE record_id = ?1")
        .expect("conflicts");
    let found = stmt
        .query_map([visit.to_string()], |r| r.get::<_, String>(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .any(|data| data.contains(text));
    found
}

#[tokio::test]
async fn a_copied_store_forks_re_enrols_and_nothing_is_lost_or_doubled() {
    let server = TestServer::start().await;
    let officer = server
        .officer("PC Fork", Role::Officer, &[server.team_a])
        .await;
    let dir = tempfile::tempdir().expect("dir");
    let (path_a, path_b) = (dir.path().join("a.db"), dir.path().join("b.db"));

    // One phone: a child and a visit synced, then a visit recorded but not yet sent.
    let book = open(&path_a);
    book.enroll(&server.url, &server.code(officer.id).await)
        .await
        .expect("enrol");
    let child = book
        .add_young_person(child_draft(&server))
        .expect("child")
        .id;
    let shared = book.record_visit(visit_draft(child, 5)).expect("visit").id;
    book.sync().await.expect("first sync");
    let pending = book.record_visit(visit_draft(child, 4)).expect("visit").id;
    let old_id = book.device_id().expect("id");

    // Its store copied, key and all, to a second place.
    drop(book);
    copy_store(&path_a, &path_b);
    let a = open(&path_a);
    let b = open(&path_b);
    assert_eq!(b.device_id().expect("id"), old_id);

    // Both record: creates, and an edit of the same visit on both.
    let only_a = a.record_visit(visit_draft(child, 3)).expect("visit").id;
    a.update_visit(shared, narrate("A's account"))
        .expect("edit");
    let only_b = b.record_visit(visit_draft(child, 2)).expect("visit").id;
    let child_b = b.add_young_person(child_draft(&server)).expect("child").id;
    b.update_visit(shared, narrate("B's account"))
        .expect("edit");
    b.update_visit(pending, narrate("B's follow-up"))
        .expect("edit");

    a.sync().await.expect("the first copy syncs as before");
    let forked = b.sync().await;
    assert!(
        matches!(forked, Err(Error::DeviceForked)),
        "the second copy is told: {forked:?}"
    );
    let new_id = b.device_id().expect("id");
    assert_ne!(new_id, old_id, "a new device id");
    // Nothing hidden, nothing dropped: every record and every unsent change is still there.
    assert_eq!(visit_ids(&b), {
        let mut ids = vec![shared, pending, only_b];
        ids.sort();
        ids
    });
    assert!(b.young_person(child_b).is_ok());
    let restamped = b.pending_changes().expect("pending");
    assert_eq!(
        restamped.iter().map(|m| m.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4],
        "the unsent changes renumbered from 1 (the pending visit's create was the server's)"
    );
    assert!(restamped.iter().all(|m| m.version.node == new_id));
    // Until the new id is enrolled, a sync is refused the same way; a code enrols it.
    assert!(matches!(b.sync().await, Err(Error::DeviceForked)));
    b.reauthenticate(&server.code(officer.id).await)
        .await
        .expect("the new id enrols with a code");
    b.sync().await.expect("the re-stamped changes go");

    // Everyone syncs until quiet.
    for _ in 0..2 {
        a.sync().await.expect("sync a");
        b.sync().await.expect("sync b");
    }
    let all_visits = {
        let mut ids = vec![shared, pending, only_a, only_b];
        ids.sort();
        ids
    };
    assert_eq!(visit_ids(&a), all_visits);
    assert_eq!(visit_ids(&b), all_visits);
    for book in [&a, &b] {
        assert!(book.young_person(child).is_ok());
        assert!(book.young_person(child_b).is_ok());
        assert!(book.pending_changes().expect("pending").is_empty());
    }
    for id in all_visits.iter().chain([&child, &child_b]) {
        assert!(server_record(&server, *id).is_some(), "{id} arrived once");
    }
    let visits_on_server: i64 = server_db(&server)
        .query_row(
            "SELECT count(*) FROM records WHERE entity = 'visit'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(visits_on_server, 4, "nothing doubled");
    // Both edits of the shared visit are kept (one current, the other in a conflict), and
    // B's edit of the visit both copies held reached the server.
    assert!(kept_on_server(&server, shared, "A's account"));
    assert!(kept_on_server(&server, shared, "B's account"));
    assert_eq!(
        server_record(&server, pending).expect("pending visit")["narrative"],
        Value::from("B's follow-up")
    );

    // Audit: both chains verify on the server, the new one starting with forked_from naming
    // the old id; both devices' own chains verify.
    let chains = verified_device_chains(&server);
    let (_, new_chain) = chains
        .iter()
        .find(|(d, _)| *d == new_id)
        .expect("the new id's chain");
    assert_eq!(new_chain[0].operation, AuditOperation::ForkedFrom);
    assert_eq!(
        new_chain[0].justification.as_deref(),
        Some(old_id.to_string().as_str())
    );
    assert!(chains.iter().any(|(d, _)| *d == old_id));
    a.verify_audit_chain().expect("a's chain");
    b.verify_audit_chain().expect("b's chain");
}

fn code_of(body: &Value) -> ErrorCode {
    serde_json::from_value::<ErrorBody>(body.clone())
        .expect("error body")
        .code
}

#[tokio::test]
async fn a_resend_is_acknowledged_and_a_changed_resend_is_refused_without_a_trace() {
    let server = TestServer::start().await;
    let officer = server
        .officer("PC Raw", Role::Officer, &[server.team_a])
        .await;
    let mut raw = RawDevice::enrolled(&server, officer.id).await;
    let first = raw.create_visit("first");
    let second = raw.create_visit("second");
    let sent = vec![first.clone(), second.clone()];
    let events = raw.audit.clone();
    let (status, body) = raw.push(&sent, &events, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The answer was lost: the same push again, naming what the device had acknowledged
    // (nothing), is acknowledged and changes nothing.
    let nothing = AckedPosition {
        seq: 0,
        audit_seq: 0,
        audit_head: GENESIS_HASH.into(),
    };
    let (status, body) = raw.push(&sent, &events, Some(nothing.clone())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: PushResponse = serde_json::from_value(body).expect("answer");
    assert_eq!((answer.acked_seq, answer.audit_acked_seq), (2, 2));
    let before = snapshot(&server);

    // A changed mutation at a held seq: 409, the prefix before it, nothing written.
    let mut changed = second.clone();
    changed
        .fields
        .insert("narrative".into(), Value::from("rewritten"));
    let (status, body) = raw
        .push(&[first.clone(), changed], &events, Some(nothing.clone()))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code_of(&body), ErrorCode::DeviceForked);
    let position: AckedPosition =
        serde_json::from_value(body["position"].clone()).expect("position");
    assert_eq!((position.seq, position.audit_seq), (1, 2));
    assert_eq!(position.audit_head, events[1].hash);
    assert_eq!(snapshot(&server), before, "nothing applied");
    assert_eq!(
        server_record(&server, second.record_id).expect("held")["narrative"],
        Value::from("second")
    );

    // A changed audit event at a held seq.
    let mut other = events.clone();
    other[1].justification = Some("edited".into());
    other[1].hash = other[1].compute_hash();
    let (status, body) = raw.push(&[], &other, Some(nothing)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code_of(&body), ErrorCode::DeviceForked);
    assert_eq!(body["position"]["audit_seq"], Value::from(1));

    // An acknowledged position naming another head at a held audit seq.
    let wrong_head = AckedPosition {
        seq: 2,
        audit_seq: 1,
        audit_head: events[1].hash.clone(),
    };
    let (status, body) = raw.push(&[], &[], Some(wrong_head)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(code_of(&body), ErrorCode::DeviceForked);
    assert_eq!(snapshot(&server), before, "still nothing applied");

    // The refusals are in the server's own audit log, with no content.
    let conn = server_db(&server);
    let refusals: Vec<String> = conn
        .prepare("SELECT detail FROM audit WHERE operation = 'device_forked'")
        .expect("audit")
        .query_map([], |r| r.get::<_, String>(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(refusals.len(), 3);
    assert!(refusals.iter().all(|d| !d.contains("rewritten")));

    // The honest continuation is still taken.
    let third = raw.create_visit("third");
    let tail = raw.audit[2..].to_vec();
    let acked = AckedPosition {
        seq: 2,
        audit_seq: 2,
        audit_head: events[1].hash.clone(),
    };
    let (status, body) = raw.push(&[third], &tail, Some(acked)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// What a refused push must not change: records, change numbers, the device's position and
/// its audit rows.
fn snapshot(server: &TestServer) -> Vec<String> {
    let conn = server_db(server);
    let mut out = Vec::new();
    for sql in [
        "SELECT id || ':' || fields || ':' || versions FROM records ORDER BY id",
        "SELECT device_id || ':' || high_water || ':' || audit_seq || ':' || audit_head
         FROM devices ORDER BY device_id",
        "SELECT device_id || ':' || seq || ':' || event FROM device_audit ORDER BY device_id, seq",
        "SELECT device_id || ':' || seq || ':' || digest FROM mutation_digests ORDER BY 1",
        "SELECT count(*) || '' FROM bucket_entries",
        "SELECT count(*) || '' FROM quarantine",
    ] {
        let mut stmt = conn.prepare(sql).expect(sql);
        out.extend(
            stmt.query_map([], |r| r.get::<_, String>(0))
                .expect("rows")
                .map(|r| r.expect("row")),
        );
    }
    out
}

/// The comparison on both server backends, through the `Store` trait: a resend of what was
/// taken (applied or refused) is acknowledged; the same seqs with other content are a fork
/// with the prefix held as sent, and change nothing.
async fn resends_compare_on<S: pocketbook_sync_server::store::Store>(store: S) {
    use pocketbook_protocol::{Entity, Marking};
    use pocketbook_sync_server::error::PushRefusal;
    use pocketbook_tests::store_fixture::{all_applied, officer, phone};
    use serde_json::json;

    let team = store.add_team("T".into()).await.expect("team").id;
    let other = store.add_team("U".into()).await.expect("team").id;
    let me = officer(&store, Role::Officer, &[team]).await;
    let mut p = phone(&store, &me).await;
    let visit = p.create(
        Entity::Visit,
        team,
        Marking::Official,
        json!({"narrative": "one"}),
    );
    // Another team's bucket: refused (quarantined), yet its seq is taken all the same.
    let refused = p.create(Entity::Visit, other, Marking::Official, json!({}));
    let edit = p.update(&visit, json!({"narrative": "two"}), Some(visit.version));
    let sent = vec![visit.clone(), refused.clone(), edit.clone()];
    let first = p.push(&store, sent.clone()).await;
    assert_eq!(first.acked_seq, 3);
    assert!(!all_applied(&first), "the other team's create was refused");
    let again = p.push(&store, sent.clone()).await;
    assert_eq!(
        again.results, first.results,
        "a resend is answered as it was the first time, the refusal included"
    );

    let request = |mutations| pocketbook_protocol::wire::PushRequest {
        mutations,
        ..Default::default()
    };
    let mut changed_refusal = refused.clone();
    changed_refusal.team_id = team;
    let mut changed_edit = edit.clone();
    changed_edit
        .fields
        .insert("narrative".into(), json!("rewritten"));
    for (mutations, prefix) in [
        (vec![visit.clone(), changed_refusal], 1),
        (vec![visit.clone(), refused.clone(), changed_edit], 2),
    ] {
        let answer = store
            .push(p.device.clone(), request(mutations))
            .await
            .expect("push");
        match answer {
            Err(PushRefusal::DeviceForked(position)) => assert_eq!(position.seq, prefix),
            other => panic!("a changed resend is a fork: {other:?}"),
        }
    }
    let next = p.update(&visit, json!({"narrative": "three"}), Some(edit.version));
    let taken = p.push(&store, vec![next]).await;
    assert_eq!(
        taken.acked_seq, 4,
        "nothing of the forks was applied; the seq goes on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resends_compare_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = pocketbook_sync_server::store::SqliteStore::open(&dir.path().join("server.db"))
        .expect("sqlite store");
    resends_compare_on(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resends_compare_on_postgres() {
    let (store, _url) =
        pocketbook_tests::pg::pg_store(pocketbook_sync_server::store::PostgresOptions::default())
            .await;
    resends_compare_on(store).await;
}
