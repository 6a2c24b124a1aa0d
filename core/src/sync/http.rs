//! The HTTP side of sync: JSON over reqwest, the protocol header and bearer token on every
//! request, gzip or zstd both ways, the server's `{code, message}` errors turned into the
//! core's typed errors, and backing off by itself when the server says `429` or `503` (after
//! its `Retry-After`, a bounded number of times). It speaks TLS, or plain HTTP only to
//! loopback; it follows no redirect (a `3xx` is an error naming its status); and only an
//! answer from the very origin it was made for, over TLS or loopback, can say the device is
//! revoked (which wipes it). Async; does no disk IO.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use pocketbook_protocol::wire::{ErrorBody, PROTOCOL_HEADER};
use pocketbook_protocol::{ErrorCode, PROTOCOL_VERSION};

use crate::error::{Error, Result};
use crate::transport::{exchange, NoAnswer, Transport};

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
    /// 409 `device_forked`: this store is a copy; the prefix the server holds as sent.
    Forked(pocketbook_protocol::wire::AckedPosition),
    /// 409 `epoch_changed`: the server was restored from a backup; its new epoch and what it
    /// holds of this device (the device reconciles before pushing anything else).
    EpochChanged {
        /// The server's epoch.
        epoch: String,
        /// The server's position of this device.
        position: pocketbook_protocol::wire::AckedPosition,
    },
    /// 410 `resync_required`: the server compacted history these buckets' cursors had not
    /// reached; pull them again from 0.
    ResyncRequired {
        /// The buckets to pull again.
        buckets: Vec<String>,
    },
    /// Everything else, already typed.
    Other(Error),
}

impl From<Error> for CallError {
    fn from(e: Error) -> Self {
        CallError::Other(e)
    }
}

