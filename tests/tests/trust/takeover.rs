//! Enrolment cannot take a device (issue 11). The takeover of before: an officer with a fresh
//! code enrols with another officer's device id (device ids are in every pulled version). Now
//! that is `409 device_taken` and nothing changes: the owner's later work still arrives and is
//! truthfully `applied`, and the owner's own `reauthenticate(code)`, which proves possession
//! of its token, still works. A held id re-enrolled under another officer's code is refused,
//! a revoked id stays revoked, and enrolment is counted per code as well as per address.

use pocketbook_core::model::VisitFilter;
use pocketbook_protocol::wire::PROTOCOL_HEADER;
use pocketbook_protocol::{Role, PROTOCOL_VERSION};
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::store::{EnrolAttempt, Enrolment, Store};
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{person_draft, visit_draft};
use serde_json::{json, Value};
use uuid::Uuid;

/// Posts an enrolment over raw HTTP; the status and the JSON answer.
async fn enrol_raw(
    server: &TestServer,
    code: &str,
    device: Uuid,
    token: Option<&str>,
) -> (u16, Value) {
    let response = pocketbook_tests::http_client()
        .post(format!("{}/v1/enroll", server.url))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .json(&json!({ "code": code, "device_id": device, "device_name": "phone", "token": token }))
        .send()
        .await
        .expect("enrol request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code_of(answer: &Value) -> &str {
    answer["code"].as_str().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_code_cannot_take_a_device_and_its_owners_work_still_arrives() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let mallory = server
        .officer("Mallory", Role::Officer, &[server.team_a])
        .await;
    let phone = server.device(alice.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = phone.book.add_young_person(draft).expect("child").id;
    phone
        .book
        .record_visit(visit_draft(child, 3))
        .expect("visit");
    phone.book.sync().await.expect("first sync");
    let id = phone.book.device_id().expect("device id");

    // The takeover of before, with Mallory's own fresh code, and with Alice's, with no token
    // and with a made-up one.
    let attacker_code = server.code(mallory.id).await;
    for (code, token) in [
        (attacker_code.clone(), None),
        (attacker_code.clone(), Some("not-the-token")),
        (server.code(alice.id).await, None),
    ] {
        let (status, answer) = enrol_raw(&server, &code, id, token).await;
        assert_eq!(
            (status, code_of(&answer)),
            (409, "device_taken"),
            "{answer}"
        );
        assert!(answer.get("token").is_none(), "no token is handed out");
    }
    let held = server.store.devices().await.expect("devices");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].officer_id, alice.id, "the device is still Alice's");
    let audit = server.store.audit_lines().await.expect("audit").join("\n");
    assert_eq!(
        audit.matches("enrol_refused_taken").count(),
        3,
        "each refusal is audited"
    );
    // The refused attempt did not spend the code.
    let (status, answer) = enrol_raw(&server, &attacker_code, Uuid::now_v7(), None).await;
    assert_eq!(status, 200, "{answer}");

    // Alice carries on: her work arrives, and `applied` is the truth.
    phone
        .book
        .record_visit(visit_draft(child, 2))
        .expect("visit");
    phone.book.sync().await.expect("sync after the attempt");
    assert!(phone.book.pending_changes().expect("pending").is_empty());
    let colleague = server.device(alice.id).await;
    colleague.book.sync().await.expect("colleague sync");
    assert_eq!(
        colleague
            .book
            .visits(&VisitFilter::default())
            .expect("visits")
            .len(),
        2,
        "both of Alice's visits are on the server"
    );

    // Her own re-authentication proves possession of the token her phone holds.
    phone
        .book
        .reauthenticate(&server.code(alice.id).await)
        .await
        .expect("reauthenticate");
    assert_eq!(phone.book.device_id().expect("device id"), id);
    phone
        .book
        .record_visit(visit_draft(child, 1))
        .expect("visit");
    phone
        .book
        .sync()
        .await
        .expect("sync after re-authentication");
    colleague.book.sync().await.expect("colleague sync");
    assert_eq!(
        colleague
            .book
            .visits(&VisitFilter::default())
            .expect("visits")
            .len(),
        3
    );
    let audit = server.store.audit_lines().await.expect("audit").join("\n");
    assert!(audit.contains("\"reauthenticate\""));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_proves_its_device_only_for_its_officer_and_never_past_a_revocation() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_b]).await;
    let id = Uuid::now_v7();
    let (status, first) = enrol_raw(&server, &server.code(alice.id).await, id, None).await;
    assert_eq!(status, 200, "{first}");
    let token = first["token"].as_str().expect("token").to_string();

    let (status, answer) = enrol_raw(&server, &server.code(bob.id).await, id, Some(&token)).await;
    assert_eq!(
        (status, code_of(&answer)),
        (409, "device_taken"),
        "Alice's device does not become Bob's"
    );

    // A lost answer leaves the phone with its previous token: that still proves it.
    let (status, second) = enrol_raw(&server, &server.code(alice.id).await, id, Some(&token)).await;
    assert_eq!(status, 200, "{second}");
    let (status, third) = enrol_raw(&server, &server.code(alice.id).await, id, Some(&token)).await;
    assert_eq!(
        status, 200,
        "an earlier token still proves the device: {third}"
    );

    assert!(server.store.revoke(id).await.expect("revoke"));
    let latest = third["token"].as_str().expect("token");
    let (status, answer) = enrol_raw(&server, &server.code(alice.id).await, id, Some(latest)).await;
    assert_eq!((status, code_of(&answer)), (401, "device_revoked"));
}

