//! The HTTP side of sync: JSON over reqwest, the protocol header and bearer token on every
//! request, and the server's `{code, message}` errors turned into the core's typed errors.
//! Async; does no disk IO.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use pocketbook_protocol::wire::{ErrorBody, PROTOCOL_HEADER};
use pocketbook_protocol::PROTOCOL_VERSION;

use crate::error::{Error, Result};

/// What a call can come back with besides a body.
#[derive(Debug)]
pub(crate) enum CallError {
    /// 413: the body was too large; send less.
    TooLarge,
    /// 409 `clock_skew`: this device's clock is ahead; the server's time is given.
    ClockSkew {
        /// The server's clock (ms since the epoch).
        server_time_ms: u64,
    },
    /// Everything else, already typed.
    Other(Error),
}

impl From<Error> for CallError {
    fn from(e: Error) -> Self {
        CallError::Other(e)
    }
}

/// A client for one server.
pub(crate) struct Http {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Http {
    /// A client for `base` (e.g. `https://sync.force.example`), with a device token once
    /// enrolled.
    pub(crate) fn new(base: &str, token: Option<String>, trusted_pem: &[String]) -> Result<Self> {
        let base = base.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::Network {
                reason: "the server address must start with http:// or https://".into(),
            });
        }
        // rustls with the ring provider: no C toolchain beyond the one SQLCipher needs.
        // Installing fails only when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut extra = Vec::new();
        for pem in trusted_pem {
            extra.push(reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|_| {
                Error::Network {
                    reason: "a trusted certificate is not valid PEM".into(),
                }
            })?);
        }
        let client = reqwest::Client::builder()
            .tls_certs_merge(extra)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| Error::Network {
                reason: format!("cannot build an HTTP client: {e}"),
            })?;
        Ok(Http {
            client,
            base,
            token,
        })
    }

    /// POSTs `body` as JSON to `path` and reads the JSON answer.
    pub(crate) async fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> std::result::Result<Resp, CallError> {
        let json = serde_json::to_vec(body).map_err(|_| Error::Corrupt {
            what: "request body",
        })?;
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        request = if json.len() > GZIP_FROM_BYTES {
            request
                .header(reqwest::header::CONTENT_ENCODING, "gzip")
                .body(gzip(&json)?)
        } else {
            request.body(json)
        };
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| Error::Network {
            reason: describe(&e),
        })?;
        let status = response.status();
        if status.is_success() {
            return response.json::<Resp>().await.map_err(|e| {
                CallError::Other(Error::Network {
                    reason: format!("unreadable answer from the server: {}", describe(&e)),
                })
            });
        }
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Err(CallError::TooLarge);
        }
        let body: ErrorBody = response.json().await.unwrap_or(ErrorBody {
            code: format!("http_{}", status.as_u16()),
            message: status.canonical_reason().unwrap_or("error").to_string(),
            server_time_ms: None,
        });
        if let (StatusCode::CONFLICT, "clock_skew", Some(server_time_ms)) =
            (status, body.code.as_str(), body.server_time_ms)
        {
            return Err(CallError::ClockSkew { server_time_ms });
        }
        Err(CallError::Other(match (status, body.code.as_str()) {
            (StatusCode::UNAUTHORIZED, "device_revoked") => Error::DeviceRevoked,
            (StatusCode::UNAUTHORIZED, _) => Error::Unauthorized,
            (StatusCode::FORBIDDEN, _) => Error::Forbidden {
                message: body.message,
            },
            (StatusCode::UPGRADE_REQUIRED, _) => Error::UpgradeRequired,
            _ => Error::Server {
                code: body.code,
                message: body.message,
            },
        }))
    }
}

/// Request bodies larger than this are sent gzip-compressed.
const GZIP_FROM_BYTES: usize = 1024;

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(Error::Io)
}

/// A network error in words, without the URL's query or anything the user typed.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the server did not answer in time".into()
    } else if e.is_connect() {
        "cannot connect to the server".into()
    } else if e.is_decode() {
        "the server's answer could not be read".into()
    } else {
        "the request failed".into()
    }
}
