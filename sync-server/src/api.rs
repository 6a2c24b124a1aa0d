//! The HTTP API (DESIGN §5): enrolment, push, pull and health, with gzip and zstd both ways,
//! bounded bodies, the transport guards of [`crate::guard`] and every error as
//! `{code, message}` JSON.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use pocketbook_protocol::limits::MAX_MUTATIONS_PER_PUSH;
use pocketbook_protocol::wire::{
    EnrollRequest, EnrollResponse, PullRequest, PushOutcome, PushRequest, PushResponse,
    MAX_CLOCK_SKEW_MS,
};
use pocketbook_protocol::ErrorCode;
use tower_http::compression::CompressionLayer;
use uuid::Uuid;

use crate::auth::{Authed, Protocol, PushAuthed};
use crate::error::ApiError;
use crate::metrics::SyncKind;
use crate::secrets::{code_hash, new_token, secret_hash};
use crate::state::AppState;
/// The settings [`router`] takes.
pub use crate::state::Config;
pub use crate::state::Transport;
use crate::store::{EnrolAttempt, Enrolment, ServedPage, Store};

/// The JSON body extractor every handler uses.
pub use crate::guard::body::Body;
/// Largest request body accepted (after decompression).
pub use pocketbook_protocol::limits::MAX_BODY_BYTES;

/// Builds the router over a store.
pub fn router<S: Store>(store: S, config: Config) -> Router {
    routers(store, config, Transport::default()).0
}

/// Builds the API's router over a store with `transport` settings, and the router of the
/// separate metrics listener when `transport.metrics_apart` (then the API's has no
/// `/metrics`). Both count into one set of metrics.
pub fn routers<S: Store>(
    store: S,
    config: Config,
    transport: Transport,
) -> (Router, Option<Router>) {
    let metrics_apart = transport.metrics_apart;
    let state = AppState::new(store, config).with_transport(transport);
    let mut api = Router::new().route("/healthz", get(healthz::<S>));
    if !metrics_apart {
        api = api.route("/metrics", get(metrics::<S>));
    }
    let api = api
        .route("/v1/openapi.json", get(openapi_document))
        .route("/v1/enroll", post(enroll::<S>))
        .route("/v1/sync/push", post(push::<S>))
        .route("/v1/sync/pull", post(pull::<S>))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.transport.restore_gate.clone(),
            crate::journal::gate::guard,
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(crate::guard::encodings))
        .layer(middleware::from_fn_with_state(
            state.guards.clone(),
            crate::guard::bound,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests::<S>,
        ))
        .with_state(state.clone());
    let apart = metrics_apart.then(|| {
        Router::new()
            .route("/metrics", get(metrics::<S>))
            .fallback(not_found)
            .with_state(state)
    });
    (api, apart)
}

/// Counts every request by its route (not its raw path, which may hold ids) and status.
async fn count_requests<S: Store>(
    State(app): State<AppState<S>>,
    matched: Option<MatchedPath>,
    request: axum::extract::Request,
    next: Next,
) -> axum::response::Response {
    let route = matched
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = next.run(request).await;
    app.metrics.request(&route, response.status().as_u16());
    response
}

async fn metrics<S: Store>(State(app): State<AppState<S>>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        app.metrics.render(),
    )
}

async fn openapi_document() -> impl IntoResponse {
    Json(crate::openapi::document())
}

