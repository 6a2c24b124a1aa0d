//! The transport guards in front of every handler: a cap on requests in flight (`503 busy`,
//! answered at once, never queued), a request timeout (`408 timeout`), the request encodings
//! the server decodes (`415` for any other), and the per-device and per-address rate limits
//! (`429 rate_limited`). None of them touches the store, so a refused request never waits
//! behind its writer lock.

pub mod body;
pub mod rate;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::header::CONTENT_ENCODING;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::Config;
use rate::{retry_after_secs, Limiter, Rate};

/// The guards' shared state: the in-flight permits and the rate limiters.
#[derive(Debug)]
pub struct Guards {
    in_flight: Arc<Semaphore>,
    request_timeout: std::time::Duration,
    push: Limiter<Uuid>,
    pull: Limiter<Uuid>,
    enrol: Limiter<IpAddr>,
}

impl Guards {
    /// The guards for `config`.
    pub fn new(config: &Config) -> Self {
        let per_minute = config.enrol_per_minute.max(1);
        Guards {
            in_flight: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            request_timeout: config.request_timeout,
            push: Limiter::new(config.push_rate),
            pull: Limiter::new(config.pull_rate),
            enrol: Limiter::new(Rate {
                burst: per_minute,
                per_second: f64::from(per_minute) / 60.0,
            }),
        }
    }

    /// Takes one push from `device`'s allowance.
    pub fn push(&self, device: Uuid) -> Result<(), ApiError> {
        limited(self.push.check(&device, Instant::now()))
    }

    /// Takes one pull page from `device`'s allowance.
    pub fn pull(&self, device: Uuid) -> Result<(), ApiError> {
        limited(self.pull.check(&device, Instant::now()))
    }

    /// Takes one enrolment attempt from `client`'s allowance (before the store is asked).
    pub fn enrol(&self, client: IpAddr) -> Result<(), ApiError> {
        limited(self.enrol.check(&client, Instant::now()))
    }
}

fn limited(check: Result<(), std::time::Duration>) -> Result<(), ApiError> {
    check.map_err(|wait| ApiError::RateLimited {
        retry_after_secs: retry_after_secs(wait),
    })
}

/// Caps the requests in flight and bounds each one's time. Beyond the cap a request is
/// answered `503 busy` with `Retry-After` at once; a request not answered within the timeout
/// (its body still arriving, or its work unfinished) is answered `408 timeout`.
pub async fn bound(
    State(guards): State<Arc<Guards>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let Ok(_permit) = Arc::clone(&guards.in_flight).try_acquire_owned() else {
        return ApiError::Busy.into_response();
    };
    match tokio::time::timeout(guards.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// Refuses a body in an encoding the server does not decode (`415`, JSON), before any of it
/// is read. gzip and zstd are decoded; no header or `identity` is a plain body.
pub async fn encodings(request: axum::extract::Request, next: Next) -> Response {
    let known = match request.headers().get(CONTENT_ENCODING) {
        None => true,
        Some(value) => value.to_str().is_ok_and(|v| {
            let v = v.trim();
            ["gzip", "x-gzip", "zstd", "identity"]
                .iter()
                .any(|k| v.eq_ignore_ascii_case(k))
        }),
    };
    if known {
        next.run(request).await
    } else {
        ApiError::UnsupportedMediaType.into_response()
    }
}
