//! The accept loop both listeners share (plain HTTP and TLS), so each connection gets the same
//! time bounds: a connection that sends no request head within the header-read timeout is
//! closed (hyper's header-read timer for HTTP/1, a deadline on the first byte before that), a
//! TLS handshake has the same deadline, and every connection runs in its own task so a slow
//! client holds up no one else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` resolves.
pub async fn accept_loop(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    header_timeout: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer): (TcpStream, SocketAddr) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    // Out of descriptors: wait a moment rather than spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let service = TowerToHyperService::new(app.layer(axum::Extension(ConnectInfo(peer))));
            match tls {
                None => {
                    // A client that opens a connection and says nothing is closed at the
                    // header deadline, before hyper even learns which HTTP it speaks.
                    let mut first = [0u8; 1];
                    match tokio::time::timeout(header_timeout, tcp.peek(&mut first)).await {
                        Ok(Ok(n)) if n > 0 => {}
                        _ => return,
                    }
                    let served = builder(header_timeout, None)
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
                Some(acceptor) => {
                    let stream =
                        match tokio::time::timeout(header_timeout, acceptor.accept(tcp)).await {
                            Ok(Ok(stream)) => stream,
                            _ => {
                                tracing::debug!("TLS handshake failed or timed out");
                                return;
                            }
                        };
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    let served = builder(header_timeout, Some(h2))
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                }
            }
        });
    }
}

/// A connection builder with the header-read deadline; over TLS the protocol is the one ALPN
/// chose, so no bytes are read before hyper's own timers run.
/// `h2`: `None` lets hyper tell HTTP/1 from HTTP/2 by the first bytes (plain listener, after
/// the first byte arrived in time); `Some` is ALPN's choice.
fn builder(header_timeout: Duration, h2: Option<bool>) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(header_timeout)
        .keep_alive_timeout(header_timeout);
    match h2 {
        Some(true) => builder.http2_only(),
        Some(false) => builder.http1_only(),
        None => builder,
    }
}

/// The TLS acceptor for a rustls configuration.
pub fn acceptor(config: Arc<tokio_rustls::rustls::ServerConfig>) -> TlsAcceptor {
    TlsAcceptor::from(config)
}
