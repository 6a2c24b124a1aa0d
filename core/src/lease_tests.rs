//! The lapsed lease on a real store with seeded time (issue 11, item 4): what a lapsed device
//! still shows and lets the officer change, what it refuses — reads and the records writes
//! would hand back — and that only re-enrolment ends the lapse.

use std::sync::Arc;

use chrono::Duration;
use uuid::Uuid;

use crate::model::{Establishment, EstablishmentKind, VisitFilter, VisitUpdate};
use crate::test_support::{enrolled_device, visit, young_person_named as child, ME};
use crate::{store, Error, Pocketbook, SeededSources};

const LEASE_SECONDS: u64 = 3_600;

struct Device {
    _dir: tempfile::TempDir,
    book: Pocketbook,
    time: Arc<SeededSources>,
}

/// An enrolled device (enrolment written as `enroll` writes it) with seeded time.
fn device() -> Device {
    let dir = tempfile::tempdir().unwrap();
    let school = Establishment {
        id: Uuid::from_u128(0xe1),
        urn: "100000".into(),
        name: "School".into(),
        kind: EstablishmentKind::Secondary,
        ward: None,
        dsl_contact: None,
        dedicated_officer: None,
        priority: 0,
        closed: false,
    };
    let (book, time) = enrolled_device(&dir, 11, vec![school], LEASE_SECONDS);
    Device {
        _dir: dir,
        book,
        time,
    }
}

/// What enrolment and re-enrolment write: a token and a fresh lease.
fn enrol(book: &Pocketbook, time: &SeededSources) {
    crate::test_support::enrol(book, time, LEASE_SECONDS);
}

fn narrate(text: &str) -> VisitUpdate {
    VisitUpdate {
        narrative: Some(text.into()),
        ..VisitUpdate::default()
    }
}

fn outbox_len(book: &Pocketbook) -> usize {
    book.store.read(store::outbox).unwrap().len()
}

fn lapsed(r: crate::Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::LeaseExpired))
}

#[test]
fn a_lapsed_device_shows_and_edits_only_what_the_officer_made_since() {
    let d = device();
    let old_child = child(&d.book, "Amira", "Example");
    let old_visit = visit(&d.book, old_child, &d.time);
    d.time.advance(Duration::seconds(
        i64::try_from(LEASE_SECONDS).unwrap() + 60,
    ));

    // Older records: refused to read, and to write (a write would hand them back).
    assert!(lapsed(d.book.visit(old_visit)));
    assert!(lapsed(d.book.young_person(old_child)));
    assert!(d.book.visits(&VisitFilter::default()).unwrap().is_empty());
    let before = outbox_len(&d.book);
    assert!(lapsed(d.book.update_visit(old_visit, narrate("changed"))));
    assert!(lapsed(
        d.book.update_visit(old_visit, VisitUpdate::default())
    ));
    assert!(lapsed(d.book.delete_visit(old_visit, "wrong family")));
    assert_eq!(outbox_len(&d.book), before, "nothing was written");
    assert!(lapsed(d.book.pending_changes()));
    assert!(lapsed(d.book.conflicts()));
    assert!(lapsed(d.book.chronology(old_child, "review")));
    assert!(lapsed(d.book.audit_events()));
    assert!(lapsed(d.book.audit_events_for(old_visit)));
    assert!(lapsed(d.book.unreadable_records()));
    assert!(
        d.book.verify_audit_chain().is_ok(),
        "the chain's check shows no content"
    );
    assert!(
        d.book.sync_status().unwrap().rejected.is_empty(),
        "sync status still answers"
    );

    // Reference data and the session stay.
    assert_eq!(d.book.establishments().unwrap().len(), 1);
    assert_eq!(d.book.session().unwrap().officer.id, ME);

    // The picker: only an exact full name finds a known child; new ones are found as usual.
    assert!(d.book.find_young_people("").unwrap().is_empty());
    assert!(d.book.find_young_people("amira").unwrap().is_empty());
    let exact: Vec<Uuid> = d
        .book
        .find_young_people("  amira   EXAMPLE ")
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(exact, vec![old_child]);
    let new_child = child(&d.book, "Noor", "Sample");
    let found: Vec<Uuid> = d
        .book
        .find_young_people("noor")
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(found, vec![new_child]);

    // A new visit naming the known child is readable and editable.
    let new_visit = visit(&d.book, old_child, &d.time);
    assert_eq!(d.book.visit(new_visit).unwrap().narrative, "Seen at home");
    let changed = d
        .book
        .update_visit(new_visit, narrate("Door answered"))
        .unwrap();
    assert_eq!(changed.narrative, "Door answered");
    let listed: Vec<Uuid> = d
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(listed, vec![new_visit]);

    // Re-enrolment ends the lapse and shows everything again, outbox kept.
    let pending = outbox_len(&d.book);
    enrol(&d.book, &d.time);
    assert_eq!(d.book.visits(&VisitFilter::default()).unwrap().len(), 2);
    assert_eq!(d.book.visit(old_visit).unwrap().narrative, "Seen at home");
    assert_eq!(d.book.pending_changes().unwrap().len(), pending);
}

#[test]
fn the_servers_word_lapses_a_lease_the_device_thought_current_until_re_enrolment() {
    use pocketbook_protocol::sources::Sources;
    let d = device();
    let old_visit = visit(&d.book, child(&d.book, "A", "B"), &d.time);
    d.time.advance(Duration::minutes(5));
    let now = d.time.now();
    d.book
        .store
        .write(|tx| store::mark_lapsed(tx, now))
        .unwrap();
    assert!(lapsed(d.book.visit(old_visit)));
    assert_eq!(d.book.sync_status().unwrap().lease_expires_at, now);
    // Setting the clock back does not help.
    d.time.advance(Duration::minutes(-30));
    assert!(lapsed(d.book.visit(old_visit)));
    d.time.advance(Duration::minutes(30));
    enrol(&d.book, &d.time);
    assert!(d.book.visit(old_visit).is_ok());
}