/// Ready when the database answers: a load balancer in front of several servers takes a
/// server whose database is unreachable out of rotation.
async fn healthz<S: Store>(State(app): State<AppState<S>>) -> Result<impl IntoResponse, ApiError> {
    match app.store.identity().await {
        Ok(_) => Ok(Json(match app.transport.restore_gate.pending() {
            // Up, and saying why it does not serve (issue 12).
            Some(since) => serde_json::json!({ "status": "restore_pending", "since": since,
                "message": crate::journal::gate::WHAT_TO_DO }),
            None => serde_json::json!({ "status": "ok" }),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database did not answer");
            Err(ApiError::Unavailable)
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn enroll<S: Store>(
    State(app): State<AppState<S>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    _: Protocol,
    Body(req): Body<EnrollRequest>,
) -> Result<Json<EnrollResponse>, ApiError> {
    let client = crate::proxy::client_address(peer.ip(), &headers, &app.transport.trusted_proxies);
    // In memory, before the store: a flood of attempts never queues for its writer lock.
    app.guards.enrol(client)?;
    if req.code.trim().is_empty() || req.device_name.chars().count() > 200 {
        return Err(ApiError::BadRequest {
            code: ErrorCode::InvalidRequest,
            message: "a code and a device name of at most 200 characters are required".into(),
        });
    }
    let token = new_token(app.store.sources().as_ref());
    let (server_id, _) = app.store.identity().await?;
    let outcome = app
        .store
        .enroll_device(EnrolAttempt {
            code_hash: code_hash(&req.code),
            device_id: req.device_id,
            device_name: req.device_name,
            token_hash: secret_hash(&token),
            client: client.to_string(),
            proof_hash: req.token.as_deref().map(secret_hash),
            lease_until_ms: Some(lease_end(&app)),
        })
        .await?;
    match outcome {
        Enrolment::Enrolled(provisioning) => {
            tracing::info!(device = %req.device_id, "device enrolled");
            Ok(Json(EnrollResponse {
                token,
                server_id,
                provisioning,
                lease_seconds: app.config.lease_seconds,
            }))
        }
        Enrolment::BadCode => Err(ApiError::BadCode),
        Enrolment::RateLimited => Err(ApiError::RateLimited {
            retry_after_secs: 60,
        }),
        Enrolment::Taken => {
            tracing::warn!(device = %req.device_id, "enrolment refused: the device id is held");
            Err(ApiError::DeviceTaken)
        }
        Enrolment::Revoked => Err(ApiError::DeviceRevoked),
    }
}

/// The end of a lease that starts now (ms since the epoch).
fn lease_end<S: Store>(app: &AppState<S>) -> i64 {
    let now = pocketbook_protocol::unix_millis(app.store.sources().now());
    let end = now.saturating_add(app.config.lease_seconds.saturating_mul(1000));
    i64::try_from(end).unwrap_or(i64::MAX)
}

/// Renews a device's lease after a push or a sync's last page, in a transaction of its own.
/// What it follows stands whether or not this works: a push is committed by then, and
/// answering an error would tell the device it was not (a `503` after a pool timeout asks it
/// to send it again). A renewal that fails leaves the lease as it was — shorter, never
/// longer — and the next sync renews it; it is logged.
async fn renew_lease<S: Store>(app: &AppState<S>, device: Uuid) {
    if let Err(e) = app.store.renew_lease(device, lease_end(app)).await {
        tracing::warn!(device = %device, error = %e, "lease not renewed");
    }
}

async fn push<S: Store>(
    State(app): State<AppState<S>>,
    PushAuthed { device, lapsed }: PushAuthed,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    app.guards.push(device.device_id)?;
    if req.mutations.len() > app.config.max_batch.min(MAX_MUTATIONS_PER_PUSH) {
        return Err(ApiError::TooLarge);
    }
    let now = pocketbook_protocol::unix_millis(app.store.sources().now());
    if req
        .mutations
        .iter()
        .any(|m| m.version.hlc.millis > now + MAX_CLOCK_SKEW_MS)
    {
        return Err(ApiError::ClockSkew {
            server_time_ms: now,
        });
    }
    let id = device.device_id;
    let n = req.mutations.len();
    let started = Instant::now();
    let result = app.store.push(device, req).await?;
    app.metrics.sync_duration(SyncKind::Push, started.elapsed());
    match result {
        Ok(response) => {
            let (mut applied, mut merged, mut rejected, mut conflicts) = (0, 0, 0, 0);
            for r in &response.results {
                match &r.outcome {
                    PushOutcome::Applied => applied += 1,
                    PushOutcome::Merged { conflicts: c } => {
                        merged += 1;
                        conflicts += c.len() as u64;
                    }
                    PushOutcome::Rejected { .. } => rejected += 1,
                }
            }
            app.metrics.mutations(applied, merged, rejected, conflicts);
            if !lapsed {
                renew_lease(&app, id).await;
            }
            tracing::info!(device = %id, mutations = n, acked = response.acked_seq, lapsed, "push");
            Ok(Json(response))
        }
        Err(refusal) => Err(refusal.into()),
    }
}

async fn pull<S: Store>(
    State(app): State<AppState<S>>,
    Authed(device): Authed,
    Body(req): Body<PullRequest>,
) -> Result<Json<ServedPage>, ApiError> {
    let id = device.device_id;
    app.guards.pull(id)?;
    // Cursors of another epoch mean a restored server: the device reconciles first.
    if let Some(refusal) = app.store.epoch_refusal(id, req.epoch.clone()).await? {
        return Err(refusal.into());
    }
    let started = Instant::now();
    let response = app
        .store
        .serve_pull(device, req)
        .await
        .map_err(ApiError::from_store)?;
    app.metrics.sync_duration(SyncKind::Pull, started.elapsed());
    // A sync pulls pages until none remain; its last page renews the lease (one write a sync,
    // not one a page).
    if response.remaining == 0 {
        renew_lease(&app, id).await;
    }
    tracing::info!(device = %id, entries = response.entries.len(), remaining = response.remaining, "pull");
    Ok(Json(response))
}
