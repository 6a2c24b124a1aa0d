//! Live updates for the UI: a foreign observer hears the core's own events (data changed, sync
//! progress), forwarded as they come; the handle `observe` returns stops delivery when it is
//! dropped. The core fires every event, so the shell and every binding hear the same ones.

use std::sync::{Arc, Mutex};

use pocketbook_core::{CoreEvent, Subscription};

use crate::types::{mirror_enum, SyncPhase};

mirror_enum!(
    /// Where changed data came from: read the lists on screen again whichever it is.
    DataChange = pocketbook_core::ChangeOrigin {
        /// A record was written on this device (or reference data was provisioned).
        Local,
        /// A sync (or enrolment) brought changes from the server or sent this device's.
        Synced,
        /// The device enrolled again with its server after a lapsed lease; records the lease
        /// hid can be shown again.
        Reauthenticated
    }
);

/// Implemented by the app (Kotlin, Swift, Python) to hear about changes. Called on the thread
/// that made the change (for a sync, a worker thread of the library), after the change has
/// been saved: hop to the UI thread before touching views. A callback may call back into the
/// `Pocketbook`.
#[uniffi::export(with_foreign)]
pub trait PocketbookObserver: Send + Sync {
    /// Records changed; `change` says where the change came from.
    fn data_changed(&self, change: DataChange);
    /// A sync made progress: `done` of `total` items of `phase` (push or pull). The total can
    /// grow as the server reports more to pull.
    fn sync_progress(&self, phase: SyncPhase, done: u64, total: u64);
}

/// Subscribes `observer` to the core's events.
pub(crate) fn observe(
    core: &pocketbook_core::Pocketbook,
    observer: Arc<dyn PocketbookObserver>,
) -> Arc<ObserverHandle> {
    let subscription = core.observe(Arc::new(move |event| match event {
        CoreEvent::DataChanged { origin } => observer.data_changed(origin.into()),
        CoreEvent::SyncProgress(p) => observer.sync_progress(p.phase.into(), p.done, p.total),
    }));
    Arc::new(ObserverHandle {
        subscription: Mutex::new(Some(subscription)),
    })
}

/// Keeps an observer registered; dropping it (or calling `stop`) stops delivery.
#[derive(uniffi::Object)]
pub struct ObserverHandle {
    subscription: Mutex<Option<Subscription>>,
}

#[uniffi::export]
impl ObserverHandle {
    /// Stops delivery now (dropping the handle does the same). Stopping twice is harmless.
    pub fn stop(&self) {
        let subscription = self
            .subscription
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(subscription);
    }
}
