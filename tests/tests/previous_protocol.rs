//! An app speaking the previous protocol version against today's server, over real HTTP: it
//! enrols, pushes a visit, pulls it back and reads a refusal, all through the frozen wire types
//! of that version (`pocketbook_tests::wire_v1`). Additive changes must keep this green; a
//! change that cannot is a protocol version bump.

use chrono::{Duration, Utc};
use pocketbook_protocol::wire::PROTOCOL_HEADER;
use pocketbook_protocol::{
    protocol_supported, Clock, Hlc, Role, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION,
};
use pocketbook_tests::server::TestServer;
use pocketbook_tests::wire_v1 as v1;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

async fn post<Req: Serialize, Resp: DeserializeOwned>(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    version: &str,
    body: &Req,
) -> (StatusCode, Result<Resp, v1::ErrorBody>) {
    let mut request = pocketbook_tests::http_client()
        .post(format!("{}{path}", server.url))
        .header(PROTOCOL_HEADER, version)
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let bytes = response.bytes().await.expect("a body");
    let decoded = if status.is_success() {
        Ok(serde_json::from_slice(&bytes).expect("an answer the old app can read"))
    } else {
        Err(serde_json::from_slice(&bytes).expect("an error the old app can read"))
    };
    (status, decoded)
}

#[tokio::test]
async fn an_app_of_the_previous_protocol_version_enrols_pushes_and_pulls() {
    assert!(
        protocol_supported(1),
        "version 1 is no longer accepted: replace this frozen copy with the oldest version \
         still accepted"
    );
    let server = TestServer::start().await;
    let officer = server
        .officer("PC Old App", Role::Officer, &[server.team_a])
        .await;
    let device = Uuid::now_v7();
    let (status, enrolled) = post::<_, v1::EnrollResponse>(
        &server,
        "/v1/enroll",
        None,
        v1::VERSION,
        &v1::EnrollRequest {
            code: server.code(officer.id).await,
            device_id: device,
            device_name: "an old phone".into(),
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let enrolled = enrolled.expect("enrolled");
    assert_eq!(enrolled.provisioning.officer.id, officer.id);

    let mut clock = Clock::new(device, Hlc::default());
    let version = clock
        .tick(pocketbook_protocol::unix_millis(Utc::now()))
        .expect("clock");
    let start = Utc::now() - Duration::hours(2);
    let visit = Uuid::now_v7();
    let create = v1::Mutation {
        seq: 1,
        entity: v1::Entity::Visit,
        record_id: visit,
        kind: v1::MutationKind::Create,
        team_id: server.team_a,
        marking: "OFFICIAL".into(),
        fields: json!({
            "team_id": server.team_a,
            "created_by": officer.id,
            "created_at": Utc::now(),
            "marking": "OFFICIAL",
            "review_due": "2032-12-01",
            "kind": "welfare_check",
            "prompted_by": "school",
            "young_person_ids": [Uuid::now_v7()],
            "officer_ids": [officer.id],
            "start": start,
            "end": start + Duration::minutes(30),
            "place": "Home address",
            "location": null,
            "present": [],
            "outcome": "no_concerns",
            "support_given": [],
            "signposted_to": [],
            "narrative": "Visited; all well.",
            "follow_up": null,
        })
        .as_object()
        .map(|o| o.clone().into_iter().collect())
        .unwrap_or_default(),
        base: Default::default(),
        sets: Default::default(),
        version: version.to_string(),
    };
    let mut into_other_team = create.clone();
    into_other_team.seq = 2;
    into_other_team.record_id = Uuid::now_v7();
    into_other_team.team_id = server.team_b;
    let (status, pushed) = post::<_, v1::PushResponse>(
        &server,
        "/v1/sync/push",
        Some(&enrolled.token),
        v1::VERSION,
        &v1::PushRequest {
            mutations: vec![create, into_other_team],
            audit: vec![],
            resolved: vec![],
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let pushed = pushed.expect("pushed");
    assert_eq!(pushed.acked_seq, 2);
    assert_eq!(pushed.results[0].outcome, v1::PushOutcome::Applied);
    assert!(
        matches!(&pushed.results[1].outcome, v1::PushOutcome::Rejected { code, .. } if code == "forbidden_bucket"),
        "{:?}",
        pushed.results[1]
    );

    let (status, page) = post::<_, v1::PullResponse>(
        &server,
        "/v1/sync/pull",
        Some(&enrolled.token),
        v1::VERSION,
        &v1::PullRequest {
            reference: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = page.expect("pulled");
    assert!(page.reference.is_some());
    assert!(page.entries.iter().any(|e| matches!(
        e,
        v1::PullEntry::Snapshot { id, entity: v1::Entity::Visit, fields, .. }
            if *id == visit && fields["narrative"] == "Visited; all well."
    )));
    // It never asked for the common version sent once, so it gets every field's own.
    for entry in &page.entries {
        if let v1::PullEntry::Snapshot {
            fields, versions, ..
        } = entry
        {
            assert!(
                fields.keys().all(|f| versions.contains_key(f)),
                "every field's version is sent to an app that did not ask: {versions:?}"
            );
        }
    }

    let (status, refused) = post::<_, v1::PullResponse>(
        &server,
        "/v1/sync/pull",
        Some(&enrolled.token),
        "0",
        &v1::PullRequest::default(),
    )
    .await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    assert_eq!(
        refused.expect_err("refused").code,
        "upgrade_required",
        "an app older than the range still reads why"
    );
}

#[tokio::test]
async fn the_upgrade_answer_names_the_versions_the_server_accepts() {
    let server = TestServer::start().await;
    let too_new = (PROTOCOL_VERSION + 1).to_string();
    let (status, answer) = post::<_, v1::PullResponse>(
        &server,
        "/v1/sync/pull",
        None,
        &too_new,
        &v1::PullRequest::default(),
    )
    .await;
    assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
    assert!(answer.is_err());
    let body: serde_json::Value = pocketbook_tests::http_client()
        .post(format!("{}/v1/sync/pull", server.url))
        .header(PROTOCOL_HEADER, too_new)
        .json(&json!({}))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("json");
    assert_eq!(
        body["supported_protocols"],
        json!({"min": MIN_PROTOCOL_VERSION, "max": PROTOCOL_VERSION})
    );
}
