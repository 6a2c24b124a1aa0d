//! Leases on the device end to end (issue 11, item 4). A lapsed device still pushes — what an
//! officer recorded at a door reaches the station — then its sync ends with `LeaseExpired`
//! without pulling; it shows only what the officer made since the lapse; nothing is wiped; and
//! `reauthenticate` brings everything back with the same device id and outbox. The server's
//! `401 lease_expired` is played by a stand-in server (the real one sends it once the server
//! side of leases lands); the rest runs against the real server.

use std::sync::Arc;

use pocketbook_core::model::VisitFilter;
use pocketbook_core::{Error, SeededSources};
use pocketbook_protocol::wire::{
    EnrollResponse, PushOutcome, PushRequest, PushResponse, PushResult,
};
use pocketbook_protocol::Role;
use pocketbook_sync_server::api::Config;
use pocketbook_tests::fake_server::{self, Answer};
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{person_draft, provisioning, raw_connection, visit_draft};
use uuid::Uuid;

fn outbox_rows(device: &TestDevice) -> i64 {
    raw_connection(&device.path)
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lapsed_device_pushes_what_it_recorded_then_stops_until_reauthenticated() {
    // A lease long enough that the server's own (real-time) lease holds for the whole test;
    // the device's seeded clock moves past it (within the allowed skew).
    let server = TestServer::start_with(Config {
        lease_seconds: 60,
        ..Config::default()
    })
    .await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let time = Arc::new(SeededSources::new(5, chrono::Utc::now()));
    let device = TestDevice::with_sources(time.clone());
    device
        .book
        .enroll(&server.url, &server.code(alice.id).await)
        .await
        .unwrap();
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    let before = device.book.record_visit(visit_draft(child, 2)).unwrap().id;
    device.book.sync().await.unwrap();
    time.advance(chrono::Duration::seconds(61));

    // At the door: the picker finds the known child by full name only; the new visit is
    // readable and editable, the older one is not.
    assert!(device.book.find_young_people("amira").unwrap().is_empty());
    let found = device.book.find_young_people("Amira Testcase").unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![child]);
    let at_door = device.book.record_visit(visit_draft(child, 1)).unwrap().id;
    assert!(device.book.visit(at_door).is_ok());
    assert!(matches!(
        device.book.visit(before),
        Err(Error::LeaseExpired)
    ));

    // The sync pushes, then stops: nothing pulled, nothing wiped.
    assert!(matches!(device.book.sync().await, Err(Error::LeaseExpired)));
    assert_eq!(outbox_rows(&device), 0, "the door visit was pushed");
    assert!(device.path.exists());
    let colleague = server.device(alice.id).await;
    colleague.book.sync().await.unwrap();
    assert!(
        colleague.book.visit(at_door).is_ok(),
        "it reached the station"
    );
    assert!(matches!(device.book.sync().await, Err(Error::LeaseExpired)));
    assert!(matches!(
        device.book.visit(before),
        Err(Error::LeaseExpired)
    ));

    let device_id = device.book.device_id().unwrap();
    device
        .book
        .reauthenticate(&server.code(alice.id).await)
        .await
        .unwrap();
    assert_eq!(device.book.device_id().unwrap(), device_id);
    assert!(device.book.visit(before).is_ok());
    assert_eq!(
        device.book.visits(&VisitFilter::default()).unwrap().len(),
        2
    );
    device.book.sync().await.unwrap();
}

/// Acknowledges every mutation and audit event of a push as applied.
fn take_push(body: &[u8]) -> Answer {
    let push: PushRequest = serde_json::from_slice(body).unwrap();
    let answer = PushResponse {
        results: push
            .mutations
            .iter()
            .map(|m| PushResult {
                seq: m.seq,
                outcome: PushOutcome::Applied,
            })
            .collect(),
        acked_seq: push.mutations.last().map_or(0, |m| m.seq),
        audit_acked_seq: push.audit.last().map_or(0, |e| e.seq),
        resolved: vec![],
        model_generation: None,
        server_time_ms: u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap(),
    };
    Answer::json(200, &serde_json::to_value(answer).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_servers_lease_expired_ends_a_sync_after_its_push_and_never_wipes() {
    let server = fake_server::start(|path, body| match path {
        "/v1/enroll" => Answer::json(
            200,
            &serde_json::to_value(EnrollResponse {
                token: "cd".repeat(32),
                server_id: Uuid::from_u128(0x5e),
                provisioning: provisioning(),
                lease_seconds: 86_400,
            })
            .unwrap(),
        ),
        "/v1/sync/push" => take_push(body),
        _ => Answer::error(401, "lease_expired"),
    })
    .await;
    let device = TestDevice::new();
    device.book.enroll(&server.url, "CODE-1").await.unwrap();
    let child = device.book.add_young_person(person_draft()).unwrap().id;
    let visit = device.book.record_visit(visit_draft(child, 1)).unwrap().id;

    assert!(matches!(device.book.sync().await, Err(Error::LeaseExpired)));
    assert_eq!(
        *server.hits.lock().unwrap(),
        ["/v1/enroll", "/v1/sync/push", "/v1/sync/pull"],
        "pushed first, then the pull was refused"
    );
    assert_eq!(outbox_rows(&device), 0, "the push's answers were applied");
    assert!(device.path.exists(), "never a wipe");
    assert!(matches!(device.book.visit(visit), Err(Error::LeaseExpired)));
    assert!(matches!(
        device.book.pending_changes(),
        Err(Error::LeaseExpired)
    ));
    assert!(matches!(device.book.conflicts(), Err(Error::LeaseExpired)));

    device.book.reauthenticate("CODE-2").await.unwrap();
    assert!(device.book.visit(visit).is_ok());
}
