//! The OpenAPI 3 document of the sync API, generated from the request and response types the
//! handlers use (their schemas derive from `pocketbook-protocol`), served at
//! `/v1/openapi.json`. The functions below only describe the endpoints.

#![allow(dead_code)]

use pocketbook_protocol::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, PullRequest, PullResponse, PushRequest, PushResponse,
};
use utoipa::OpenApi;

/// Exchange a one-time enrolment code for a device token.
#[utoipa::path(
    post,
    path = "/v1/enroll",
    request_body = EnrollRequest,
    params(("pocketbook-protocol" = u32, Header, description = "protocol version (1)")),
    responses(
        (status = 200, description = "Enrolled", body = EnrollResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "`device_revoked`: the device id names a revoked device, which stays revoked", body = ErrorBody),
        (status = 403, description = "Unknown, used or expired code", body = ErrorBody),
        (status = 409, description = "`device_taken`: the device id is held and the request did not prove possession of its token (`token`), or the code is another officer's; nothing changed", body = ErrorBody),
        (status = 426, description = "Protocol version not supported", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    )
)]
fn enroll() {}

/// Push outbox entries; one result per mutation.
#[utoipa::path(
    post,
    path = "/v1/sync/push",
    request_body = PushRequest,
    params(("pocketbook-protocol" = u32, Header, description = "protocol version (1)")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "Results per mutation", body = PushResponse),
        (status = 400, description = "Malformed push", body = ErrorBody),
        (status = 401, description = "Unknown token, `device_revoked`, or `lease_expired`: the lease ended more than the grace period ago (within it, pushes are taken)", body = ErrorBody),
        (status = 403, description = "`device_suspended`: past a per-device cap", body = ErrorBody),
        (status = 409, description = "`clock_skew`, with the server's time; or `seq_gap`: the first new seq is not the high-water mark + 1, nothing applied", body = ErrorBody),
        (status = 413, description = "Too large: split the batch, or a field over its limit", body = ErrorBody),
        (status = 426, description = "Protocol version not supported", body = ErrorBody),
    )
)]
fn push() {}

/// Pull a page of current record snapshots per bucket.
#[utoipa::path(
    post,
    path = "/v1/sync/pull",
    request_body = PullRequest,
    params(("pocketbook-protocol" = u32, Header, description = "protocol version (1)")),
    security(("device_token" = [])),
    responses(
        (status = 200, description = "A page of changes", body = PullResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Unknown token, `device_revoked`, or `lease_expired`: the device's lease has ended; re-authenticate with a code (never a wipe)", body = ErrorBody),
        (status = 403, description = "`device_suspended`: past a per-device cap", body = ErrorBody),
        (status = 410, description = "`resync_required`: the server compacted history below these cursors; `buckets` names every bucket to pull again from 0 (nothing served)", body = ErrorBody),
        (status = 426, description = "Protocol version not supported", body = ErrorBody),
    )
)]
fn pull() {}

/// Readiness: serving and the database answers.
#[utoipa::path(get, path = "/healthz", responses(
    (status = 200, description = "Serving"),
    (status = 503, description = "The database does not answer", body = ErrorBody),
))]
fn healthz() {}

/// Prometheus metrics (text exposition format); on a listener of its own with
/// `--metrics-listen`, and then not here.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Metrics", content_type = "text/plain")))]
fn metrics() {}

struct DeviceToken;

impl utoipa::Modify for DeviceToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Pocketbook sync API", version = "1", description = "Sync protocol v1 (DESIGN §5)."),
    paths(enroll, push, pull, healthz, metrics),
    modifiers(&DeviceToken)
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
