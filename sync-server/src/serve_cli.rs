//! The `serve` and `audit` commands of `pocketbook-server`, apart from `main.rs` so that file
//! stays a parser of commands: the transport bounds, the lease and network settings, serving
//! on the listeners they name, and verifying the server audit chain against a head kept
//! elsewhere.

use std::path::PathBuf;
use std::time::Duration;

use crate::guard::rate::Rate;
use crate::proxy::Cidr;
use crate::state::{Config, Transport};
use crate::store::{ChainReport, Store};

/// The transport bounds of `serve` (README "Limits").
#[derive(Debug, clap::Args)]
pub struct GuardArgs {
    /// Seconds a connection may take to send a request's head (or finish a TLS handshake).
    #[arg(long, default_value_t = 10)]
    header_timeout_secs: u64,
    /// Seconds a request may take from its head to its answer, body included (then 408).
    #[arg(long, default_value_t = 60)]
    request_timeout_secs: u64,
    /// Most requests in flight at once (beyond: 503 busy).
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    /// Pushes a device may make at once after a quiet spell.
    #[arg(long, default_value_t = 60)]
    push_burst: u32,
    /// Pushes a second a device may make after its burst (beyond: 429).
    #[arg(long, default_value_t = 2.0)]
    push_per_second: f64,
    /// Pull pages a device may ask for at once after a quiet spell.
    #[arg(long, default_value_t = 1200)]
    pull_burst: u32,
    /// Pull pages a second a device may ask for after its burst (beyond: 429).
    #[arg(long, default_value_t = 20.0)]
    pull_per_second: f64,
}

impl GuardArgs {
    /// `config` with these bounds.
    pub fn apply(&self, config: Config, enrol_per_minute: u32) -> Config {
        Config {
            header_read_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(self.request_timeout_secs.max(1)),
            max_in_flight: self.max_in_flight.max(1),
            push_rate: Rate {
                burst: self.push_burst,
                per_second: self.push_per_second,
            },
            pull_rate: Rate {
                burst: self.pull_burst,
                per_second: self.pull_per_second,
            },
            enrol_per_minute,
            ..config
        }
    }
}

/// The lease's grace and how the server meets its network (issue 11).
#[derive(Debug, clap::Args)]
pub struct NetArgs {
    /// Days past its lease a device may still push (its pulls answer 401 lease_expired at
    /// once; after the grace its pushes do too, until it re-authenticates with a code).
    #[arg(long, default_value_t = 14)]
    lease_grace_days: u64,
    /// A proxy (address or CIDR block, repeatable) whose X-Forwarded-For is believed: the
    /// enrolment limit then counts the right-most forwarded address not itself trusted.
    #[arg(long = "trusted-proxy")]
    trusted_proxies: Vec<Cidr>,
    /// Serve /metrics on this address (plain HTTP) instead of on the API's listener.
    #[arg(long)]
    metrics_listen: Option<String>,
}

impl NetArgs {
    /// `config` with this grace.
    pub fn apply(&self, config: Config) -> Config {
        Config {
            lease_grace_seconds: self.lease_grace_days.saturating_mul(24 * 3600),
            ..config
        }
    }
}

/// Why `serve` could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A store operation failed.
    #[error("{0}")]
    Store(#[from] crate::error::StoreError),
    /// A listener failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The TLS files could not be used.
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// Serves the API until Ctrl-C, over TLS when given a certificate and key, with `/metrics`
/// on its own listener when `net` names one.
pub async fn serve<S: Store + crate::store::JournalStore>(
    store: S,
    listen: String,
    config: Config,
    net: NetArgs,
    tls: Option<(PathBuf, PathBuf)>,
) -> Result<(), ServeError> {
    let report = store.validate_store().await?;
    tracing::info!(
        checked = report.checked,
        quarantined = report.quarantined,
        "stored records validated"
    );
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let metrics = match &net.metrics_listen {
        Some(at) => Some(tokio::net::TcpListener::bind(at).await?),
        None => None,
    };
    if let Some(m) = &metrics {
        println!("metrics on http://{}", m.local_addr()?);
    }
    let restore_gate = crate::journal::RestoreGate::default();
    // Re-reads restore_pending every few seconds while serving; stopped when serving ends.
    let watcher = crate::journal::gate::watch(store.clone(), restore_gate.clone()).await?;
    let _stop_watching = AbortOnDrop(watcher);
    let transport = Transport {
        trusted_proxies: net.trusted_proxies,
        metrics_apart: metrics.is_some(),
        restore_gate,
    };
    // Scripts read this line to find a port picked with --listen 127.0.0.1:0.
    match tls {
        Some((cert, key)) => {
            let tls = crate::tls::config_from_pem(&cert, &key)?;
            println!("listening on https://{addr}");
            crate::tls::serve_tls_with(listener, metrics, store, config, transport, tls, shutdown)
                .await?;
        }
        None => {
            println!("listening on http://{addr}");
            crate::serve_with(listener, metrics, store, config, transport, shutdown).await?;
        }
    }
    Ok(())
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The admin acting when no `--as` is given: the OS user named by the environment.
pub fn default_actor() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// What `audit verify` concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The chain holds and its head is the one expected (or none was given).
    Holds(ChainReport),
    /// A row breaks the chain, or the head is not the one kept elsewhere.
    Broken(String),
}

/// Walks the server audit chain and compares its head with `expected_head`, if given.
pub async fn verify_audit<S: Store>(
    store: &S,
    expected_head: Option<&str>,
) -> Result<Verdict, crate::error::StoreError> {
    let report = store.verify_audit().await?;
    if let Some(row) = &report.broken {
        return Ok(Verdict::Broken(format!(
            "the audit chain is broken at row {} (chain place {}): {}",
            row.id,
            row.chain_seq
                .map_or_else(|| "none".to_string(), |s| s.to_string()),
            row.reason
        )));
    }
    if let Some(expected) = expected_head {
        if !expected.trim().eq_ignore_ascii_case(&report.head) {
            return Ok(Verdict::Broken(format!(
                "the audit chain's head {} is not the head kept elsewhere: rows were removed, \
                 replaced or added",
                report.head
            )));
        }
    }
    Ok(Verdict::Holds(report))
}
