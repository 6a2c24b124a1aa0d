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
pub mod metrics;
pub mod openapi;
pub mod policy;
pub mod scope;
pub mod secrets;
pub mod state;
pub mod store;
pub mod tls;
pub mod validate;

pub use state::{AppState, Config};

use std::net::SocketAddr;

use tokio::net::TcpListener;

/// Serves the API on a listener the caller bound (tests bind 127.0.0.1:0) until `shutdown`
/// resolves.
pub async fn serve<S: store::Store>(
    listener: TcpListener,
    store: S,
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = api::router(store, config).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
