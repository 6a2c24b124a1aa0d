//! Clock skew, leases and large syncs against a real server: a device whose clock runs ahead
//! is corrected and resends without losing anything; a lapsed lease hides records until the
//! device re-authenticates; big pushes and pulls go in gzip-compressed batches and pages.

use std::sync::Arc;

use pocketbook_core::model::{VisitFilter, VisitUpdate};
use pocketbook_core::{Entity, Error, SeededSources};
use pocketbook_protocol::Role;
use pocketbook_sync_server::api::Config;
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{person_draft, raw_connection, visit_draft};

#[tokio::test(flavor = "multi_thread")]
async fn a_device_clock_ten_minutes_fast_is_corrected_and_nothing_is_lost() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = server.device(alice.id).await;
    // The phone's clock runs ten minutes fast.
    raw_connection(&device.path)
        .execute("UPDATE device SET clock_offset_ms = 600000", [])
        .unwrap();
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    let visit = device.book.record_visit(visit_draft(child, 1)).unwrap();
    // A second edit based on the first: after re-stamping it must still fast-forward.
    let update = VisitUpdate {
        narrative: Some("Second thoughts".into()),
        ..Default::default()
    };
    device.book.update_visit(visit.id, update).unwrap();

    let report = device.book.sync().await.unwrap();
    assert_eq!((report.pushed, report.merged, report.rejected), (3, 0, 0));
    assert!(device.book.pending_changes().unwrap().is_empty());
    let now = pocketbook_protocol::unix_millis(chrono::Utc::now());
    let versions = device.book.field_versions(Entity::Visit, visit.id).unwrap();
    assert!(
        versions.values().all(|v| v.hlc.millis <= now + 60_000),
        "stamps were corrected"
    );
    let offset: i64 = raw_connection(&device.path)
        .query_row("SELECT clock_offset_ms FROM device", [], |r| r.get(0))
        .unwrap();
    assert!(
        offset.abs() < 60_000,
        "offset corrected to about zero, was {offset}"
    );
    // Another device sees the final text, and there is no conflict with itself.
    let other = server.device(alice.id).await;
    other.book.sync().await.unwrap();
    assert_eq!(
        other.book.visit(visit.id).unwrap().narrative,
        "Second thoughts"
    );
    assert!(other.book.conflicts().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lapsed_lease_hides_records_until_reauthentication_which_keeps_the_outbox() {
    let server = TestServer::start_with(Config {
        // Long enough that the server's own (real-time) lease never lapses under a slow run;
        // the device's seeded clock is moved past it instead.
        lease_seconds: 60,
        ..Config::default()
    })
    .await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    // The device's wall time is seeded: the lease lapses by moving it, not by sleeping.
    let time = Arc::new(SeededSources::new(3, chrono::Utc::now()));
    let device = TestDevice::with_sources(time.clone());
    device
        .book
        .enroll(&server.url, &server.code(alice.id).await)
        .await
        .unwrap();
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    device.book.sync().await.unwrap();
    device.book.record_visit(visit_draft(child, 1)).unwrap();
    assert!(device.book.visits(&VisitFilter::default()).is_ok());
    time.advance(chrono::Duration::seconds(61));

    // The visit was recorded before the lapse: lists leave it out, and the outbox and the
    // chronology answer LeaseExpired (see tests/tests/trust/lease_device.rs for the rest).
    assert!(device
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .is_empty());
    assert!(matches!(
        device.book.chronology(child, "check"),
        Err(Error::LeaseExpired)
    ));
    assert!(matches!(
        device.book.pending_changes(),
        Err(Error::LeaseExpired)
    ));
    assert_eq!(
        device.book.sync_status().unwrap().pending,
        1,
        "the outbox is kept"
    );

    let device_id = device.book.device_id().unwrap();
    device
        .book
        .reauthenticate(&server.code(alice.id).await)
        .await
        .unwrap();
    assert_eq!(device.book.device_id().unwrap(), device_id);
    assert_eq!(
        device.book.visits(&VisitFilter::default()).unwrap().len(),
        1
    );
    device.book.sync().await.unwrap();
    assert!(device.book.pending_changes().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn large_pushes_and_pulls_go_in_batches_and_pages() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let a = server.device(alice.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = a.book.add_young_person(draft).unwrap().id;
    for hour in 0..1_200 {
        a.book
            .record_visit(visit_draft(child, 2 + hour % 500))
            .unwrap();
    }
    let report = a.book.sync().await.unwrap();
    assert_eq!(report.pushed, 1_201);
    let b = TestDevice::new();
    b.book
        .enroll(&server.url, &server.code(alice.id).await)
        .await
        .unwrap();
    let progress = std::sync::Mutex::new(Vec::new());
    let report = b
        .book
        .sync_with_progress(|p| progress.lock().unwrap().push(p))
        .await
        .unwrap();
    assert_eq!(report.pulled, 1_201);
    // Answers arrive gzip-compressed: far fewer bytes than the records' JSON.
    let json_bytes: usize = b
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap().len())
        .sum();
    assert!(report.bytes_received > 0);
    assert!(
        report.bytes_received < json_bytes as u64 / 3,
        "received {} bytes for {json_bytes} bytes of JSON",
        report.bytes_received
    );
    assert_eq!(b.book.visits(&VisitFilter::default()).unwrap().len(), 1_200);
    let pages = progress
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.phase == pocketbook_core::SyncPhase::Pull)
        .count();
    assert!(pages >= 2, "pulled in pages, saw {pages}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_larger_than_the_server_takes_is_split_until_it_fits() {
    let server = TestServer::start_with(Config {
        max_batch: 40,
        ..Config::default()
    })
    .await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = server.device(alice.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    for hour in 0..120 {
        device
            .book
            .record_visit(visit_draft(child, 2 + hour))
            .unwrap();
    }
    let report = device.book.sync().await.unwrap();
    assert_eq!((report.pushed, report.rejected), (121, 0));
    assert!(device.book.pending_changes().unwrap().is_empty());
    let text = pocketbook_tests::http_client()
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("route=\"/v1/sync/push\",status=\"413\""),
        "the server refused the big batches first:\n{text}"
    );
}
