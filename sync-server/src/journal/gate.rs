//! The restore gate: while the database's `restore_pending` is set (a restore or `new-epoch`
//! and no replay yet), `serve` does not serve. Every `/v1/*` request answers
//! `503 {code: restore_pending}`; `/healthz` stays up and says why. `serve` reads the flag at
//! start and re-reads it every few seconds ([`watch`]), so several servers sharing one
//! PostgreSQL close and open together. Holds no store; cheap to check per request.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::store::JournalStore;

/// How often `serve` re-reads the flag.
pub const RECHECK: Duration = Duration::from_secs(2);

/// Whether a restore is pending, shared by the router and the task that re-reads it.
#[derive(Debug, Clone, Default)]
pub struct RestoreGate(Arc<RwLock<Option<String>>>);

impl PartialEq for RestoreGate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
impl Eq for RestoreGate {}

impl RestoreGate {
    /// When the pending restore was made (RFC 3339), or `None`: serving.
    pub fn pending(&self) -> Option<String> {
        self.0
            .read()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    /// Sets the gate; whether it changed.
    pub fn set(&self, pending: Option<String>) -> bool {
        let mut guard = self.0.write().unwrap_or_else(|p| p.into_inner());
        let changed = *guard != pending;
        *guard = pending;
        changed
    }
}

/// Answers `/v1/*` with `503 restore_pending` while the gate is closed.
pub async fn guard(State(gate): State<RestoreGate>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/v1/") && gate.pending().is_some() {
        return ApiError::RestorePending.into_response();
    }
    next.run(request).await
}

/// What an operator must do while the gate is closed (logged and shown by `/healthz`).
pub const WHAT_TO_DO: &str = "the database was restored: run `pocketbook-server replay-journal \
     --admin-journal PATH`, or `pocketbook-server confirm-restore --no-admin-actions` if no \
     admin acted since the backup";

/// Reads the flag now, then every [`RECHECK`] for as long as the returned task runs, logging
/// each change.
pub async fn watch<S: JournalStore + Send + Sync + 'static>(
    store: S,
    gate: RestoreGate,
) -> Result<tokio::task::JoinHandle<()>, crate::error::StoreError> {
    let log = |pending: &Option<String>| match pending {
        Some(since) => tracing::warn!(%since, "not serving: {WHAT_TO_DO}"),
        None => tracing::info!("the restore is settled: serving"),
    };
    let first = store.restore_pending().await?;
    if first.is_some() {
        log(&first);
    }
    gate.set(first);
    Ok(tokio::spawn(async move {
        loop {
            tokio::time::sleep(RECHECK).await;
            match store.restore_pending().await {
                Ok(pending) => {
                    if gate.set(pending.clone()) {
                        log(&pending);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not re-read restore_pending"),
            }
        }
    }))
}
