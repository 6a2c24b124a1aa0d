//! Request guards: the protocol version header and the device's bearer token, as axum
//! extractors. Tokens are compared by their SHA-256, the only form the server stores. A
//! device past its lease is refused everything with `401 lease_expired` ([`Authed`]) except
//! pushes within the grace period ([`PushAuthed`]), so work recorded at a door still arrives.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pocketbook_protocol::wire::PROTOCOL_HEADER;
use pocketbook_protocol::{protocol_supported, ErrorCode};

use crate::error::ApiError;
/// The secrets' helpers, where callers have always found them.
pub use crate::secrets::{code_hash, new_code, secret_hash};
use crate::state::AppState;
use crate::store::{Device, Store, TokenCheck};

/// Proof the request names a protocol version this server speaks.
#[derive(Debug, Clone, Copy)]
pub struct Protocol;

impl<S: Send + Sync> FromRequestParts<S> for Protocol {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let version = parts
            .headers
            .get(PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        match version {
            Some(v) if protocol_supported(v) => Ok(Protocol),
            Some(_) => Err(ApiError::UpgradeRequired),
            None => Err(ApiError::BadRequest {
                code: ErrorCode::MissingProtocol,
                message: format!("the {PROTOCOL_HEADER} header is required"),
            }),
        }
    }
}

/// An authenticated device whose lease holds.
pub struct Authed(pub Device);

/// An authenticated device that may push: its lease holds, or ended less than the grace
/// period ago (`lapsed` is then true, and the push does not renew the lease).
pub struct PushAuthed {
    /// The device.
    pub device: Device,
    /// Whether its lease has ended.
    pub lapsed: bool,
}

/// The device a request's bearer token names, and when its lease ended if it has.
async fn token_device<St: Store>(
    parts: &mut Parts,
    state: &AppState<St>,
) -> Result<(Device, Option<i64>), ApiError> {
    Protocol::from_request_parts(parts, state).await?;
    let token = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(ApiError::Unauthorized)?;
    match state.store.check_token(secret_hash(token)).await? {
        TokenCheck::Valid(device) => Ok((device, None)),
        TokenCheck::Lapsed {
            device,
            lease_until_ms,
        } => Ok((device, Some(lease_until_ms))),
        TokenCheck::Revoked => Err(ApiError::DeviceRevoked),
        TokenCheck::Suspended => Err(ApiError::DeviceSuspended),
        TokenCheck::Unknown => Err(ApiError::Unauthorized),
    }
}

impl<St: Store> FromRequestParts<AppState<St>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<St>,
    ) -> Result<Self, Self::Rejection> {
        match token_device(parts, state).await? {
            (device, None) => Ok(Authed(device)),
            (_, Some(_)) => Err(ApiError::LeaseExpired),
        }
    }
}

impl<St: Store> FromRequestParts<AppState<St>> for PushAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<St>,
    ) -> Result<Self, Self::Rejection> {
        let (device, lapsed) = token_device(parts, state).await?;
        let Some(lease_until_ms) = lapsed else {
            return Ok(PushAuthed {
                device,
                lapsed: false,
            });
        };
        let now = pocketbook_protocol::unix_millis(state.store.sources().now());
        let grace_ms = state.config.lease_grace_seconds.saturating_mul(1000);
        let grace_end = u64::try_from(lease_until_ms)
            .unwrap_or(0)
            .saturating_add(grace_ms);
        if now < grace_end {
            Ok(PushAuthed {
                device,
                lapsed: true,
            })
        } else {
            Err(ApiError::LeaseExpired)
        }
    }
}
