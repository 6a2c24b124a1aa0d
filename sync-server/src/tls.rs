//! Serving over TLS (rustls with the ring provider) when the server is given a certificate
//! chain and key; otherwise it serves plain HTTP behind a reverse proxy. Connections are
//! accepted by [`crate::listen`], with the same time bounds as plain HTTP.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::rustls::ServerConfig;

use crate::api;
use crate::state::Config;
use crate::store::Store;

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file could not be read.
    #[error("cannot read the certificate chain: {0}")]
    Certificate(String),
    /// The key file could not be read.
    #[error("cannot read the private key: {0}")]
    Key(String),
    /// rustls refused the pair.
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(String),
}

/// A TLS configuration from PEM files: the certificate chain (leaf first) and its key.
pub fn config_from_pem(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| TlsError::Certificate(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::Certificate("no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key(e.to_string()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the API over TLS on a listener the caller bound, until `shutdown` resolves, with the
/// same time bounds as the plain listener (the handshake within the header-read timeout).
pub async fn serve_tls<S: Store>(
    listener: TcpListener,
    store: S,
    config: Config,
    tls: Arc<ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = config.header_read_timeout;
    let app = api::router(store, config);
    crate::listen::accept_loop(
        listener,
        app,
        Some(crate::listen::acceptor(tls)),
        header_timeout,
        shutdown,
    )
    .await
}

/// [`serve_tls`] with `transport` settings; when `metrics` is given, `/metrics` is served there
/// (plain HTTP) and not on `listener`.
pub async fn serve_tls_with<S: Store>(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    store: S,
    config: Config,
    transport: crate::state::Transport,
    tls: Arc<ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = Some(crate::listen::acceptor(tls));
    crate::serve_listeners(
        listener, metrics, store, config, transport, acceptor, shutdown,
    )
    .await
}
