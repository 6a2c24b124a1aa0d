//! The device's transport (issue 11, item 5): plain `http://` only to loopback; no redirect
//! followed; and a `device_revoked` answer wipes the device only when it comes from the very
//! origin it enrolled with — a redirect to another origin that says so wipes nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pocketbook_core::model::VisitFilter;
use pocketbook_core::Error;
use pocketbook_protocol::wire::EnrollResponse;
use pocketbook_tests::fake_server::{self, Answer};
use pocketbook_tests::server::TestDevice;
use pocketbook_tests::{person_draft, provisioning, visit_draft};
use uuid::Uuid;

fn enrolment() -> Answer {
    let answer = EnrollResponse {
        token: "ab".repeat(32),
        server_id: Uuid::from_u128(0x5e),
        provisioning: provisioning(),
        lease_seconds: 3_600,
    };
    Answer::json(200, &serde_json::to_value(answer).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let device = TestDevice::new();
    for url in [
        "http://sync.force.example",
        "http://10.1.2.3:8080",
        "http://[2001:db8::1]:80",
    ] {
        assert!(
            matches!(
                device.book.enroll(url, "CODE-1234").await,
                Err(Error::InsecureServer)
            ),
            "{url}"
        );
    }
    assert!(matches!(device.book.session(), Err(Error::NotEnrolled)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_is_not_followed_and_a_revocation_from_another_origin_wipes_nothing() {
    // The other origin would say "revoked" to anything.
    let elsewhere = fake_server::start(|_, _| Answer::error(401, "device_revoked")).await;
    let target = elsewhere.url.clone();
    let revoke_directly = Arc::new(AtomicBool::new(false));
    let direct = revoke_directly.clone();
    let server = fake_server::start(move |path, _| match path {
        "/v1/enroll" => enrolment(),
        _ if direct.load(Ordering::SeqCst) => Answer::error(401, "device_revoked"),
        _ => Answer::redirect(307, &format!("{target}{path}")),
    })
    .await;

    let device = TestDevice::new();
    device
        .book
        .enroll(&server.url, "CODE-1234")
        .await
        .expect("enrol");
    let child = device.book.add_young_person(person_draft()).unwrap().id;
    device.book.record_visit(visit_draft(child, 1)).unwrap();

    match device.book.sync().await {
        Err(Error::Network { reason }) => assert!(reason.contains("307"), "{reason}"),
        other => panic!("expected a network error naming the redirect, got {other:?}"),
    }
    assert!(
        elsewhere.hits.lock().unwrap().is_empty(),
        "the redirect was not followed"
    );
    assert!(device.path.exists(), "nothing wiped");
    assert_eq!(
        device.book.visits(&VisitFilter::default()).unwrap().len(),
        1
    );
    assert_eq!(device.book.pending_changes().unwrap().len(), 2);

    // The enrolled origin itself saying so does wipe (the control).
    revoke_directly.store(true, Ordering::SeqCst);
    assert!(matches!(
        device.book.sync().await,
        Err(Error::DeviceRevoked)
    ));
    assert!(!device.path.exists());
}
