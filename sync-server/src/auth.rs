//! Request guards: the protocol version header and the device's bearer token, as axum
//! extractors. Tokens are compared by their SHA-256, the only form the server stores.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use pocketbook_protocol::wire::PROTOCOL_HEADER;
use pocketbook_protocol::{protocol_supported, ErrorCode};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::store::{Device, Store, TokenCheck};

/// SHA-256 (hex) of a device token.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

/// SHA-256 (hex) of an enrolment code, read the way people type it: case, spaces and dashes
/// do not matter.
pub fn code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    secret_hash(&normal)
}

/// A new enrolment code: 12 characters from an alphabet without look-alikes (60 bits),
/// grouped in fours.
pub fn new_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

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

/// The state every handler shares: the store and the settings.
#[derive(Clone)]
pub struct AppState<S: Store> {
    /// The backend.
    pub store: S,
    /// Settings.
    pub config: crate::api::Config,
    /// This process's metrics.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
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
            TokenCheck::Unknown => Err(ApiError::Unauthorized),
        }
    }
}
