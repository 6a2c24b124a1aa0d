//! A seam under the sync client's HTTP, for the seeded fault simulation and tests: instead of
//! reqwest, a [`Transport`] is handed the exact request the core would send (method, path,
//! headers, the body as compressed for the wire) and returns the status, headers and body the
//! server answered, so the core's encoding, compression, error mapping and planners all run
//! unchanged. Apps never set one (`Pocketbook::set_transport` exists only with the core's
//! `simulation` feature); without one the core speaks HTTP with reqwest.

use std::future::Future;
use std::pin::Pin;

/// A request as the core would put it on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// `POST` (the only method the sync client uses).
    pub method: String,
    /// The path, e.g. `/v1/sync/push`.
    pub path: String,
    /// Header names (lower case) and values, in the order the core set them.
    pub headers: Vec<(String, String)>,
    /// The body, compressed when the `content-encoding` header says so.
    pub body: Vec<u8>,
}

/// An answer as it came off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireResponse {
    /// The HTTP status.
    pub status: u16,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body, still compressed when the `content-encoding` header says so.
    pub body: Vec<u8>,
}

/// The transport failed: no answer came (the request or the answer was lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoAnswer;

/// What [`Transport::send`] returns.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<WireResponse, NoAnswer>> + Send + 'a>>;

/// What [`Transport::wait`] returns.
pub type Waiting<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Carries one request to a server and brings back its answer (or nothing).
pub trait Transport: Send + Sync {
    /// Sends `request`; `Err(NoAnswer)` is a lost request or answer, which the core reports as
    /// a network error like a failed connection.
    fn send(&self, request: WireRequest) -> Sending<'_>;

    /// Waits `how_long` before trying again after a `429` or `503` (by default a real sleep;
    /// a simulation moves its virtual clock instead).
    fn wait(&self, how_long: std::time::Duration) -> Waiting<'_> {
        Box::pin(tokio::time::sleep(how_long))
    }
}

/// Sends one request the sync client built through `transport`: its status (an invalid one is
/// no answer), headers (those that are not valid HTTP dropped) and body.
pub(crate) async fn exchange(
    transport: &dyn Transport,
    path: &str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
) -> Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>), NoAnswer> {
    let request = WireRequest {
        method: "POST".into(),
        path: path.to_string(),
        headers: headers
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect(),
        body,
    };
    let response = transport.send(request).await?;
    let status = reqwest::StatusCode::from_u16(response.status).map_err(|_| NoAnswer)?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    Ok((status, headers, response.body))
}
