//! The device audit trail is hash-chained: editing, removing or truncating events is detected
//! and located.

use pocketbook_core::model::VisitUpdate;
use pocketbook_core::Error;
use pocketbook_tests::{visit_draft, Fixture};

/// Five events: the young person's and the visit's creation (1, 2), its edit (3), a consult (4)
/// and its deletion (5). A write's event is held in its outbox entry until the entry goes (the
/// `event_` columns), a consult's is in `audit_events`: each attack below edits the event
/// where it is.
fn fixture_with_events() -> Fixture {
    let f = Fixture::new();
    let person = f.young_person();
    let visit = f.book.record_visit(visit_draft(person, 3)).unwrap();
    f.book
        .update_visit(
            visit.id,
            VisitUpdate {
                narrative: Some("Revised".into()),
                ..Default::default()
            },
        )
        .unwrap();
    f.book.chronology(person, "Case review").unwrap();
    f.book.delete_visit(visit.id, "Recorded in error").unwrap();
    assert_eq!(f.book.verify_audit_chain().unwrap(), 5);
    f
}

fn broken_at(f: &Fixture) -> (u64, &'static str) {
    match f.book.verify_audit_chain() {
        Err(Error::AuditChainBroken { seq, reason }) => (seq, reason),
        other => panic!("tampering went unnoticed: {other:?}"),
    }
}

#[test]
fn an_edited_event_is_detected() {
    let f = fixture_with_events();
    f.raw()
        .execute(
            "UPDATE audit_events SET justification = 'Nothing to see' WHERE seq = 4",
            [],
        )
        .unwrap();
    assert_eq!(broken_at(&f), (4, "its content was altered"));
}

#[test]
fn an_edited_time_or_operation_is_detected() {
    let f = fixture_with_events();
    f.raw()
        .execute(
            "UPDATE outbox SET event_operation = 'consult' WHERE event_seq = 2",
            [],
        )
        .unwrap();
    assert_eq!(broken_at(&f).0, 2);
    let f = fixture_with_events();
    f.raw()
        .execute(
            "UPDATE outbox SET event_at = '2020-01-01T00:00:00.000000Z' WHERE event_seq = 3",
            [],
        )
        .unwrap();
    assert_eq!(broken_at(&f).0, 3);
}

#[test]
fn a_removed_event_is_detected() {
    let f = fixture_with_events();
    f.raw()
        .execute("UPDATE outbox SET event_seq = NULL WHERE event_seq = 3", [])
        .unwrap();
    assert_eq!(broken_at(&f), (3, "an event is missing"));
}

#[test]
fn a_removed_event_renumbered_to_hide_the_gap_is_detected() {
    let f = fixture_with_events();
    let conn = f.raw();
    conn.execute("UPDATE outbox SET event_seq = NULL WHERE event_seq = 3", [])
        .unwrap();
    conn.execute("UPDATE audit_events SET seq = seq - 1 WHERE seq > 3", [])
        .unwrap();
    conn.execute(
        "UPDATE outbox SET event_seq = event_seq - 1 WHERE event_seq > 3",
        [],
    )
    .unwrap();
    assert_eq!(broken_at(&f).0, 3);
}

#[test]
fn removing_the_latest_events_is_detected() {
    let f = fixture_with_events();
    let conn = f.raw();
    assert_eq!(
        conn.execute("DELETE FROM audit_events WHERE seq >= 4", [])
            .unwrap(),
        1
    );
    assert_eq!(
        conn.execute(
            "UPDATE outbox SET event_seq = NULL WHERE event_seq >= 4",
            [],
        )
        .unwrap(),
        1
    );
    assert_eq!(broken_at(&f), (4, "events after this point were removed"));
}
