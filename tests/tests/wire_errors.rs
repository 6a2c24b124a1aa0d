//! Bad requests against a real server: each gets its 4xx `{code, message}` JSON or a
//! `rejected` result, and changes nothing.

use pocketbook_protocol::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, PushOutcome, PushRequest, PushResponse,
    PROTOCOL_HEADER,
};
use pocketbook_protocol::{Clock, Entity, Hlc, Marking, Mutation, MutationKind, Role};
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

struct Raw {
    http: reqwest::Client,
    url: String,
    token: String,
    device: Uuid,
}

impl Raw {
    async fn enrolled(server: &TestServer, officer: Uuid) -> Raw {
        let http = pocketbook_tests::http_client();
        let device = Uuid::now_v7();
        let answer: EnrollResponse = http
            .post(format!("{}/v1/enroll", server.url))
            .header(PROTOCOL_HEADER, "1")
            .json(&EnrollRequest {
                token: None,
                code: server.code(officer).await,
                device_id: device,
                device_name: "raw".into(),
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Raw {
            http,
            url: server.url.clone(),
            token: answer.token,
            device,
        }
    }

    async fn post(
        &self,
        path: &str,
        body: Vec<u8>,
        token: Option<&str>,
        protocol: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(p) = protocol {
            req = req.header(PROTOCOL_HEADER, p);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let body: Value = resp.json().await.expect("every answer is JSON");
        (status, body)
    }

    async fn push(&self, mutations: Vec<Mutation>) -> PushResponse {
        let body = serde_json::to_vec(&PushRequest {
            mutations,
            audit: vec![],
            resolved: vec![],
            epoch: None,
            acked: None,
            refused: Vec::new(),
        })
        .unwrap();
        let (status, body) = self
            .post("/v1/sync/push", body, Some(&self.token), Some("1"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_value(body).unwrap()
    }
}

fn error_code(body: &Value) -> String {
    let e: ErrorBody = serde_json::from_value(body.clone()).expect("an error body");
    assert!(!e.message.is_empty());
    e.code.to_string()
}

/// A hand-made mutation from `(device, officer)`.
fn mutation(
    seq: u64,
    (device, officer): (Uuid, Uuid),
    team: Uuid,
    kind: MutationKind,
    entity: Entity,
    id: Uuid,
    fields: Value,
) -> Mutation {
    let mut clock = Clock::new(
        device,
        Hlc {
            millis: seq,
            counter: 0,
        },
    );
    let version = clock
        .tick(pocketbook_protocol::unix_millis(chrono::Utc::now()))
        .unwrap();
    let mut fields = fields.as_object().unwrap().clone();
    if kind == MutationKind::Create {
        fields.insert("team_id".into(), json!(team));
        fields.insert("created_by".into(), json!(officer));
        fields.insert("marking".into(), json!("OFFICIAL"));
    }
    Mutation {
        reason: None,
        seq,
        entity,
        record_id: id,
        kind,
        team_id: team,
        marking: Marking::Official,
        fields: fields.into_iter().collect(),
        base: Default::default(),
        sets: Default::default(),
        version,
        versions: None,
        conflicts: None,
    }
}

/// A whole concern's fields as the model makes them (the server checks every record it takes).
fn valid_concern(account: &str) -> Value {
    let now = chrono::Utc::now();
    let meta = pocketbook_core::model::RecordMeta {
        team_id: Uuid::nil(),
        created_by: Uuid::nil(),
        created_at: now,
        marking: Marking::Official,
        review_due: now.date_naive(),
    };
    let mut draft = pocketbook_tests::concern_draft(Uuid::now_v7(), 2);
    draft.account = account.into();
    draft.assigned_lead = None;
    let concern = draft.into_record(Uuid::now_v7(), meta, now).unwrap();
    let mut fields = serde_json::to_value(concern).unwrap();
    fields.as_object_mut().unwrap().remove("id");
    fields
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_unauthenticated_and_outdated_requests_get_json_errors() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let raw = Raw::enrolled(&server, alice.id).await;
    let pull = br#"{"cursors":{}}"#.to_vec();

    let (status, body) = raw
        .post(
            "/v1/sync/pull",
            b"{not json".to_vec(),
            Some(&raw.token),
            Some("1"),
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let (status, body) = raw
        .post("/v1/sync/pull", pull.clone(), None, Some("1"))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, body) = raw
        .post("/v1/sync/pull", pull.clone(), Some("0badc0de"), Some("1"))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, body) = raw
        .post("/v1/sync/pull", pull.clone(), Some(&raw.token), Some("999"))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::UPGRADE_REQUIRED, "upgrade_required")
    );
    let (status, body) = raw
        .post("/v1/sync/pull", pull.clone(), Some(&raw.token), None)
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "missing_protocol")
    );
    let (status, body) = raw
        .post("/v1/nowhere", pull.clone(), Some(&raw.token), Some("1"))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let big = vec![b' '; 5 * 1024 * 1024];
    let (status, body) = raw
        .post("/v1/sync/push", big, Some(&raw.token), Some("1"))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    let (status, body) = raw
        .post(
            "/v1/enroll",
            serde_json::to_vec(
                &json!({"code": "NOPE-NOPE-NOPE", "device_id": Uuid::now_v7(), "device_name": "x"}),
            )
            .unwrap(),
            None,
            Some("1"),
        )
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::FORBIDDEN, "invalid_code")
    );
    // Nothing above reached the records.
    assert!(server.store.quarantine().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolment_is_rate_limited() {
    let server = TestServer::start().await;
    let raw = Raw {
        http: pocketbook_tests::http_client(),
        url: server.url.clone(),
        token: String::new(),
        device: Uuid::nil(),
    };
    let body = || {
        serde_json::to_vec(
            &json!({"code": "AAAA-AAAA-AAAA", "device_id": Uuid::now_v7(), "device_name": "x"}),
        )
        .unwrap()
    };
    let mut codes = Vec::new();
    for _ in 0..12 {
        let (_, answer) = raw.post("/v1/enroll", body(), None, Some("1")).await;
        codes.push(error_code(&answer));
    }
    assert_eq!(
        codes[..10].iter().filter(|c| *c == "invalid_code").count(),
        10
    );
    assert_eq!(codes[10..], ["rate_limited", "rate_limited"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_team_writes_and_account_edits_are_rejected_quarantined_and_change_nothing() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let raw = Raw::enrolled(&server, alice.id).await;
    let person = json!({"first_name": "A", "last_name": "B", "date_of_birth": "2012-01-01",
        "age_band": null, "establishment_id": null, "year_group": null, "carers": [], "flags": [],
        "created_at": "2026-11-25T10:00:00Z", "review_due": "2032-11-25"});
    let into_b = mutation(
        1,
        (raw.device, alice.id),
        server.team_b,
        MutationKind::Create,
        Entity::YoungPerson,
        Uuid::now_v7(),
        person.clone(),
    );
    let concern_id = Uuid::now_v7();
    let concern = mutation(
        2,
        (raw.device, alice.id),
        server.team_a,
        MutationKind::Create,
        Entity::Concern,
        concern_id,
        valid_concern("what happened"),
    );
    let rewrite = mutation(
        3,
        (raw.device, alice.id),
        server.team_a,
        MutationKind::Update,
        Entity::Concern,
        concern_id,
        json!({"account": "something else"}),
    );
    let as_someone_else = {
        let mut m = mutation(
            4,
            (raw.device, alice.id),
            server.team_a,
            MutationKind::Create,
            Entity::YoungPerson,
            Uuid::now_v7(),
            person,
        );
        m.fields.insert("created_by".into(), json!(Uuid::now_v7()));
        m
    };
    let batch = vec![into_b, concern, rewrite, as_someone_else];
    let answer = raw.push(batch.clone()).await;
    let codes: Vec<String> = answer
        .results
        .iter()
        .map(|r| match &r.outcome {
            PushOutcome::Rejected { code, .. } => code.to_string(),
            PushOutcome::Applied => "applied".into(),
            PushOutcome::Merged { .. } => "merged".into(),
        })
        .collect();
    assert_eq!(
        codes,
        [
            "forbidden_bucket",
            "applied",
            "account_immutable",
            "forbidden"
        ]
    );
    assert_eq!(answer.acked_seq, 4, "refusals never block the queue");
    let quarantined: Vec<String> = server
        .store
        .quarantine()
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.code)
        .collect();
    assert_eq!(
        quarantined,
        ["forbidden_bucket", "account_immutable", "forbidden"]
    );
    // Resending is answered as the first time (refusals included), not applied again, and
    // quarantines nothing more.
    let again = raw.push(batch).await;
    assert_eq!(again.acked_seq, 4);
    assert_eq!(again.results, answer.results);
    assert_eq!(server.store.quarantine().await.unwrap().len(), 3);
    let audit = server.store.audit_lines().await.unwrap();
    assert_eq!(audit.iter().filter(|l| l.contains("\"refuse\"")).count(), 3);
    assert!(
        audit.iter().all(|l| !l.contains("what happened")),
        "no record text in the audit log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_prometheus_metrics_are_served() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = server.device(alice.id).await;
    let mut draft = pocketbook_tests::person_draft();
    draft.establishment_id = Some(server.school);
    device.book.add_young_person(draft).unwrap();
    device.book.sync().await.unwrap();
    let http = pocketbook_tests::http_client();
    let health: Value = http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health, json!({"status": "ok"}));
    let _ = http
        .get(format!("{}/v1/{}", server.url, Uuid::now_v7()))
        .send()
        .await
        .unwrap();
    let text = http
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "pocketbook_http_requests_total{route=\"/v1/sync/push\",status=\"200\"} 1",
        "pocketbook_http_requests_total{route=\"/v1/enroll\",status=\"200\"} 1",
        "pocketbook_mutations_total{outcome=\"applied\"} 1",
        "pocketbook_sync_duration_seconds_count{kind=\"pull\"} 1",
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
    assert!(
        !text.contains(&alice.id.to_string()),
        "no ids or raw paths in labels"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn device_audit_events_must_arrive_with_an_unbroken_chain() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = server.device(alice.id).await;
    let mut draft = pocketbook_tests::person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    device.book.chronology(child, "Case review").unwrap();
    let events = device.book.audit_events().unwrap();
    assert_eq!(events.len(), 2);
    let token: String = pocketbook_tests::raw_connection(&device.path)
        .query_row("SELECT token FROM sync_state", [], |r| r.get(0))
        .unwrap();
    let raw = Raw {
        http: pocketbook_tests::http_client(),
        url: server.url.clone(),
        token,
        device: device.book.device_id().unwrap(),
    };
    let push = |audit: Vec<pocketbook_protocol::AuditEvent>| {
        serde_json::to_vec(&PushRequest {
            mutations: vec![],
            audit,
            resolved: vec![],
            epoch: None,
            acked: None,
            refused: Vec::new(),
        })
        .unwrap()
    };
    let mut edited = events.clone();
    edited[1].justification = Some("Nothing to see".into());
    let (status, body) = raw
        .post("/v1/sync/push", push(edited), Some(&raw.token), Some("1"))
        .await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_push")
    );
    let (status, body) = raw
        .post(
            "/v1/sync/push",
            push(events[1..].to_vec()),
            Some(&raw.token),
            Some("1"),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a gap at the start is refused too: {body}"
    );
    let audit = server.store.audit_lines().await.unwrap();
    assert!(audit.iter().any(|l| l.contains("audit_chain_broken")));

    let (status, body) = raw
        .post(
            "/v1/sync/push",
            push(events.clone()),
            Some(&raw.token),
            Some("1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["audit_acked_seq"], 2);
    // The device's own sync then has nothing more to send.
    device.book.sync().await.unwrap();
}