/// A client for one server, counting the bytes it moves on the wire.
pub(crate) struct Http {
    client: reqwest::Client,
    base: String,
    /// The origin (scheme, host, port) `base` names: the only one whose answers count.
    origin: reqwest::Url,
    token: Option<String>,
    /// Request bytes sent (after compression).
    pub(crate) bytes_sent: AtomicU64,
    /// Response bytes received (before decompression).
    pub(crate) bytes_received: AtomicU64,
    /// Whether this server has answered in zstd (so it decodes zstd too): request bodies are
    /// then sent in zstd, else in gzip, which every server version reads.
    zstd_known: AtomicBool,
    /// The simulation's transport instead of reqwest, when one is set.
    transport: Option<Arc<dyn Transport>>,
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
        let origin = reqwest::Url::parse(&base).map_err(|_| Error::Network {
            reason: "the server address is not a valid URL".into(),
        })?;
        if !secure_or_loopback(&origin) {
            return Err(Error::InsecureServer);
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
            .redirect(reqwest::redirect::Policy::none())
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
            origin,
            token,
            bytes_sent: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            zstd_known: AtomicBool::new(false),
            transport: None,
        })
    }

    /// This client sending through `transport` instead of reqwest, when one is given.
    pub(crate) fn routed(mut self, transport: Option<Arc<dyn Transport>>) -> Self {
        self.transport = transport;
        self
    }

    /// Sends one request with reqwest.
    async fn over_reqwest(
        &self,
        path: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> std::result::Result<Answer, Retry> {
        let mut request = self.client.post(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let failed = |e: reqwest::Error| {
            Retry::No(CallError::Other(Error::Network {
                reason: describe(&e),
            }))
        };
        let response = request.body(body).send().await.map_err(failed)?;
        let status = response.status();
        let from_origin = same_origin(response.url(), &self.origin);
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(failed)?.to_vec();
        Ok(Answer {
            status,
            from_origin,
            headers,
            body,
        })
    }

    /// POSTs `body` as JSON to `path` and reads the JSON answer; on `429` or `503` waits for
    /// the server's `Retry-After` (at most [`MAX_RETRY_WAIT`] each time) and tries again, at
    /// most [`MAX_ATTEMPTS`] times in all, then gives the server's error.
    pub(crate) async fn post<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> std::result::Result<Resp, CallError> {
        self.post_for_body(path, body).await?.decode()
    }

    /// As [`Http::post`], but hands back the successful answer as received (still compressed),
    /// for a caller that decodes it elsewhere: a pull page is fetched on a task of the runtime
    /// and decompressed and decoded on the pull's decoding thread (`page_decoder`), one thread
    /// for the whole pull, so the memory pages are decoded in is reused page after page rather
    /// than left in the arenas of whichever runtime threads fetched them.
    pub(crate) async fn post_for_body<Req: Serialize>(
        &self,
        path: &str,
        body: &Req,
    ) -> std::result::Result<AnswerBody, CallError> {
        let json = serde_json::to_vec(body).map_err(|_| Error::Corrupt {
            what: "request body",
        })?;
        let mut attempt = 1;
        loop {
            match self.post_once(path, &json).await {
                Err(Retry::After(wait, _)) if attempt < MAX_ATTEMPTS => {
                    attempt += 1;
                    match &self.transport {
                        Some(transport) => transport.wait(wait).await,
                        None => tokio::time::sleep(wait).await,
                    }
                }
                Err(Retry::After(_, e)) | Err(Retry::No(e)) => return Err(e),
                Ok(answer) => return Ok(answer),
            }
        }
    }

    /// One POST of an already serialised body.
    async fn post_once(&self, path: &str, json: &[u8]) -> std::result::Result<AnswerBody, Retry> {
        let json_len = json.len();
        let mut headers: Vec<(&'static str, String)> = vec![
            (PROTOCOL_HEADER, PROTOCOL_VERSION.to_string()),
            ("content-type", "application/json".into()),
        ];
        let (wire_body, wire_len) = if json_len > COMPRESS_FROM_BYTES {
            let zstd = self.zstd_known.load(Ordering::Relaxed);
            let packed = if zstd { zstd_pack(json)? } else { gzip(json)? };
            headers.push((
                "content-encoding",
                if zstd { "zstd" } else { "gzip" }.into(),
            ));
            let len = packed.len();
            (packed, len)
        } else {
            (json.to_vec(), json_len)
        };
        if let Some(token) = &self.token {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        headers.push(("accept-encoding", "zstd, gzip".into()));
        self.bytes_sent
            .fetch_add(wire_len as u64, Ordering::Relaxed);
        let answer = match &self.transport {
            Some(transport) => {
                let (status, headers, body) =
                    exchange(transport.as_ref(), path, headers, wire_body)
                        .await
                        .map_err(|NoAnswer| {
                            Retry::No(CallError::Other(Error::Network {
                                reason: "the request failed".into(),
                            }))
                        })?;
                Answer {
                    status,
                    from_origin: true,
                    headers,
                    body,
                }
            }
            None => self.over_reqwest(path, headers, wire_body).await?,
        };
        let status = answer.status;
        if status.is_redirection() {
            return Err(Retry::No(CallError::Other(Error::Network {
                reason: format!(
                    "the server answered HTTP {} (a redirect), which is not followed",
                    status.as_u16()
                ),
            })));
        }
        let from_origin = answer.from_origin;
        let encoding = answer
            .headers
            .get(reqwest::header::CONTENT_ENCODING)
            .map(|v| v.as_bytes().to_ascii_lowercase());
        let retry_after = answer
            .headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let raw = answer.body;
        self.bytes_received
            .fetch_add(raw.len() as u64, Ordering::Relaxed);
        let packing = match encoding.as_deref() {
            Some(b"gzip") => Packing::Gzip,
            Some(b"zstd") => {
                self.zstd_known.store(true, Ordering::Relaxed);
                Packing::Zstd
            }
            _ => Packing::None,
        };
        if status.is_success() {
            return Ok(AnswerBody { raw, packing });
        }
        let body = packing.unpack(raw)?;
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Err(Retry::No(CallError::TooLarge));
        }
        let wait = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        )
        .then(|| Duration::from_secs(retry_after.unwrap_or(1).clamp(1, MAX_RETRY_WAIT.as_secs())));
        let body: ErrorBody = serde_json::from_slice(&body).unwrap_or(ErrorBody {
            code: ErrorCode::Unknown(format!("http_{}", status.as_u16())),
            message: status.canonical_reason().unwrap_or("error").to_string(),
            server_time_ms: None,
            supported_protocols: None,
            epoch: None,
            position: None,
            buckets: None,
        });
        if let (StatusCode::CONFLICT, ErrorCode::ClockSkew, Some(server_time_ms)) =
            (status, &body.code, body.server_time_ms)
        {
            return Err(Retry::No(CallError::ClockSkew { server_time_ms }));
        }
        if let (StatusCode::CONFLICT, ErrorCode::DeviceForked, Some(position)) =
            (status, &body.code, &body.position)
        {
            return Err(Retry::No(CallError::Forked(position.clone())));
        }
        if let (StatusCode::CONFLICT, ErrorCode::EpochChanged, Some(epoch), Some(position)) =
            (status, &body.code, &body.epoch, &body.position)
        {
            return Err(Retry::No(CallError::EpochChanged {
                epoch: epoch.clone(),
                position: position.clone(),
            }));
        }
        if let (StatusCode::GONE, ErrorCode::ResyncRequired, Some(buckets)) =
            (status, &body.code, &body.buckets)
        {
            return Err(Retry::No(CallError::ResyncRequired {
                buckets: buckets.clone(),
            }));
        }
        let error = CallError::Other(match (status, &body.code) {
            // Only the server this device was made for can have it wiped.
            (StatusCode::UNAUTHORIZED, ErrorCode::DeviceRevoked) if from_origin => {
                Error::DeviceRevoked
            }
            (StatusCode::UNAUTHORIZED, ErrorCode::LeaseExpired) => Error::LeaseExpired,
            (StatusCode::UNAUTHORIZED, _) => Error::Unauthorized,
            (StatusCode::FORBIDDEN, _) => Error::Forbidden {
                message: body.message,
            },
            (StatusCode::UPGRADE_REQUIRED, _) => Error::UpgradeRequired,
            _ => Error::Server {
                code: body.code,
                message: body.message,
            },
        });
        Err(match wait {
            Some(wait) => Retry::After(wait, error),
            None => Retry::No(error),
        })
    }
}

