//! The OpenAPI 3 document of the sync API, generated from the request and response types the
//! handlers use (their schemas derive from `pocketbook-protocol`), served at
//! `/v1/openapi.json`. The functions below only describe the endpoints.

#![allow(dead_code)]

use pocketbook_protocol::wire::PROTOCOL_HEADER;
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
        (status = 408, description = "`timeout`: the request took too long to arrive or to answer", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a content encoding other than gzip or zstd", body = ErrorBody),
        (status = 426, description = "Protocol version not supported", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
        (status = 503, description = "`busy`, `unavailable` or `restore_pending`", body = ErrorBody),
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
        (status = 400, description = "Malformed push: the body does not fit this document, or the protocol header is missing", body = ErrorBody),
        (status = 401, description = "Unknown token, `device_revoked`, or `lease_expired`: the lease ended more than the grace period ago (within it, pushes are taken)", body = ErrorBody),
        (status = 403, description = "`device_suspended`: past a per-device cap", body = ErrorBody),
        (status = 409, description = "`clock_skew`, with the server's time; `seq_gap`: the first new seq is not the high-water mark + 1; `device_forked`: a position the server holds was resent with other content (a cloned or restored phone), with the longest prefix held as sent in `position`; `epoch_changed`: the server was restored, with its `epoch` and its `position` for this device. Nothing applied", body = ErrorBody),
        (status = 413, description = "Too large: split the batch, or a field over its limit", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took too long to arrive or to answer", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a content encoding other than gzip or zstd", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests from this device or address; wait `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "`busy` (at the cap of requests in flight; `Retry-After`), `unavailable` (the database does not answer) or `restore_pending` (restored from a backup; waiting for the admin journal to be replayed)", body = ErrorBody),
        (status = 422, description = "`invalid_push`: the body fits this document but does not hang together (mutations out of order, an audit chain that does not verify, another device's audit events); nothing applied", body = ErrorBody),
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
        (status = 409, description = "`epoch_changed`: the cursors belong to an epoch the server no longer has (restored from a backup); its `epoch` is in the body", body = ErrorBody),
        (status = 410, description = "`resync_required`: a cursor is older than what the server compacted; pull the `buckets` named again from 0", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 408, description = "`timeout`: the request took too long to arrive or to answer", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`: a content encoding other than gzip or zstd", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests from this device or address; wait `Retry-After` seconds", body = ErrorBody),
        (status = 503, description = "`busy` (at the cap of requests in flight; `Retry-After`), `unavailable` (the database does not answer) or `restore_pending` (restored from a backup; waiting for the admin journal to be replayed)", body = ErrorBody),
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

/// The protocol header: required, and exactly the versions this build speaks (any other is
/// answered `426`), so a client reading the document sends what the server accepts.
struct ProtocolHeader;

impl utoipa::Modify for ProtocolHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::Required;
        let range = pocketbook_protocol::wire::ProtocolRange::this_build();
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                for param in op.parameters.iter_mut().flatten() {
                    if param.name == PROTOCOL_HEADER {
                        param.required = Required::True;
                        param.schema = Some(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(range.min))
                                .maximum(Some(range.max))
                                .into(),
                        );
                    }
                }
            }
        }
    }
}

/// The API document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Pocketbook sync API", version = "1", description = "Sync protocol v1 (DESIGN §5)."),
    paths(enroll, push, pull, healthz, metrics),
    modifiers(&DeviceToken, &ProtocolHeader)
)]
pub struct ApiDoc;

/// The document as JSON.
pub fn document() -> serde_json::Value {
    serde_json::to_value(ApiDoc::openapi()).unwrap_or_default()
}
