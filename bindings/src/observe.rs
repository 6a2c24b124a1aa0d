//! Live updates for the UI: a foreign observer receives data-changed and sync-progress events;
//! the handle `observe` returns stops delivery when it is dropped.

use std::sync::{Arc, Mutex, Weak};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DataChange {
    /// Records were written on this device.
    Local,
    /// A sync brought changes from the server.
    Synced,
}

/// Implemented by the app (Kotlin, Swift, Python) to hear about changes. Called on the thread
/// that made the change: hop to the UI thread before touching views.
#[uniffi::export(with_foreign)]
pub trait PocketbookObserver: Send + Sync {
    /// Records changed.
    fn data_changed(&self, change: DataChange);
    /// A sync made progress: `phase` is "push" or "pull".
    fn sync_progress(&self, phase: String, done: u64, total: u64);
}

type Registry = Mutex<Vec<(u64, Arc<dyn PocketbookObserver>)>>;

/// The observers of one `Pocketbook`.
#[derive(Default)]
pub(crate) struct Observers {
    registry: Arc<Registry>,
    next: Mutex<u64>,
}

impl Observers {
    pub(crate) fn add(&self, observer: Arc<dyn PocketbookObserver>) -> Arc<ObserverHandle> {
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        *next += 1;
        let id = *next;
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, observer));
        Arc::new(ObserverHandle {
            id,
            registry: Arc::downgrade(&self.registry),
        })
    }

    fn each(&self, f: impl Fn(&dyn PocketbookObserver)) {
        // Call outside the lock so an observer may observe or drop handles itself.
        let current: Vec<Arc<dyn PocketbookObserver>> = self
            .registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(_, o)| o.clone())
            .collect();
        for o in current {
            f(o.as_ref());
        }
    }

    pub(crate) fn changed(&self, change: DataChange) {
        self.each(|o| o.data_changed(change));
    }

    pub(crate) fn progress(&self, phase: &str, done: u64, total: u64) {
        self.each(|o| o.sync_progress(phase.to_string(), done, total));
    }
}

/// Keeps an observer registered; dropping it (or calling `stop`) stops delivery.
#[derive(uniffi::Object)]
pub struct ObserverHandle {
    id: u64,
    registry: Weak<Registry>,
}

#[uniffi::export]
impl ObserverHandle {
    /// Stops delivery now (dropping the handle does the same).
    pub fn stop(&self) {
        if let Some(registry) = self.registry.upgrade() {
            registry
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|(id, _)| *id != self.id);
        }
    }
}

impl Drop for ObserverHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
