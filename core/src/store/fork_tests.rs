//! The device's re-stamp after `device_forked`, on a real store: what the server holds is
//! dropped, the rest renumbered and re-stamped under the new node with its clock readings and
//! bases, the audit chain re-chained after `forked_from`, and the store waits for enrolment.

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::AckedPosition;
use pocketbook_protocol::{Entity, GENESIS_HASH};
use uuid::Uuid;

use crate::model::{AuditOperation, VisitFilter, VisitUpdate};
use crate::test_support::{device, enrol, visit, young_person};
use crate::{store, Error};

#[test]
fn a_fork_keeps_what_the_server_holds_and_restamps_the_rest_under_a_new_id() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let visit_id = visit(&book, person, &time);
    book.update_visit(
        visit_id,
        VisitUpdate {
            narrative: Some("Seen again".into()),
            ..VisitUpdate::default()
        },
    )
    .unwrap();
    let before = book.store.read(store::outbox).unwrap();
    assert_eq!(before.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
    let old_id = before[0].version.node;
    let events_before = book.audit_events().unwrap();
    // The server holds the young person's create (seq 1) and its audit event.
    let position = AckedPosition {
        seq: 1,
        audit_seq: 1,
        audit_head: events_before[0].hash.clone(),
    };
    // A change the server refused earlier, kept under its number to resubmit or discard.
    book.store
        .write(|tx| {
            tx.execute(
                "INSERT INTO rejected (seq, entity, record_id, code, message, at)
                 VALUES (1, 'visit', 'r', 'forbidden', 'refused', 'then')",
                [],
            )?;
            Ok(())
        })
        .unwrap();
    let new_id = Uuid::from_u128(0xf0);
    let now = time.now();
    let returned = book
        .store
        .write(|tx| store::become_new_device(tx, &position, new_id, now))
        .unwrap();
    assert_eq!(returned, old_id);

    let after = book.store.read(store::outbox).unwrap();
    assert_eq!(after.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2]);
    for (old, new) in before[1..].iter().zip(&after) {
        assert_eq!(new.record_id, old.record_id);
        assert_eq!(new.fields, old.fields);
        assert_eq!(new.version.hlc, old.version.hlc, "clock reading kept");
        assert_eq!(new.version.node, new_id);
    }
    // The edit's base named the create's version (re-stamped with it); the create's own
    // fields all carry the new node now, and none the old.
    let edit_base: Vec<_> = after[1].base.values().flatten().collect();
    assert!(!edit_base.is_empty());
    assert!(edit_base.iter().all(|v| v.node == new_id));
    let visit_versions = book
        .store
        .read(|c| store::versions_of(c, Entity::Visit, visit_id))
        .unwrap();
    assert!(visit_versions.values().all(|v| v.node == new_id));
    // The young person's create was acknowledged: its versions stay the old id's.
    let person_versions = book
        .store
        .read(|c| store::versions_of(c, Entity::YoungPerson, person))
        .unwrap();
    assert!(person_versions.values().all(|v| v.node == old_id));

    // The audit chain: forked_from naming the old id, then the unacknowledged events.
    let events = book.audit_events().unwrap();
    assert_eq!(events.len(), events_before.len());
    assert_eq!(events[0].operation, AuditOperation::ForkedFrom);
    assert_eq!(
        events[0].justification.as_deref(),
        Some(&*old_id.to_string())
    );
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    for (old, new) in events_before[1..].iter().zip(&events[1..]) {
        assert_eq!(
            (new.operation, new.record_id, new.at),
            (old.operation, old.record_id, old.at)
        );
        assert_eq!(new.device_id, new_id);
    }
    book.store.read(store::audit_verify).unwrap();
    let kept: i64 = book
        .store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM audit_before_fork", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(kept, 1, "the acknowledged event is kept aside");

    // The refused change keeps a number the new id's changes will not reach.
    let refused: i64 = book
        .store
        .read(|c| Ok(c.query_row("SELECT seq FROM rejected", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(refused, 1 + (1 << 40));

    // A new device waiting for enrolment: nothing acknowledged, sync refused until then.
    let acked = book.store.read(store::acked_position).unwrap();
    assert_eq!((acked.seq, acked.audit_seq), (0, 0));
    assert_eq!(acked.audit_head, GENESIS_HASH);
    assert!(matches!(
        book.store.read(store::refuse_while_forked),
        Err(Error::DeviceForked)
    ));
    assert!(book
        .store
        .read(store::enrolled)
        .unwrap()
        .unwrap()
        .token
        .is_empty());
    // Everything stays visible, and new work continues the new numbering.
    assert_eq!(book.visits(&VisitFilter::default()).unwrap().len(), 1);
    assert!(book.young_person(person).is_ok());
    visit(&book, person, &time);
    let last = book.store.read(store::outbox).unwrap();
    assert_eq!(
        last.last().map(|m| (m.seq, m.version.node)),
        Some((3, new_id))
    );
    // Enrolment of the new id ends the wait.
    enrol(&book, &time, 60);
    book.store.read(store::refuse_while_forked).unwrap();
}
