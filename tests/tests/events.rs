//! The core's own events, as the shell and every binding hear them: a committed write, a sync
//! and a re-authentication each tell observers once, reads and writes that change nothing tell
//! them nothing, a dropped subscription hears no more, and a listener may call back into the
//! store (no lock is held while it runs).

use std::sync::{Arc, Mutex};

use pocketbook_core::model::VisitUpdate;
use pocketbook_core::{ChangeOrigin, CoreEvent, Listener, Pocketbook, SyncPhase};
use pocketbook_protocol::Role;
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{open_at, person_draft, provisioning, visit_draft, Fixture};

/// A listener that remembers every event, and what it heard.
fn recorder() -> (Listener, Arc<Mutex<Vec<CoreEvent>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    (Arc::new(move |e| sink.lock().unwrap().push(e)), seen)
}

fn changes(seen: &Mutex<Vec<CoreEvent>>) -> Vec<ChangeOrigin> {
    seen.lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            CoreEvent::DataChanged { origin } => Some(*origin),
            CoreEvent::SyncProgress(_) => None,
        })
        .collect()
}

fn drain(seen: &Mutex<Vec<CoreEvent>>) -> Vec<CoreEvent> {
    std::mem::take(&mut *seen.lock().unwrap())
}

#[test]
fn each_committed_write_tells_observers_once_and_a_dropped_subscription_hears_no_more() {
    let f = Fixture::unprovisioned();
    let (listener, seen) = recorder();
    let subscription = f.book.observe(listener);

    f.book.provision(&provisioning()).unwrap();
    assert_eq!(changes(&seen), [ChangeOrigin::Local], "provisioning");
    drain(&seen);

    let child = f.book.add_young_person(person_draft()).unwrap().id;
    let visit = f.book.record_visit(visit_draft(child, 2)).unwrap();
    let update = VisitUpdate {
        narrative: Some("Mother less anxious.".into()),
        ..VisitUpdate::default()
    };
    f.book.update_visit(visit.id, update.clone()).unwrap();
    assert_eq!(changes(&seen), [ChangeOrigin::Local; 3]);
    drain(&seen);

    // A write that changes nothing, a refused write and a read (whose Consult is audited in a
    // transaction of its own) tell nobody.
    f.book.update_visit(visit.id, update).unwrap();
    let mut backwards = visit_draft(child, 2);
    backwards.end = backwards.start - chrono::Duration::minutes(5);
    assert!(f.book.record_visit(backwards).is_err());
    f.book.chronology(child, "Strategy meeting").unwrap();
    assert!(drain(&seen).is_empty(), "no change, no event");

    f.book.delete_visit(visit.id, "Recorded in error").unwrap();
    assert_eq!(changes(&seen), [ChangeOrigin::Local]);
    drain(&seen);

    drop(subscription);
    f.book.add_young_person(person_draft()).unwrap();
    assert!(drain(&seen).is_empty(), "dropped means stopped");
}

#[test]
fn a_listener_may_read_the_store_it_is_told_about() {
    let f = Fixture::new();
    // A second handle on the same file, shared with the listener: were the store's lock held
    // while listeners run, this read would deadlock.
    let book = Arc::new(open_at(&f.path).unwrap());
    let pending = Arc::new(Mutex::new(Vec::new()));
    let (reader, sink) = (Arc::downgrade(&book), pending.clone());
    let _subscription = book.observe(Arc::new(move |_| {
        if let Some(book) = reader.upgrade() {
            sink.lock()
                .unwrap()
                .push(book.pending_changes().unwrap().len());
        }
    }));
    let child = book.add_young_person(person_draft()).unwrap().id;
    book.record_visit(visit_draft(child, 1)).unwrap();
    assert_eq!(*pending.lock().unwrap(), [1, 2], "each saw its own write");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_reports_progress_and_tells_observers_once_only_when_it_moved_something() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = server.device(alice.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    device.book.record_visit(visit_draft(child, 1)).unwrap();

    let (listener, seen) = recorder();
    let _subscription = device.book.observe(listener);
    let report = device.book.sync().await.unwrap();
    assert_eq!(report.pushed, 2);
    let events = drain(&seen);
    let progress: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            CoreEvent::SyncProgress(p) => Some(*p),
            CoreEvent::DataChanged { .. } => None,
        })
        .collect();
    assert!(progress
        .iter()
        .any(|p| p.phase == SyncPhase::Push && p.done == 2 && p.total == 2));
    assert!(progress.iter().any(|p| p.phase == SyncPhase::Pull));
    assert_eq!(
        events.last(),
        Some(&CoreEvent::DataChanged {
            origin: ChangeOrigin::Synced
        }),
        "told once, after the last progress"
    );
    assert_eq!(changes(&Mutex::new(events)), [ChangeOrigin::Synced]);

    // Nothing to push or pull: progress, but no data changed.
    device.book.sync().await.unwrap();
    let events = drain(&seen);
    assert!(!events.is_empty());
    assert!(changes(&Mutex::new(events)).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn reauthenticating_tells_observers_once() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = server.device(alice.id).await;
    let book: &Pocketbook = &device.book;
    let (listener, seen) = recorder();
    let _subscription = book.observe(listener);
    book.reauthenticate(&server.code(alice.id).await)
        .await
        .unwrap();
    assert_eq!(
        drain(&seen),
        [CoreEvent::DataChanged {
            origin: ChangeOrigin::Reauthenticated
        }]
    );

    // Enrolling afresh tells them the data came from the server.
    let fresh = pocketbook_tests::server::TestDevice::new();
    let (listener, seen) = recorder();
    let _subscription = fresh.book.observe(listener);
    fresh
        .book
        .enroll(&server.url, &server.code(alice.id).await)
        .await
        .unwrap();
    assert_eq!(changes(&seen), [ChangeOrigin::Synced]);
}
