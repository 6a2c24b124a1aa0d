//! Events for whoever shows the notebook (the shell, every binding): data changed, and how far
//! a sync has got. The core fires them itself, so every front end hears the same thing. An
//! event is delivered on the thread that caused it, after its transaction has committed and
//! with no lock held, so a listener may call back into the [`Pocketbook`](crate::Pocketbook).

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use serde::Serialize;

use crate::sync::SyncProgress;

/// Where changed data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOrigin {
    /// A record was written on this device (or reference data was provisioned).
    Local,
    /// A sync (or enrolment) brought changes from the server or sent this device's.
    Synced,
    /// The device enrolled again with its server; records hidden by a lapsed lease are shown
    /// again.
    Reauthenticated,
}

/// Something a front end may want to react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoreEvent {
    /// Records on this device changed: lists and open records should be read again.
    DataChanged {
        /// What changed them.
        origin: ChangeOrigin,
    },
    /// A sync made progress (after every pushed batch and pulled page).
    SyncProgress(SyncProgress),
}

/// A function that hears every [`CoreEvent`] while its [`Subscription`] lives. It runs on the
/// thread that caused the event: a UI must hop to its own thread before touching views.
pub type Listener = Arc<dyn Fn(CoreEvent) + Send + Sync>;

/// The listeners of one [`Pocketbook`](crate::Pocketbook), each under the id its subscription
/// holds.
#[derive(Default)]
struct Registry {
    next_id: u64,
    listeners: Vec<(u64, Listener)>,
}

/// Who is listening to one Pocketbook, and the one way events reach them.
#[derive(Default)]
pub(crate) struct Events {
    registry: Arc<Mutex<Registry>>,
}

impl Events {
    /// Adds a listener until the returned subscription is dropped.
    pub(crate) fn subscribe(&self, listener: Listener) -> Subscription {
        let mut registry = lock(&self.registry);
        registry.next_id += 1;
        let id = registry.next_id;
        registry.listeners.push((id, listener));
        Subscription {
            id,
            registry: Arc::downgrade(&self.registry),
        }
    }

    /// Delivers `event` to every listener. Called only after the write it reports has
    /// committed, and never under the store's lock.
    pub(crate) fn emit(&self, event: CoreEvent) {
        // Copy the list and call outside this lock too, so a listener may subscribe or drop
        // a subscription (its own included) while it runs.
        let listeners: Vec<Listener> = lock(&self.registry)
            .listeners
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        for listener in listeners {
            listener(event);
        }
    }

    /// Tells listeners that records changed.
    pub(crate) fn data_changed(&self, origin: ChangeOrigin) {
        self.emit(CoreEvent::DataChanged { origin });
    }
}

/// Keeps a listener registered. Dropping it (or calling [`Subscription::stop`]) stops
/// delivery: no event emitted afterwards reaches the listener.
#[must_use = "dropping the subscription stops delivery at once"]
pub struct Subscription {
    id: u64,
    registry: Weak<Mutex<Registry>>,
}

impl Subscription {
    /// Stops delivery now; dropping the subscription does the same.
    pub fn stop(&self) {
        if let Some(registry) = self.registry.upgrade() {
            lock(&registry).listeners.retain(|(id, _)| *id != self.id);
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    // A listener that panicked left the list whole (it is only pushed to and filtered).
    registry.lock().unwrap_or_else(|p| p.into_inner())
}

impl crate::Pocketbook {
    /// Calls `listener` with every [`CoreEvent`] until the returned [`Subscription`] is
    /// dropped: `DataChanged` after each committed record write (`Local`), after a sync that
    /// pushed or pulled anything (`Synced`) and after [`reauthenticate`](Self::reauthenticate)
    /// (`Reauthenticated`); `SyncProgress` during a sync. Events arrive on the calling thread
    /// (for a sync, a tokio worker), after the transaction commits and with no lock held.
    pub fn observe(&self, listener: Listener) -> Subscription {
        self.events.subscribe(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder() -> (Listener, Arc<Mutex<Vec<CoreEvent>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let listener: Listener = Arc::new(move |e| sink.lock().unwrap().push(e));
        (listener, seen)
    }

    #[test]
    fn every_live_subscription_hears_an_event_and_a_dropped_one_does_not() {
        let events = Events::default();
        let (first, first_seen) = recorder();
        let (second, second_seen) = recorder();
        let keep = events.subscribe(first);
        let gone = events.subscribe(second);
        events.data_changed(ChangeOrigin::Local);
        drop(gone);
        events.data_changed(ChangeOrigin::Synced);
        let local = CoreEvent::DataChanged {
            origin: ChangeOrigin::Local,
        };
        let synced = CoreEvent::DataChanged {
            origin: ChangeOrigin::Synced,
        };
        assert_eq!(*first_seen.lock().unwrap(), vec![local, synced]);
        assert_eq!(*second_seen.lock().unwrap(), vec![local]);
        keep.stop();
        events.data_changed(ChangeOrigin::Local);
        assert_eq!(first_seen.lock().unwrap().len(), 2, "stopped means stopped");
    }

    #[test]
    fn a_listener_may_subscribe_while_it_is_being_called() {
        let events = Arc::new(Events::default());
        let inner = events.clone();
        let made = Arc::new(Mutex::new(Vec::new()));
        let keep = made.clone();
        let _outer = events.subscribe(Arc::new(move |_| {
            let sub = inner.subscribe(Arc::new(|_| {}));
            keep.lock().unwrap().push(sub);
        }));
        events.data_changed(ChangeOrigin::Local);
        assert_eq!(made.lock().unwrap().len(), 1);
    }

    #[test]
    fn a_subscription_outliving_its_pocketbook_drops_quietly() {
        let events = Events::default();
        let sub = events.subscribe(Arc::new(|_| {}));
        drop(events);
        drop(sub);
    }
}