/// How an answer's body came compressed.
#[derive(Clone, Copy)]
enum Packing {
    None,
    Gzip,
    Zstd,
}

impl Packing {
    fn unpack(self, raw: Vec<u8>) -> std::result::Result<Vec<u8>, CallError> {
        match self {
            Packing::None => Ok(raw),
            Packing::Gzip => gunzip(&raw),
            Packing::Zstd => zstd_unpack(&raw),
        }
    }
}

/// A successful answer as received: still compressed, not yet decoded.
pub(crate) struct AnswerBody {
    raw: Vec<u8>,
    packing: Packing,
}

impl AnswerBody {
    /// An answer as a server sends it uncompressed.
    #[cfg(test)]
    pub(crate) fn uncompressed(json: &[u8]) -> Self {
        AnswerBody {
            raw: json.to_vec(),
            packing: Packing::None,
        }
    }

    /// An answer as a server sends it compressed with zstd.
    #[cfg(test)]
    pub(crate) fn zstd(json: &[u8]) -> Self {
        AnswerBody {
            raw: zstd_pack(json).unwrap_or_default(),
            packing: Packing::Zstd,
        }
    }

    /// Decompresses the answer and decodes it as the type the caller expects.
    pub(crate) fn decode<T: DeserializeOwned>(self) -> std::result::Result<T, CallError> {
        let json = self.packing.unpack(self.raw)?;
        serde_json::from_slice(&json).map_err(|_| {
            CallError::Other(Error::Network {
                reason: "unreadable answer from the server".into(),
            })
        })
    }
}

/// An answer off the wire, by whichever transport carried it.
struct Answer {
    status: StatusCode,
    /// It came from the origin this client was made for (a transport is that origin).
    from_origin: bool,
    headers: reqwest::header::HeaderMap,
    /// Still compressed, as received.
    body: Vec<u8>,
}

