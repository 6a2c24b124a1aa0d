//! Errors of the server and their one JSON shape on the wire: `{"code", "message"}` with a
//! fitting status. Messages never carry personal data.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pocketbook_protocol::wire::{AckedPosition, ErrorBody, ProtocolRange};
use pocketbook_protocol::ErrorCode;

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request body or a header is malformed.
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: ErrorCode,
        /// Human message.
        message: String,
    },
    /// The body fits the API document but what it says cannot be taken (422): a push whose
    /// audit chain does not verify, out of order, or another device's events.
    #[error("{message}")]
    Unprocessable {
        /// Machine code.
        code: ErrorCode,
        /// For people; never holds personal data.
        message: String,
    },
    /// No token, or a token the server does not know.
    #[error("missing or unknown device token")]
    Unauthorized,
    /// The device was revoked; it must wipe itself.
    #[error("this device has been revoked")]
    DeviceRevoked,
    /// Enrolment names a device id the server holds without proving possession of its token.
    #[error("this device id is enrolled already; re-authenticate from the device that holds it")]
    DeviceTaken,
    /// The device's lease has ended: pulls and conflict reads wait for re-authentication
    /// (pushes are still taken in the grace period).
    #[error("this device's lease has ended; re-authenticate with a new code")]
    LeaseExpired,
    /// The enrolment code is unknown, used or expired.
    #[error("the enrolment code is unknown, already used or expired")]
    BadCode,
    /// Too many requests of this kind from this device or client address.
    #[error("too many requests; try again after the time in Retry-After")]
    RateLimited {
        /// Seconds to wait (sent as `Retry-After`).
        retry_after_secs: u64,
    },
    /// The server is at its cap of requests in flight.
    #[error("the server is busy; try again after the time in Retry-After")]
    Busy,
    /// The request did not finish (arrive and be answered) within the request timeout.
    #[error("the request took too long")]
    Timeout,
    /// A `Content-Encoding` the server does not decode.
    #[error("unsupported content encoding: send gzip, zstd or an uncompressed body")]
    UnsupportedMediaType,
    /// The client speaks a protocol version this server does not.
    #[error("protocol version not supported; update the app")]
    UpgradeRequired,
    /// The body is larger than the server accepts.
    #[error("request too large: send fewer mutations per push")]
    TooLarge,
    /// A field of the request is over one of the limits (README "Limits").
    #[error("{message}")]
    OverLimit {
        /// Names the field and its limit, never its value.
        message: String,
    },
    /// A push skips sequence numbers: its first new `seq` is not the high-water mark + 1.
    #[error("the push skips sequence numbers; the next expected is {expected}")]
    SeqGap {
        /// The sequence number the server expected next.
        expected: u64,
    },
    /// The request names an epoch the server no longer has (it was restored from a backup):
    /// the device reconciles before pushing anything else (issue 12).
    #[error("the server was restored from a backup; reconcile with its new epoch")]
    EpochChanged {
        /// The server's epoch.
        epoch: String,
        /// What the server holds of this device.
        position: AckedPosition,
    },
    /// The device was suspended (too many refused mutations or audit rows); an admin must
    /// lift it.
    #[error("this device is suspended; ask an administrator")]
    DeviceSuspended,
    /// A mutation is stamped too far ahead of the server's clock.
    #[error("the device clock is ahead of the server's; correct it and resend")]
    ClockSkew {
        /// The server's clock (ms).
        server_time_ms: u64,
    },
    /// The push resends a seq or audit event the server holds with other content: the store is
    /// a copy of this device's (issue 12). Nothing was applied.
    #[error("this store is a copy of another device's; re-enrol it as a new device")]
    DeviceForked {
        /// The longest prefix of the device's sequences the server holds as sent.
        position: AckedPosition,
    },
    /// No such endpoint.
    #[error("no such endpoint")]
    NotFound,
    /// The database does not answer (health check).
    #[error("the database is not reachable")]
    Unavailable,
    /// A restore is pending (issue 12): the server does not serve until the admin journal is
    /// replayed or an admin confirms there is nothing to replay.
    #[error("the server was restored from a backup and is not serving yet; try again later")]
    RestorePending,
    /// A pull cursor is below its bucket's compacted history: pull these buckets from 0.
    #[error("history was compacted: pull the buckets named again from the start")]
    ResyncRequired {
        /// The buckets to pull again.
        buckets: Vec<String>,
    },
    /// A storage failure (details logged, not sent).
    #[error("internal storage error")]
    Storage(StoreError),
}

