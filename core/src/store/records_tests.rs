//! A creation's outbox entry on a real store: its fields are kept once (in the record's row)
//! while the row is as the creation wrote it, and whatever changes or removes the row — an edit,
//! a deletion, the sync writing the server's copy, a record leaving scope — leaves the entry
//! saying exactly what was created (schema migration 21).

use rusqlite::Connection;
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::{Mutation, MutationKind};

use crate::model::VisitUpdate;
use crate::store::{self};
use crate::test_support::{device, visit, young_person};

/// What the outbox table itself holds as the fields of `id`'s creation.
fn stored_fields(conn: &Connection, id: Uuid) -> crate::Result<String> {
    Ok(conn.query_row(
        "SELECT fields FROM outbox WHERE record_id = ?1 AND kind = 'create'",
        [id.to_string()],
        |r| r.get(0),
    )?)
}

/// The record's row as stored.
fn row_data(conn: &Connection, id: Uuid) -> crate::Result<Map<String, Value>> {
    let text: String = conn.query_row(
        "SELECT data FROM records WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )?;
    serde_json::from_str(&text).map_err(|_| crate::Error::Corrupt { what: "test row" })
}

/// The creation of `id` as the push would send it.
fn creation(book: &crate::Pocketbook, id: Uuid) -> Mutation {
    let all = book.store.read(store::outbox).unwrap();
    let found: Vec<_> = all
        .into_iter()
        .filter(|m| m.record_id == id && m.kind == MutationKind::Create)
        .collect();
    assert_eq!(found.len(), 1, "one creation entry");
    found.into_iter().next().unwrap()
}

/// Edits the visit's place, as an officer would.
fn set_place(book: &crate::Pocketbook, id: Uuid, place: &str) {
    book.update_visit(
        id,
        VisitUpdate {
            place: Some(place.into()),
            ..VisitUpdate::default()
        },
    )
    .unwrap();
}

fn fields(m: &Mutation) -> Map<String, Value> {
    m.fields.clone().into_iter().collect()
}

#[test]
fn a_creation_keeps_its_fields_in_the_row_only_and_is_sent_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let id = visit(&book, person, &time);
    assert_eq!(book.store.read(|c| stored_fields(c, id)).unwrap(), "");
    let sent = creation(&book, id);
    assert_eq!(fields(&sent), book.store.read(|c| row_data(c, id)).unwrap());
    assert_eq!(
        sent.fields.get("place"),
        Some(&Value::String("Home".into())),
        "the visit's own fields"
    );
}

#[test]
fn an_edit_before_the_sync_leaves_the_creation_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let id = visit(&book, person, &time);
    let created = creation(&book, id);
    set_place(&book, id, "School office");
    // The entry now holds the creation's fields itself; the row has moved on.
    let kept = book.store.read(|c| stored_fields(c, id)).unwrap();
    assert_ne!(kept, "");
    assert_eq!(creation(&book, id), created);
    let row = book.store.read(|c| row_data(c, id)).unwrap();
    assert_eq!(
        row.get("place"),
        Some(&Value::String("School office".into()))
    );
    let edit = book.store.read(store::outbox).unwrap().pop().unwrap();
    assert_eq!(edit.kind, MutationKind::Update);
    assert_eq!(edit.fields.keys().collect::<Vec<_>>(), ["place"]);
    // A second edit leaves the kept fields alone.
    set_place(&book, id, "Library");
    assert_eq!(book.store.read(|c| stored_fields(c, id)).unwrap(), kept);
    assert_eq!(creation(&book, id), created);
}

#[test]
fn a_deletion_before_the_sync_leaves_the_creation_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let id = visit(&book, person, &time);
    let created = creation(&book, id);
    book.delete_visit(id, "recorded against the wrong child")
        .unwrap();
    assert_eq!(creation(&book, id), created);
    let row = book.store.read(|c| row_data(c, id)).unwrap();
    assert!(
        !row.contains_key("place"),
        "the tombstone erased the content"
    );
}