/// How one attempt failed: worth another after a wait (`429`, `503`), or not.
enum Retry {
    /// Try again after this long; the error if no attempt is left.
    After(Duration, CallError),
    /// Give up with this.
    No(CallError),
}

impl From<CallError> for Retry {
    fn from(e: CallError) -> Self {
        Retry::No(e)
    }
}

impl From<Error> for Retry {
    fn from(e: Error) -> Self {
        Retry::No(CallError::Other(e))
    }
}

/// Most attempts of one request the server answers `429` or `503`.
pub(crate) const MAX_ATTEMPTS: u32 = 5;
/// Longest wait between two attempts, whatever `Retry-After` says.
pub(crate) const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Request bodies larger than this are sent compressed.
const COMPRESS_FROM_BYTES: usize = 1024;

fn zstd_pack(bytes: &[u8]) -> Result<Vec<u8>> {
    zstd::stream::encode_all(bytes, 3).map_err(Error::Io)
}

fn zstd_unpack(bytes: &[u8]) -> std::result::Result<Vec<u8>, CallError> {
    use std::io::Read;
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(bytes)
        .and_then(|d| d.take(MAX_ANSWER_BYTES).read_to_end(&mut out))
        .map_err(|_| {
            CallError::Other(Error::Network {
                reason: "the server's compressed answer could not be read".into(),
            })
        })?;
    Ok(out)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(Error::Io)
}

/// Most bytes a compressed answer may expand to (a guard against a hostile server): a pull
/// page's records are at most `MAX_PULL_PAGE_BYTES` (2 MiB) of JSON, twice that with every
/// field's version written out, plus a force-wide role's reference data; decoded, a page takes
/// several times its JSON in memory, so the bound stays well short of what a phone can spare.
const MAX_ANSWER_BYTES: u64 = 64 * 1024 * 1024;

fn gunzip(bytes: &[u8]) -> std::result::Result<Vec<u8>, CallError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut out)
        .map_err(|_| {
            CallError::Other(Error::Network {
                reason: "the server's compressed answer could not be read".into(),
            })
        })?;
    Ok(out)
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

/// Whether `url` is TLS, or plain HTTP to this machine itself (127.0.0.0/8, ::1, localhost).
pub(crate) fn secure_or_loopback(url: &reqwest::Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// Whether an answer from `answered` comes from `origin` (same scheme, host and port) over
/// TLS or loopback.
fn same_origin(answered: &reqwest::Url, origin: &reqwest::Url) -> bool {
    answered.scheme() == origin.scheme()
        && answered.host() == origin.host()
        && answered.port_or_known_default() == origin.port_or_known_default()
        && secure_or_loopback(answered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap()
    }

    #[test]
    fn plain_http_is_allowed_only_to_loopback() {
        for ok in [
            "https://sync.force.example",
            "http://127.0.0.1:8080",
            "http://127.9.9.9",
            "http://[::1]:443",
            "http://LOCALHOST:1",
        ] {
            assert!(secure_or_loopback(&url(ok)), "{ok}");
        }
        for refused in [
            "http://sync.force.example",
            "http://10.0.0.1",
            "http://[::2]",
            "http://localhost.example",
            "ftp://127.0.0.1",
        ] {
            assert!(!secure_or_loopback(&url(refused)), "{refused}");
        }
        assert!(matches!(
            Http::new("http://sync.force.example", None, &[]),
            Err(Error::InsecureServer)
        ));
    }

    #[test]
    fn only_the_same_scheme_host_and_port_is_the_same_origin() {
        let origin = url("https://sync.force.example");
        assert!(same_origin(
            &url("https://sync.force.example:443/v1/x"),
            &origin
        ));
        assert!(!same_origin(
            &url("https://sync.force.example:8443/"),
            &origin
        ));
        assert!(!same_origin(&url("http://sync.force.example/"), &origin));
        assert!(!same_origin(&url("https://evil.example/"), &origin));
    }
}
