//! Request guards: the protocol version header and the device's bearer token, as axum
//! extractors. Tokens are compared by their SHA-256, the only form the server stores.

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

/// An authenticated device.
pub struct Authed(pub Device);

impl<St: Store> FromRequestParts<AppState<St>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<St>,
    ) -> Result<Self, Self::Rejection> {
        Protocol::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        match state.store.check_token(secret_hash(token)).await? {
            TokenCheck::Valid(device) => Ok(Authed(device)),
            TokenCheck::Revoked => Err(ApiError::DeviceRevoked),
            TokenCheck::Suspended => Err(ApiError::DeviceSuspended),
            TokenCheck::Unknown => Err(ApiError::Unauthorized),
        }
    }
}
