//! The device row on a real store: local writes leave it as it is, loading takes in what they
//! advanced from the newest outbox entry, and an acknowledgement that empties the outbox saves
//! it first, so neither the clock, the numbering nor the audit chain's head ever goes back.

use rusqlite::Connection;

use pocketbook_protocol::Hlc;

use super::DeviceState;
use crate::store::{self, audit_verify};
use crate::sync::push_plan::PushOp;
use crate::test_support::{device, visit, young_person};

/// (next_seq, audit_seq, clock millis, clock counter) as the row holds them.
fn row(conn: &Connection) -> crate::Result<(i64, i64, i64, i64)> {
    Ok(conn.query_row(
        "SELECT next_seq, audit_seq, clock_millis, clock_counter FROM device WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?)
}

/// How many outbox entries still carry a copy of the audit head.
fn anchored(conn: &Connection) -> crate::Result<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM outbox WHERE audit_seq IS NOT NULL",
        [],
        |r| r.get(0),
    )?)
}

#[test]
fn local_writes_leave_the_row_and_loading_takes_in_what_they_advanced() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    // A consult saves the row (it has no outbox entry to carry the head).
    book.chronology(person, "check").unwrap();
    let saved = book.store.read(row).unwrap();
    assert_eq!(book.store.read(anchored).unwrap(), 0);
    let before = book.store.read(DeviceState::load).unwrap();
    for _ in 0..3 {
        visit(&book, person, &time);
    }
    // The row is as it was; the loaded state has moved on by three writes.
    assert_eq!(book.store.read(row).unwrap(), saved);
    let loaded = book.store.read(DeviceState::load).unwrap();
    assert_eq!(loaded.next_seq, before.next_seq + 3);
    assert_eq!(loaded.audit_seq, before.audit_seq + 3);
    let events = book.audit_events().unwrap();
    assert_eq!(loaded.audit_head, events.last().unwrap().hash);
    let outbox = book.store.read(store::outbox).unwrap();
    let newest = outbox.last().unwrap().clone();
    assert_eq!(loaded.clock.last(), newest.version.hlc);
    assert!(loaded.clock.last() > before.clock.last());
    book.store.read(audit_verify).unwrap();

    // The server acknowledges everything: the row is saved, then the outbox empties.
    let now = chrono::Utc::now();
    book.store
        .write(|tx| store::apply_push(tx, &[PushOp::DropOutboxThrough(newest.seq)], now))
        .unwrap();
    assert!(book.store.read(store::outbox).unwrap().is_empty());
    let after = book.store.read(DeviceState::load).unwrap();
    assert_eq!(after.next_seq, loaded.next_seq);
    assert_eq!(after.clock.last(), loaded.clock.last());
    assert_eq!(after.audit_head, loaded.audit_head);
    let (next_seq, audit_seq, millis, counter) = book.store.read(row).unwrap();
    assert_eq!(u64::try_from(next_seq).unwrap(), loaded.next_seq);
    assert_eq!(u64::try_from(audit_seq).unwrap(), loaded.audit_seq);
    assert_eq!(
        Hlc {
            millis: u64::try_from(millis).unwrap(),
            counter: u32::try_from(counter).unwrap(),
        },
        loaded.clock.last()
    );

    // The next write numbers, stamps and chains after every earlier one.
    visit(&book, person, &time);
    let next = book.store.read(store::outbox).unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].seq, loaded.next_seq);
    assert!(next[0].version.hlc > newest.version.hlc);
    assert_eq!(book.store.read(audit_verify).unwrap(), loaded.audit_seq + 1);
}

#[test]
fn removing_the_newest_events_and_writing_on_leaves_the_gap_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    visit(&book, person, &time);
    visit(&book, person, &time);
    let end = book.store.read(audit_verify).unwrap();
    book.store
        .write(|tx| {
            // The newest event is held in its write's outbox entry: it goes, the entry stays.
            let removed = tx.execute(
                "UPDATE outbox SET event_seq = NULL WHERE event_seq = ?1",
                [end],
            )?;
            assert_eq!(removed, 1);
            Ok(())
        })
        .unwrap();
    // The next write chains on from the head the outbox remembers, not from the table.
    visit(&book, person, &time);
    assert!(matches!(
        book.store.read(audit_verify),
        Err(crate::Error::AuditChainBroken { seq, .. }) if seq == end
    ));
}