/// The simulation's seed 99 (with restores): a forked phone's enrolment was delivered twice;
/// the first enrolled its new id, the second's `code used` was the answer it got. The id was
/// then held with a token the phone never had, and every new code met `device_taken`.
#[tokio::test(flavor = "multi_thread")]
async fn an_enrolment_whose_answer_never_arrived_can_be_taken_again_by_its_officer_only() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let mallory = server
        .officer("Mallory", Role::Officer, &[server.team_a])
        .await;
    let id = Uuid::now_v7();
    let (status, lost) = enrol_raw(&server, &server.code(alice.id).await, id, None).await;
    assert_eq!(status, 200, "{lost}");
    let lost = lost["token"].as_str().expect("token").to_string();

    // Never used: another officer's code still cannot take it; Alice's can, with no token.
    let (status, answer) = enrol_raw(&server, &server.code(mallory.id).await, id, None).await;
    assert_eq!(
        (status, code_of(&answer)),
        (409, "device_taken"),
        "{answer}"
    );
    let (status, again) = enrol_raw(&server, &server.code(alice.id).await, id, None).await;
    assert_eq!(status, 200, "{again}");
    let token = again["token"].as_str().expect("token").to_string();
    assert_ne!(token, lost);

    // Once its token is used (a pull), it is held as before: no token, no enrolment.
    let pull = pocketbook_tests::http_client()
        .post(format!("{}/v1/sync/pull", server.url))
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .expect("pull");
    assert_eq!(pull.status().as_u16(), 200);
    let (status, answer) = enrol_raw(&server, &server.code(alice.id).await, id, None).await;
    assert_eq!(
        (status, code_of(&answer)),
        (409, "device_taken"),
        "{answer}"
    );
    let held = server.store.devices().await.expect("devices");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].officer_id, alice.id);
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolment_is_counted_per_code_as_well_as_per_address() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let code = server.code(alice.id).await;
    let attempt = |client: String| EnrolAttempt {
        code_hash: code_hash("wrong-guess"),
        device_id: Uuid::now_v7(),
        device_name: "p".into(),
        token_hash: code_hash(&new_code()),
        client,
        proof_hash: None,
        lease_until_ms: None,
    };
    // Ten wrong tries at one code from ten addresses: the code's allowance is spent.
    for n in 0..10 {
        let outcome = server
            .store
            .enroll_device(attempt(format!("198.51.100.{n}")))
            .await
            .expect("enrol");
        assert!(matches!(outcome, Enrolment::BadCode), "{outcome:?}");
    }
    let outcome = server
        .store
        .enroll_device(attempt("198.51.100.77".into()))
        .await
        .expect("enrol");
    assert!(matches!(outcome, Enrolment::RateLimited), "{outcome:?}");
    // Another code from a fresh address is not held up by it.
    let good = EnrolAttempt {
        code_hash: code_hash(&code),
        ..attempt("198.51.100.78".into())
    };
    let outcome = server.store.enroll_device(good).await.expect("enrol");
    assert!(matches!(outcome, Enrolment::Enrolled(_)), "{outcome:?}");
}
