//! The server enforces leases (issue 11): a pull (and a push within the lease) renews a
//! device's lease; past it, pulls answer `401 lease_expired` at once (never `device_revoked`)
//! while pushes are still taken for the grace period, then refused too; re-authentication with
//! a code and the token the device holds gives a new lease and keeps the device id. The
//! server's clock is seeded and moved, never slept on; every assertion is on raw HTTP.

use std::sync::Arc;

use chrono::Duration;
use pocketbook_protocol::sources::SeededSources;
use pocketbook_protocol::wire::PROTOCOL_HEADER;
use pocketbook_protocol::{Role, PROTOCOL_VERSION};
use pocketbook_sync_server::api::Config;
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// Posts `body` to `path`, with a bearer token if given; the status and the JSON answer.
async fn post(server: &TestServer, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = pocketbook_tests::http_client()
        .post(format!("{}{path}", server.url))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Enrols `device` with a new code of `officer`, presenting `proof` if given; the answer.
async fn enrol(
    server: &TestServer,
    officer: Uuid,
    device: Uuid,
    proof: Option<&str>,
) -> (u16, Value) {
    let code = server.code(officer).await;
    let body = json!({ "code": code, "device_id": device, "device_name": "phone", "token": proof });
    post(server, "/v1/enroll", None, body).await
}

async fn pull(server: &TestServer, token: &str) -> (u16, Value) {
    post(server, "/v1/sync/pull", Some(token), json!({})).await
}

async fn push(server: &TestServer, token: &str) -> (u16, Value) {
    post(
        server,
        "/v1/sync/push",
        Some(token),
        json!({ "mutations": [] }),
    )
    .await
}

fn code_of(answer: &Value) -> &str {
    answer["code"].as_str().unwrap_or("")
}

/// A server on a seeded clock with a 28-day lease and 14 days' grace (the defaults).
async fn server() -> (TestServer, Arc<SeededSources>) {
    let time = Arc::new(SeededSources::new(11, chrono::Utc::now()));
    let server = TestServer::start_with_sources(Config::default(), time.clone()).await;
    (server, time)
}

#[tokio::test(flavor = "multi_thread")]
async fn past_its_lease_a_device_may_push_in_the_grace_period_but_not_pull() {
    let (server, time) = server().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = Uuid::now_v7();
    let (status, enrolled) = enrol(&server, alice.id, device, None).await;
    assert_eq!(status, 200, "{enrolled}");
    assert_eq!(enrolled["lease_seconds"], 28 * 24 * 3600);
    let token = enrolled["token"].as_str().expect("token").to_string();
    assert_eq!(pull(&server, &token).await.0, 200);
    assert_eq!(push(&server, &token).await.0, 200);

    time.advance(Duration::days(29));
    let (status, answer) = pull(&server, &token).await;
    assert_eq!(
        (status, code_of(&answer)),
        (401, "lease_expired"),
        "{answer}"
    );
    let (status, answer) = push(&server, &token).await;
    assert_eq!(status, 200, "a push in the grace period is taken: {answer}");
    let (status, answer) = pull(&server, &token).await;
    assert_eq!(
        (status, code_of(&answer)),
        (401, "lease_expired"),
        "a push in the grace period does not renew the lease"
    );

    time.advance(Duration::days(14));
    let (status, answer) = push(&server, &token).await;
    assert_eq!(
        (status, code_of(&answer)),
        (401, "lease_expired"),
        "{answer}"
    );

    // Re-authentication: the same device id, proving the token it holds, with a new code.
    let (status, again) = enrol(&server, alice.id, device, Some(&token)).await;
    assert_eq!(status, 200, "{again}");
    let fresh = again["token"].as_str().expect("token").to_string();
    assert_ne!(fresh, token);
    assert_eq!(pull(&server, &fresh).await.0, 200);
    assert_eq!(push(&server, &fresh).await.0, 200);
    let (status, answer) = pull(&server, &token).await;
    assert_eq!(
        (status, code_of(&answer)),
        (401, "unauthorized"),
        "the old token no longer signs requests"
    );
    let listed = server.store.devices().await.expect("devices");
    assert_eq!(
        listed.len(),
        1,
        "the device id is kept, not a second device"
    );
    assert_eq!(listed[0].device_id, device);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_pull_renews_the_lease() {
    let (server, time) = server().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let (status, enrolled) = enrol(&server, alice.id, Uuid::now_v7(), None).await;
    assert_eq!(status, 200);
    let token = enrolled["token"].as_str().expect("token").to_string();
    for _ in 0..3 {
        time.advance(Duration::days(20));
        let (status, answer) = pull(&server, &token).await;
        assert_eq!(status, 200, "20 days after the last pull: {answer}");
    }
    time.advance(Duration::days(27));
    assert_eq!(
        push(&server, &token).await.0,
        200,
        "a push within the lease"
    );
    time.advance(Duration::days(27));
    assert_eq!(
        pull(&server, &token).await.0,
        200,
        "a push within the lease renewed it too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_device_answers_revoked_not_lease_expired_and_stays_revoked() {
    let (server, time) = server().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = Uuid::now_v7();
    let (_, enrolled) = enrol(&server, alice.id, device, None).await;
    let token = enrolled["token"].as_str().expect("token").to_string();
    time.advance(Duration::days(60));
    assert!(server.store.revoke(device).await.expect("revoke"));
    let (status, answer) = pull(&server, &token).await;
    assert_eq!((status, code_of(&answer)), (401, "device_revoked"));
    let (status, answer) = enrol(&server, alice.id, device, Some(&token)).await;
    assert_eq!(
        (status, code_of(&answer)),
        (401, "device_revoked"),
        "re-authentication does not lift a revocation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_stands_and_is_answered_when_renewing_the_lease_after_it_fails() {
    let (server, time) = server().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = server.device(alice.id).await;
    let mut draft = pocketbook_tests::person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    let visit = device
        .book
        .record_visit(pocketbook_tests::visit_draft(child, 2))
        .unwrap()
        .id;

    // From now on the server's database refuses any lease renewal, as it would one that found
    // no pooled connection in time, after the push had committed.
    let db = rusqlite::Connection::open(server.dir().join("server.db")).unwrap();
    let lease = |db: &rusqlite::Connection| -> Option<i64> {
        db.query_row("SELECT lease_until FROM devices", [], |r| r.get(0))
            .unwrap()
    };
    let enrolled_until = lease(&db);
    db.execute_batch(
        "CREATE TRIGGER no_renewal BEFORE UPDATE OF lease_until ON devices
         BEGIN SELECT RAISE(ABORT, 'no renewal'); END",
    )
    .unwrap();
    time.advance(Duration::days(1));
    let report = device.book.sync().await.expect("the sync goes through");
    assert_eq!(
        (report.pushed, report.rejected),
        (2, 0),
        "the young person and the visit"
    );
    assert!(
        device.book.pending_changes().unwrap().is_empty(),
        "acknowledged"
    );
    let held: i64 = db
        .query_row(
            "SELECT count(*) FROM records WHERE id = ?1",
            [visit.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, 1, "the server holds the visit");
    assert_eq!(lease(&db), enrolled_until, "the lease stays as it was");

    // Once renewals work again, the next sync renews it.
    db.execute_batch("DROP TRIGGER no_renewal").unwrap();
    time.advance(Duration::days(1));
    device.book.sync().await.unwrap();
    assert!(lease(&db) > enrolled_until, "renewed");
}