impl From<StoreError> for ApiError {
    /// A store's failure as an answer. No pooled database connection within the pool's
    /// timeout (every one busy with other requests, or none could be opened) is `503 busy`
    /// with `Retry-After`, as at the in-flight cap: the device backs off and comes back,
    /// where a `500` would end its sync. The cause is logged either way.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Pool(cause) => {
                tracing::warn!(error = %cause, "no database connection in time: answered busy");
                ApiError::Busy
            }
            e => ApiError::Storage(e),
        }
    }
}

/// Why a whole push is refused (nothing of it applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushRefusal {
    /// Well-formed but not hanging together: out of order, a broken audit chain, another
    /// device's events (422: the body fits the document; what it says cannot be taken).
    Invalid(String),
    /// A field of the body is over its limit (413).
    OverLimit(String),
    /// The first new `seq` is not the high-water mark + 1 (409); nothing was applied.
    SeqGap {
        /// The sequence number expected next.
        expected: u64,
    },
    /// A resent mutation or audit event differs from what the server took at its seq (409);
    /// carries the longest prefix held as sent.
    DeviceForked(AckedPosition),
    /// The request names another epoch than the server's (409); nothing was applied.
    EpochChanged {
        /// The server's epoch.
        epoch: String,
        /// What the server holds of this device.
        position: AckedPosition,
    },
}

impl From<PushRefusal> for ApiError {
    fn from(refusal: PushRefusal) -> Self {
        match refusal {
            PushRefusal::Invalid(message) => ApiError::Unprocessable {
                code: ErrorCode::InvalidPush,
                message,
            },
            PushRefusal::OverLimit(message) => ApiError::OverLimit { message },
            PushRefusal::SeqGap { expected } => ApiError::SeqGap { expected },
            PushRefusal::DeviceForked(position) => ApiError::DeviceForked { position },
            PushRefusal::EpochChanged { epoch, position } => {
                ApiError::EpochChanged { epoch, position }
            }
        }
    }
}

/// A failure inside a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("postgres pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// Stored data could not be decoded.
    #[error("stored {0} could not be decoded")]
    Corrupt(&'static str),
    /// A blocking task failed to run.
    #[error("storage task failed")]
    Task,
    /// An admin command named something that does not exist or clashes.
    #[error("{0}")]
    Invalid(String),
    /// The admin journal could not be written or does not match the database (issue 12):
    /// the action did not happen.
    #[error("{0}")]
    Journal(String),
    /// A pull's cursor is below its bucket's compacted history: these buckets must be pulled
    /// again from 0 (answered `410 resync_required`; nothing was served).
    #[error("pull these buckets again from the start")]
    ResyncRequired(Vec<String>),
}

impl ApiError {
    /// A store's failure as an answer: a resync it asks for is `410`, anything else a storage
    /// failure.
    pub fn from_store(e: StoreError) -> ApiError {
        match e {
            StoreError::ResyncRequired(buckets) => ApiError::ResyncRequired { buckets },
            e => ApiError::from(e),
        }
    }

