//! The server takes wall time, ids and random bytes from its store's sources: two servers on
//! seeded sources with the same seed, given the same admin commands and the same enrolment,
//! issue the same enrolment code and the same device token; another seed issues others.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use pocketbook_protocol::sources::SeededSources;
use pocketbook_protocol::wire::{EnrollRequest, EnrollResponse, PROTOCOL_HEADER};
use pocketbook_protocol::{Role, PROTOCOL_VERSION};
use pocketbook_sync_server::admin::codes::issue_code;
use pocketbook_sync_server::admin::teams::{add_officer, add_team, NewOfficer};
use pocketbook_sync_server::api::router;
use pocketbook_sync_server::store::{SqliteStore, Store};
use pocketbook_sync_server::Config;
use tower::ServiceExt;
use uuid::Uuid;

/// What one server on `seed` hands out: an enrolment code, then the token of the device that
/// enrols with it, and the ids it gave its team and officer.
async fn issued(dir: &Path, seed: u64) -> (String, String, Uuid) {
    let start = DateTime::from_timestamp_millis(1_764_494_000_000).expect("start time");
    let sources = Arc::new(SeededSources::new(seed, start));
    let store = SqliteStore::open_with_sources(&dir.join(format!("server-{seed}.db")), sources)
        .expect("store");
    let team = add_team(&store, "Northfield".into()).await.expect("team");
    let officer = add_officer(
        &store,
        NewOfficer {
            name: "PC A".into(),
            shoulder_number: "1".into(),
            role: Role::Officer,
            team_ids: vec![team.id],
        },
    )
    .await
    .expect("officer");
    let code = issue_code(&store, officer.id, 24).await.expect("code");

    let body = serde_json::to_vec(&EnrollRequest {
        token: None,
        code: code.clone(),
        device_id: Uuid::from_u128(7),
        device_name: "PC A phone".into(),
    })
    .expect("request body");
    let request = Request::post("/v1/enroll")
        .header("content-type", "application/json")
        .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))))
        .body(Body::from(body))
        .expect("request");
    let response = router(store.clone(), Config::default())
        .oneshot(request)
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let enrolled: EnrollResponse = serde_json::from_slice(&bytes).expect("enrol response");
    assert_eq!(
        store.identity().await.expect("identity").0,
        enrolled.server_id
    );
    (code, enrolled.token, officer.id)
}

#[tokio::test]
async fn servers_on_the_same_seed_issue_the_same_code_and_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    for server in ["a", "b", "c"] {
        std::fs::create_dir_all(dir.path().join(server)).expect("server dir");
    }
    let first = issued(&dir.path().join("a"), 42).await;
    let second = issued(&dir.path().join("b"), 42).await;
    assert_eq!(first, second, "the same seed replays code, token and ids");
    assert_eq!(first.1.len(), 64, "a token is 256 bits in hex");
    let other = issued(&dir.path().join("c"), 43).await;
    assert_ne!(other.0, first.0, "another seed, another code");
    assert_ne!(other.1, first.1, "another seed, another token");
}
