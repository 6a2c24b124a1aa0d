//! A stand-in server for the device's transport tests: plain HTTP/1.1 on 127.0.0.1, one
//! request per connection, answered by a closure the test writes — so a test can make a
//! server answer what the real one never would (a redirect, `401 lease_expired` before the
//! server side of leases exists) and count what reached it. Not a Pocketbook server.

use std::io::Read;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One answer: status, extra headers, JSON body.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Headers besides `Content-Length`, `Content-Type` and `Connection`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer with `status`.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Answer {
            status,
            headers: Vec::new(),
            body: serde_json::to_vec(body).unwrap_or_default(),
        }
    }

    /// The server's error shape, `{code, message}`.
    pub fn error(status: u16, code: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({ "code": code, "message": "stand-in answer" }),
        )
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Answer {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

/// A running stand-in server.
pub struct FakeServer {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
    /// The paths asked for, in order.
    pub hits: Arc<Mutex<Vec<String>>>,
}

/// Starts a stand-in server answering each request (path, inflated body) with `answer`.
pub async fn start(answer: impl Fn(&str, &[u8]) -> Answer + Send + Sync + 'static) -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let seen = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let answer = answer.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                let Some((path, body)) = read_request(&mut socket).await else {
                    return;
                };
                seen.lock().unwrap().push(path.clone());
                let a = answer(&path, &body);
                let mut head = format!(
                    "HTTP/1.1 {} Stand-in\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n",
                    a.status,
                    a.body.len()
                );
                for (name, value) in &a.headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str("\r\n");
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(&a.body).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    FakeServer { url, hits }
}

/// Reads one request: its path and body (inflated when sent gzip or zstd).
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let path = head.split_whitespace().nth(1)?.to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let raw = &buf[head_end..head_end + length];
    let body = match header("content-encoding").as_deref() {
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw)
                .read_to_end(&mut out)
                .ok()?;
            out
        }
        Some("zstd") => zstd::stream::decode_all(raw).ok()?,
        _ => raw.to_vec(),
    };
    Some((path, body))
}
