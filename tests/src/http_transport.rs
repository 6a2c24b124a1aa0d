//! A transport that carries a device's requests to a real server over HTTP, keeps a copy of
//! each, and can lose or spoil every pull after the first few: a signal lost in the middle of
//! a sync, or an answer damaged on the way (a broken proxy, a buggy server).

use std::sync::Mutex;

use pocketbook_core::transport::{NoAnswer, Sending, Transport, WireRequest, WireResponse};

/// Sends what the core sends, over real HTTP.
pub struct HttpTransport {
    client: reqwest::Client,
    url: String,
    sent: Mutex<Vec<WireRequest>>,
    pulls_answered: Option<(usize, AfterThem)>,
}

/// What becomes of the pulls after the first few.
#[derive(Clone, Copy, Debug)]
pub enum AfterThem {
    /// No answer arrives.
    Lost,
    /// The answer arrives, its compressed body cut short (a frame that cannot be read).
    CutShort,
    /// The answer arrives compressed and whole, but its JSON is cut in half.
    HalfJson,
}

impl HttpTransport {
    /// A transport to the server at `url` (no trailing slash).
    pub fn new(url: &str) -> Self {
        HttpTransport {
            client: crate::http_client(),
            url: url.to_string(),
            sent: Mutex::new(Vec::new()),
            pulls_answered: None,
        }
    }

    /// Answers only the first `n` pull requests; every later one is lost.
    pub fn losing_pulls_after(self, n: usize) -> Self {
        self.spoiling_pulls_after(n, AfterThem::Lost)
    }

    /// Answers the first `n` pull requests as the server does; every later answer is spoiled.
    pub fn spoiling_pulls_after(mut self, n: usize, how: AfterThem) -> Self {
        self.pulls_answered = Some((n, how));
        self
    }

    /// Every request sent so far (lost ones included), in order.
    pub fn sent(&self) -> Vec<WireRequest> {
        self.sent.lock().expect("transport lock").clone()
    }
}

impl Transport for HttpTransport {
    fn send(&self, request: WireRequest) -> Sending<'_> {
        Box::pin(async move {
            let pulls_before = {
                let mut sent = self.sent.lock().expect("transport lock");
                let pulls = sent.iter().filter(|r| r.path == "/v1/sync/pull").count();
                sent.push(request.clone());
                pulls
            };
            let spoil = match self.pulls_answered {
                Some((n, how)) if request.path == "/v1/sync/pull" && pulls_before >= n => Some(how),
                _ => None,
            };
            if let Some(AfterThem::Lost) = spoil {
                return Err(NoAnswer);
            }
            let mut builder = self.client.post(format!("{}{}", self.url, request.path));
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            let answer = builder
                .body(request.body)
                .send()
                .await
                .map_err(|_| NoAnswer)?;
            let status = answer.status().as_u16();
            let headers = answer
                .headers()
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let mut body = answer.bytes().await.map_err(|_| NoAnswer)?.to_vec();
            match spoil {
                Some(AfterThem::CutShort) => body.truncate(body.len() / 2),
                Some(AfterThem::HalfJson) => {
                    let json = zstd::decode_all(body.as_slice()).expect("a zstd answer");
                    body = zstd::encode_all(&json[..json.len() / 2], 3).expect("zstd");
                }
                Some(AfterThem::Lost) | None => {}
            }
            Ok(WireResponse {
                status,
                headers,
                body,
            })
        })
    }
}
