//! PostgreSQL over TLS with rustls (issue 11): the URL's `sslmode=verify-full` (the server's
//! certificate must chain to the CA file and name the host) or `verify-ca` (chain only), with
//! the CA file in `sslrootcert=`. `sslmode=require` would encrypt without knowing whom to, so
//! it is refused at start-up with a message saying why. No OpenSSL: the connector is
//! tokio-rustls over the `postgres` crate's TLS traits.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use postgres::Socket;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore,
    SignatureScheme,
};

use crate::error::StoreError;

/// How a PostgreSQL URL asks to be connected to.
#[derive(Clone)]
pub enum PgTls {
    /// Plain TCP (no `sslmode`, or `disable` / `prefer`, as before).
    Plain,
    /// TLS, the server's certificate verified against a CA file.
    Verified(RustlsConnect),
}

/// Splits the TLS options off a PostgreSQL URL: the URL the `postgres` crate parses, whether
/// it must use TLS, and how. Refuses `sslmode=require` and a verifying mode without a CA file.
pub fn split_url(url: &str) -> Result<(String, PgTls), StoreError> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = None;
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => mode = Some(percent_decode(value)),
            "sslrootcert" => root_cert = Some(percent_decode(value)),
            _ => kept.push(pair),
        }
    }
    let plain = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let verify_name = match mode.as_deref() {
        None | Some("disable") | Some("prefer") => return Ok((url.to_string(), PgTls::Plain)),
        Some("verify-full") => true,
        Some("verify-ca") => false,
        Some("require") => {
            return Err(StoreError::Invalid(
                "sslmode=require is refused: it encrypts without verifying the server's \
                 certificate, so anyone on the path can pose as the database; use \
                 sslmode=verify-full (or verify-ca) with sslrootcert=<the CA's PEM file>"
                    .into(),
            ))
        }
        Some(_) => {
            return Err(StoreError::Invalid(
                "sslmode must be disable, prefer, verify-ca or verify-full".into(),
            ))
        }
    };
    let Some(root_cert) = root_cert else {
        return Err(StoreError::Invalid(
            "sslmode=verify-full and verify-ca need sslrootcert=<the CA's PEM file>".into(),
        ));
    };
    let plain = if plain.contains('?') {
        format!("{plain}&sslmode=require")
    } else {
        format!("{plain}?sslmode=require")
    };
    Ok((
        plain,
        PgTls::Verified(RustlsConnect::new(Path::new(&root_cert), verify_name)?),
    ))
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Makes rustls connections for the `postgres` crate, verifying against one CA file.
#[derive(Clone)]
pub struct RustlsConnect {
    config: Arc<ClientConfig>,
}

impl RustlsConnect {
    /// Trusts the certificates of the PEM file `ca`; checks the host name too if `verify_name`.
    pub fn new(ca: &Path, verify_name: bool) -> Result<Self, StoreError> {
        let unreadable = || StoreError::Invalid("the sslrootcert file could not be read".into());
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).map_err(|_| unreadable())? {
            roots
                .add(cert.map_err(|_| unreadable())?)
                .map_err(|_| unreadable())?;
        }
        if roots.is_empty() {
            return Err(unreadable());
        }
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|_| unreadable())?;
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| StoreError::Invalid("no TLS protocol version available".into()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ChainVerifier {
                inner: webpki,
                verify_name,
            }))
            .with_no_client_auth();
        Ok(RustlsConnect {
            config: Arc::new(config),
        })
    }
}

/// WebPKI's verification, less the host name check for `verify-ca`.
#[derive(Debug)]
struct ChainVerifier {
    inner: Arc<WebPkiServerVerifier>,
    verify_name: bool,
}

impl ServerCertVerifier for ChainVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(TlsError::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.verify_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

impl MakeTlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type TlsConnect = RustlsConnector;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnector, io::Error> {
        let name = ServerName::try_from(domain.to_string())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "invalid host name"))?;
        Ok(RustlsConnector {
            config: self.config.clone(),
            name,
        })
    }
}

/// One TLS handshake to one host.
pub struct RustlsConnector {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl TlsConnect<Socket> for RustlsConnector {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            let stream = tokio_rustls::TlsConnector::from(self.config)
                .connect(self.name, stream)
                .await?;
            Ok(RustlsStream(Box::new(stream)))
        })
    }
}

/// A TLS connection to PostgreSQL.
pub struct RustlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl TlsStream for RustlsStream {
    /// No channel binding: SCRAM then authenticates without it (the certificate check is what
    /// stops an impostor).
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_and_a_missing_ca_are_refused_and_plain_urls_pass_through() {
        let refused = |url: &str| match split_url(url) {
            Err(StoreError::Invalid(m)) => m,
            _ => panic!("refused"),
        };
        assert!(refused("postgres://u@h/db?sslmode=require").contains("without verifying"));
        assert!(refused("postgres://u@h/db?sslmode=verify-full").contains("sslrootcert"));
        let (url, tls) = split_url("postgres://u@h/db?application_name=x").expect("plain");
        assert_eq!(url, "postgres://u@h/db?application_name=x");
        assert!(matches!(tls, PgTls::Plain));
        assert_eq!(percent_decode("%2Ftmp%2Fca.crt"), "/tmp/ca.crt");
    }
}
