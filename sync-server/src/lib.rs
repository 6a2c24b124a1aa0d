//! The Pocketbook sync server: the only arbiter of what every device holds. It enrols devices,
//! takes their pushed mutations (merging them by the rules in `pocketbook-protocol`), serves
//! pulls by bucket, quarantines what it refuses and audits everything. Storage sits behind the
//! [`store::Store`] trait; the backend is chosen once in `main`. What a push may do is decided
//! by the pure [`policy`]; the admin commands' logic is [`admin`]; wall time and randomness
//! come from the store's [`pocketbook_protocol::sources::Sources`].

pub mod admin;
pub mod api;
pub mod auth;
pub mod error;
pub mod gias;
pub mod guard;
pub mod journal;
pub mod listen;
pub mod metrics;
pub mod openapi;
pub mod policy;
pub mod proxy;
pub mod scope;
pub mod secrets;
pub mod serve_cli;
pub mod state;
pub mod store;
pub mod tls;
pub mod validate;

pub use state::{AppState, Config};

use tokio::net::TcpListener;

/// Serves the API over plain HTTP on a listener the caller bound (tests bind 127.0.0.1:0)
/// until `shutdown` resolves, with the header-read timeout of `config`.
pub async fn serve<S: store::Store>(
    listener: TcpListener,
    store: S,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = config.header_read_timeout;
    let app = api::router(store, config);
    listen::accept_loop(listener, app, None, header_timeout, shutdown).await
}

/// [`serve`] with `transport` settings; when `metrics` is given, `/metrics` is served there
/// (plain HTTP, for a scraper on a private network) and not on `listener`.
pub async fn serve_with<S: store::Store>(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    store: S,
    config: Config,
    transport: state::Transport,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_listeners(listener, metrics, store, config, transport, None, shutdown).await
}

/// Serves the API on `listener` (over TLS with `tls`) and, when given, `/metrics` alone on
/// `metrics` (plain HTTP), until `shutdown` resolves.
pub(crate) async fn serve_listeners<S: store::Store>(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    store: S,
    config: Config,
    transport: state::Transport,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let header_timeout = config.header_read_timeout;
    let transport = state::Transport {
        metrics_apart: metrics.is_some(),
        ..transport
    };
    let (app, metrics_app) = api::routers(store, config, transport);
    let (stop_metrics, stopped) = tokio::sync::oneshot::channel::<()>();
    if let (Some(listener), Some(metrics_app)) = (metrics, metrics_app) {
        tokio::spawn(listen::accept_loop(
            listener,
            metrics_app,
            None,
            header_timeout,
            async {
                let _ = stopped.await;
            },
        ));
    }
    let served = listen::accept_loop(listener, app, tls, header_timeout, shutdown).await;
    let _ = stop_metrics.send(());
    served
}
