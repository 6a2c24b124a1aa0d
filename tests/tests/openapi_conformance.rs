//! Every kind of answer the server gives, checked against the OpenAPI document it serves.

use pocketbook_core::model::VisitUpdate;
use pocketbook_protocol::wire::{EnrollRequest, PullRequest, PushRequest, PROTOCOL_HEADER};
use pocketbook_protocol::{Clock, Entity, Hlc, Marking, Mutation, MutationKind, Role};
use pocketbook_tests::openapi::ApiDocument;
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{person_draft, visit_draft};
use serde_json::{json, Value};
use uuid::Uuid;

async fn post(url: &str, token: Option<&str>, protocol: &str, body: Vec<u8>) -> (u16, Value) {
    let mut req = pocketbook_tests::http_client()
        .post(url)
        .header(PROTOCOL_HEADER, protocol)
        .header("content-type", "application/json")
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_matches_the_served_openapi_document() {
    let server = TestServer::start().await;
    let doc = ApiDocument::fetch(&server.url).await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    // The check has teeth: wrong shapes are refused.
    assert!(doc
        .check("post", "/v1/sync/push", 200, &json!({"results": 5}))
        .is_err());
    assert!(doc
        .check("post", "/v1/sync/pull", 401, &json!({"code": "x"}))
        .is_err());
    assert!(doc.check("post", "/v1/sync/pull", 418, &json!({})).is_err());
    let mut checked = 0;
    let mut check = |method: &str, path: &str, status: u16, body: &Value| {
        doc.check(method, path, status, body).unwrap();
        checked += 1;
    };

    // Real data with a conflict, made by two devices through the core.
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = a.book.add_young_person(draft).unwrap().id;
    let visit = a.book.record_visit(visit_draft(child, 2)).unwrap();
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    let edit = |t: &str| VisitUpdate {
        narrative: Some(t.into()),
        ..Default::default()
    };
    a.book.update_visit(visit.id, edit("one")).unwrap();
    b.book.update_visit(visit.id, edit("two")).unwrap();
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    a.book.delete_visit(visit.id, "Recorded in error").unwrap();
    a.book.sync().await.unwrap();

    // Enrol a raw client.
    let device = Uuid::now_v7();
    let enroll = EnrollRequest {
        token: None,
        code: server.code(alice.id).await,
        device_id: device,
        device_name: "raw".into(),
    };
    let (status, body) = post(
        &format!("{}/v1/enroll", server.url),
        None,
        "1",
        serde_json::to_vec(&enroll).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    check("post", "/v1/enroll", status, &body);
    let token = body["token"].as_str().unwrap().to_string();
    let (status, body) = post(
        &format!("{}/v1/enroll", server.url),
        None,
        "1",
        serde_json::to_vec(&enroll).unwrap(),
    )
    .await;
    check("post", "/v1/enroll", status, &body);

    // A pull holding snapshots, a tombstone, a conflict and the reference data.
    let pull = PullRequest {
        reference: true,
        ..Default::default()
    };
    let (status, body) = post(
        &format!("{}/v1/sync/pull", server.url),
        Some(&token),
        "1",
        serde_json::to_vec(&pull).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let types: Vec<&str> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        types.contains(&"snapshot") && types.contains(&"conflict"),
        "{types:?}"
    );
    check("post", "/v1/sync/pull", status, &body);
    // The same page to a device that reads a common version sent once.
    let (status, body) = post(
        &format!("{}/v1/sync/pull", server.url),
        Some(&token),
        "1",
        serde_json::to_vec(&PullRequest {
            common_version: true,
            ..pull
        })
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["version"].is_string()),
        "{body}"
    );
    check("post", "/v1/sync/pull", status, &body);

    // Pushes: applied, rejected, and the errors.
    let mut clock = Clock::new(device, Hlc::default());
    let mut m = Mutation {
        reason: None,
        seq: 1,
        entity: Entity::YoungPerson,
        record_id: Uuid::now_v7(),
        kind: MutationKind::Create,
        team_id: server.team_b,
        marking: Marking::Official,
        fields: [("created_by".to_string(), json!(alice.id))].into(),
        base: Default::default(),
        sets: Default::default(),
        version: clock
            .tick(pocketbook_protocol::unix_millis(chrono::Utc::now()))
            .unwrap(),
        versions: None,
        conflicts: None,
    };
    let push = |m: &Mutation| {
        serde_json::to_vec(&PushRequest {
            mutations: vec![m.clone()],
            audit: vec![],
            resolved: vec![],
            epoch: None,
            acked: None,
            refused: Vec::new(),
        })
        .unwrap()
    };
    let url = format!("{}/v1/sync/push", server.url);
    let (status, body) = post(&url, Some(&token), "1", push(&m)).await;
    assert_eq!(body["results"][0]["outcome"], "rejected");
    check("post", "/v1/sync/push", status, &body);
    m.seq = 2;
    m.version.hlc.millis += 3_600_000;
    let (status, body) = post(&url, Some(&token), "1", push(&m)).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("clock_skew")));
    check("post", "/v1/sync/push", status, &body);
    for (token, protocol, body, expected) in [
        (Some(token.as_str()), "1", b"[".to_vec(), 400),
        (Some("nope"), "1", push(&m), 401),
        (Some(token.as_str()), "2", push(&m), 426),
        (Some(token.as_str()), "1", vec![b' '; 5 << 20], 413),
    ] {
        let (status, answer) = post(&url, token, protocol, body).await;
        assert_eq!(status, expected, "{answer}");
        check("post", "/v1/sync/push", status, &answer);
    }
    assert_eq!(checked, 10);
}