    fn parts(&self) -> (StatusCode, ErrorCode) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code.clone()),
            ApiError::Unprocessable { code, .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code.clone())
            }
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized),
            ApiError::DeviceRevoked => (StatusCode::UNAUTHORIZED, ErrorCode::DeviceRevoked),
            ApiError::BadCode => (StatusCode::FORBIDDEN, ErrorCode::InvalidCode),
            ApiError::DeviceTaken => (StatusCode::CONFLICT, ErrorCode::DeviceTaken),
            ApiError::LeaseExpired => (StatusCode::UNAUTHORIZED, ErrorCode::LeaseExpired),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, ErrorCode::RateLimited),
            ApiError::Busy => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Busy),
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout),
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
            ),
            ApiError::UpgradeRequired => (StatusCode::UPGRADE_REQUIRED, ErrorCode::UpgradeRequired),
            ApiError::TooLarge | ApiError::OverLimit { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::TooLarge)
            }
            ApiError::SeqGap { .. } => (StatusCode::CONFLICT, ErrorCode::SeqGap),
            ApiError::DeviceForked { .. } => (StatusCode::CONFLICT, ErrorCode::DeviceForked),
            ApiError::EpochChanged { .. } => (StatusCode::CONFLICT, ErrorCode::EpochChanged),
            ApiError::DeviceSuspended => (StatusCode::FORBIDDEN, ErrorCode::DeviceSuspended),
            ApiError::NotFound => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            ApiError::ClockSkew { .. } => (StatusCode::CONFLICT, ErrorCode::ClockSkew),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            ApiError::RestorePending => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::RestorePending)
            }
            ApiError::ResyncRequired { .. } => (StatusCode::GONE, ErrorCode::ResyncRequired),
            ApiError::Storage(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        if let ApiError::Storage(e) = &self {
            tracing::error!(error = %e, "storage failure");
        }
        let server_time_ms = match &self {
            ApiError::ClockSkew { server_time_ms } => Some(*server_time_ms),
            _ => None,
        };
        let supported_protocols =
            matches!(self, ApiError::UpgradeRequired).then(ProtocolRange::this_build);
        let body = ErrorBody {
            code,
            message: self.to_string(),
            server_time_ms,
            supported_protocols,
            epoch: None,
            position: match &self {
                ApiError::DeviceForked { position } => Some(position.clone()),
                _ => None,
            },
            buckets: match &self {
                ApiError::ResyncRequired { buckets } => Some(buckets.clone()),
                _ => None,
            },
        };
        let body = match &self {
            ApiError::EpochChanged { epoch, position } => ErrorBody {
                epoch: Some(epoch.clone()),
                position: Some(position.clone()),
                ..body
            },
            _ => body,
        };
        let retry_after = match &self {
            ApiError::RateLimited { retry_after_secs } => Some((*retry_after_secs).max(1)),
            ApiError::Busy => Some(1),
            ApiError::RestorePending => Some(30),
            _ => None,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        if matches!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE
                | StatusCode::REQUEST_TIMEOUT
                | StatusCode::UNSUPPORTED_MEDIA_TYPE
        ) {
            // The rest of the body was not read: this connection cannot carry another request.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    use super::{ApiError, StoreError};

    /// A database that never gives a connection, for a pool that must time out.
    struct Unreachable;

    impl r2d2::ManageConnection for Unreachable {
        type Connection = ();
        type Error = std::io::Error;
        fn connect(&self) -> Result<(), std::io::Error> {
            Err(std::io::Error::other("refused"))
        }
        fn is_valid(&self, (): &mut ()) -> Result<(), std::io::Error> {
            Ok(())
        }
        fn has_broken(&self, (): &mut ()) -> bool {
            false
        }
    }

    async fn body_code(response: axum::response::Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        body["code"].as_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn no_pooled_connection_in_time_is_busy_with_retry_after_not_a_500() {
        let pool = r2d2::Pool::builder()
            .max_size(1)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_millis(50))
            .build_unchecked(Unreachable);
        let timed_out = || StoreError::Pool(pool.get().map(|_| ()).unwrap_err());
        for error in [
            ApiError::from(timed_out()),
            ApiError::from_store(timed_out()),
        ] {
            let response = error.into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()["retry-after"], "1");
            assert_eq!(body_code(response).await, "busy");
        }
        // Any other storage failure is still a 500 whose details stay in the log.
        let response = ApiError::from(StoreError::Corrupt("record")).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body_code(response).await, "internal");
    }
}
