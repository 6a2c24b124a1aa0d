//! A record whose `remove` arrives while an edit of it is still pending (issue 11, item 3):
//! kept until that edit is answered, then dropped — and a refusal of it keeps only its code
//! and record id, not its content.

use super::*;

fn removed(id: Uuid) -> PullEntry {
    PullEntry::Remove {
        bucket: "team".into(),
        entity: Entity::Visit,
        id,
    }
}

/// A device holding a colleague's visit (from the server) with its own edit of it pending.
fn with_pending_edit() -> (Device, Uuid) {
    let d = device();
    let p = person(&d.book);
    answer(&d.book, |_| None, None);
    let id = Uuid::from_u128(0xf00d);
    pull(
        &d.book,
        vec![snapshot(Entity::Visit, id, visit_fields(p, "theirs"), 10)],
    );
    d.book.update_visit(id, narrate("my secret edit")).unwrap();
    (d, id)
}

#[test]
fn a_removed_record_stays_while_its_edit_is_pending_and_goes_once_it_is_applied() {
    let (d, id) = with_pending_edit();
    pull(&d.book, vec![removed(id)]);
    assert_eq!(
        d.book.visit(id).unwrap().narrative,
        "my secret edit",
        "kept while the edit waits"
    );
    answer(&d.book, |_| None, None);
    assert!(matches!(
        d.book.visit(id),
        Err(crate::Error::NotFound { .. })
    ));
    let rows: i64 = raw(&d.path, "SELECT count(*) FROM records WHERE id = ?1", id);
    assert_eq!(rows, 0, "no row, no tombstone");
    let marks: i64 = raw(
        &d.path,
        "SELECT count(*) FROM left_scope WHERE record_id = ?1",
        id,
    );
    assert_eq!(marks, 0);
}

#[test]
fn a_refused_edit_of_a_removed_record_keeps_only_the_refusals_code_and_id() {
    let (d, id) = with_pending_edit();
    pull(&d.book, vec![removed(id)]);
    answer(&d.book, |_| Some(refused(RejectCode::Forbidden)), None);
    assert!(matches!(
        d.book.visit(id),
        Err(crate::Error::NotFound { .. })
    ));
    let [refusal] = refusals(&d.book, false).try_into().unwrap();
    assert_eq!(refusal.record_id, id);
    assert_eq!(refusal.code, "forbidden");
    assert!(refusal.fields.is_empty(), "the refused content is gone");
    let content: i64 = raw(
        &d.path,
        "SELECT count(*) FROM rejected WHERE record_id = ?1 AND mutation IS NOT NULL",
        id,
    );
    assert_eq!(content, 0);
}

#[test]
fn a_record_back_in_scope_before_its_edit_is_answered_stays() {
    let (d, id) = with_pending_edit();
    pull(&d.book, vec![removed(id)]);
    let p = d.book.visit(id).unwrap().young_person_ids[0];
    pull(
        &d.book,
        vec![snapshot(Entity::Visit, id, visit_fields(p, "theirs"), 20)],
    );
    answer(&d.book, |_| None, None);
    assert_eq!(d.book.visit(id).unwrap().narrative, "my secret edit");
}

fn raw(path: &std::path::Path, sql: &str, id: Uuid) -> i64 {
    let conn = store::open_connection(path, &StoreKey::from_bytes(&[7u8; 32]).unwrap()).unwrap();
    conn.query_row(sql, [id.to_string()], |r| r.get(0)).unwrap()
}