#[test]
fn any_write_to_the_row_or_its_removal_leaves_the_creation_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let [first, second] = [visit(&book, person, &time), visit(&book, person, &time)];
    let created = [creation(&book, first), creation(&book, second)];
    // As the sync writes the server's copy over a row (an acknowledgement that was lost), and
    // as a record that left scope is removed: straight on the table, whatever the caller.
    book.store
        .write(|tx| {
            tx.execute(
                "UPDATE records SET data = '{\"place\":\"server\"}' WHERE id = ?1",
                [first.to_string()],
            )?;
            tx.execute("DELETE FROM records WHERE id = ?1", [second.to_string()])?;
            Ok(())
        })
        .unwrap();
    assert_eq!(creation(&book, first), created[0]);
    assert_eq!(creation(&book, second), created[1]);
    // Writing other columns does not copy anything.
    let third = visit(&book, person, &time);
    book.store
        .write(|tx| {
            tx.execute(
                "UPDATE records SET versions = versions WHERE id = ?1",
                [third.to_string()],
            )?;
            Ok(())
        })
        .unwrap();
    assert_eq!(book.store.read(|c| stored_fields(c, third)).unwrap(), "");
}

#[test]
fn an_entry_pointing_at_a_missing_row_is_reported_as_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let id = visit(&book, person, &time);
    book.store
        .write(|tx| {
            tx.execute_batch("DROP TRIGGER records_delete_keeps_pending_creation")?;
            tx.execute("DELETE FROM records WHERE id = ?1", [id.to_string()])?;
            Ok(())
        })
        .unwrap();
    assert!(matches!(
        book.store.read(store::outbox),
        Err(crate::Error::Corrupt { .. })
    ));
}

/// Whether the row of `id` is marked as what its creation's entry points at.
fn marked(conn: &Connection, id: Uuid) -> crate::Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT pending_creation FROM records WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )?)
}

#[test]
fn the_row_is_marked_until_its_creation_entry_goes() {
    let dir = tempfile::tempdir().unwrap();
    let (book, time) = device(&dir);
    let person = young_person(&book);
    let id = visit(&book, person, &time);
    assert_eq!(book.store.read(|c| marked(c, id)).unwrap(), Some(1));
    set_place(&book, id, "School office");
    assert_eq!(book.store.read(|c| marked(c, id)).unwrap(), Some(1));
    // The entries go, as an acknowledgement drops them: the mark goes with the creation's.
    book.store
        .write(|tx| {
            tx.execute("DELETE FROM outbox", [])?;
            Ok(())
        })
        .unwrap();
    assert_eq!(book.store.read(|c| marked(c, id)).unwrap(), None);
}

#[test]
fn upgrading_marks_the_rows_pending_creations_point_at() {
    use crate::store::schema;
    let mut conn = Connection::open_in_memory().unwrap();
    schema::migrate_to(&mut conn, 21).unwrap();
    conn.execute_batch(
        r#"INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data, versions)
           VALUES ('v1', 'visit', 't', 'OFFICIAL', '2026-01-02', 0, '{"place":"a"}', '{}'),
                  ('v2', 'visit', 't', 'OFFICIAL', '2026-01-02', 0, '{"place":"b"}', '{}');
           INSERT INTO outbox (seq, entity, record_id, kind, team_id, marking, fields, base,
                               version)
           VALUES (1, 'visit', 'v1', 'create', 't', 'OFFICIAL', '', '{}', 'x'),
                  (2, 'visit', 'v2', 'create', 't', 'OFFICIAL', '{"place":"b"}', '{}', 'x');"#,
    )
    .unwrap();
    schema::migrate_to(&mut conn, 22).unwrap();
    let mark = |id: &str| {
        conn.query_row(
            "SELECT pending_creation FROM records WHERE id = ?1",
            [id],
            |r| r.get::<_, Option<i64>>(0),
        )
        .unwrap()
    };
    assert_eq!([mark("v1"), mark("v2")], [Some(1), None]);
    conn.execute("UPDATE records SET data = '{}' WHERE id = 'v1'", [])
        .unwrap();
    let kept: String = conn
        .query_row("SELECT fields FROM outbox WHERE seq = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, r#"{"place":"a"}"#);
}
