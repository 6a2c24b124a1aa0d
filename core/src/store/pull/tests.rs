//! A pulled record written from the text the server sent is the row the same record read into
//! maps makes; what does not read that way takes the maps' way, as before.

use pocketbook_protocol::merge::RecordState;
use pocketbook_protocol::{Hlc, Version};
use rusqlite::Connection;
use serde_json::{json, Map, Value};

use super::*;
use crate::sync::pulled_page::{PulledEntry, SentState};
use crate::test_support::{device, young_person, TEAM};

fn v(millis: u64) -> Version {
    Version {
        hlc: Hlc { millis, counter: 0 },
        node: Uuid::from_u128(5),
    }
}

/// A visit's fields of `person`, as a server would store them.
fn visit_fields(person: Uuid) -> Map<String, Value> {
    let fields = json!({
        "team_id": TEAM, "created_by": Uuid::from_u128(1),
        "created_at": "2026-11-30T09:00:00Z", "marking": "OFFICIAL",
        "review_due": "2032-11-30", "kind": "welfare_check", "prompted_by": "school",
        "young_person_ids": [person], "officer_ids": [], "start": "2026-11-30T08:00:00Z",
        "end": "2026-11-30T08:30:00Z", "place": "Home", "location": null, "present": [],
        "outcome": "advice_given", "support_given": ["food"], "signposted_to": [],
        "narrative": "Seen at home", "follow_up": null, "from_a_newer_app": {"kept": true},
    });
    fields.as_object().cloned().unwrap_or_default()
}

/// A snapshot's state as a server that sends the common version once sends it.
fn sent(fields: &Map<String, Value>, common: Version, listed: Value) -> SentState {
    sent_text(&serde_json::to_string(fields).unwrap(), common, listed)
}

/// The same, its fields exactly the text `fields` (as the server wrote them).
fn sent_text(fields: &str, common: Version, listed: Value) -> SentState {
    let entry = format!(
        r#"{{"type":"snapshot","bucket":"team:x","entity":"visit","id":"{}","fields":{fields},
            "version":{},"versions":{listed},"deleted":false}}"#,
        Uuid::nil(),
        serde_json::to_string(&common).unwrap(),
    );
    match serde_json::from_str(&entry) {
        Ok(PulledEntry::Snapshot(snapshot)) => snapshot.state,
        other => panic!("{other:?}"),
    }
}

/// The text of a record's fields as stored.
fn data(conn: &Connection, id: Uuid) -> String {
    conn.query_row(
        "SELECT data FROM records WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )
    .unwrap()
}

/// What the store reads of a record's row: team, marking, time, fields, every field's version.
type Row = (String, String, String, Value, Vec<(String, Version)>);

fn row(conn: &Connection, id: Uuid) -> Row {
    let (team, marking, happened, data, versions): (String, String, String, String, String) = conn
        .query_row(
            "SELECT team_id, marking, happened_at, data, versions FROM records WHERE id = ?1",
            [id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let data: Map<String, Value> = serde_json::from_str(&data).unwrap();
    let versions = versions::decode(&versions, data.keys()).unwrap();
    (
        team,
        marking,
        happened,
        Value::Object(data),
        versions.into_iter().collect(),
    )
}

fn people(conn: &Connection, id: Uuid) -> Vec<String> {
    conn.prepare("SELECT young_person_id FROM record_people WHERE record_id = ?1")
        .unwrap()
        .query_map([id.to_string()], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn a_record_written_as_sent_is_the_row_the_same_record_read_into_maps_makes() {
    let dir = tempfile::tempdir().unwrap();
    let (book, _) = device(&dir);
    let person = young_person(&book);
    let fields = visit_fields(person);
    let (as_sent, as_maps) = (Uuid::from_u128(0xa), Uuid::from_u128(0xb));
    // Not as serde_json would write it (spaces and new lines, a character escaped): the row
    // keeps this text only if it was written from it.
    let text = serde_json::to_string_pretty(&fields)
        .unwrap()
        .replace("Seen at home", "Seen at h\\u006fme");
    let listed = json!({"narrative": v(9), "deleted": v(3)});
    let state = sent_text(&text, v(7), listed);
    book.store
        .write(|tx| {
            let mapped = state.clone().into_state()?;
            assert!(matches!(
                write_view(
                    tx,
                    &Entity::Visit,
                    as_sent,
                    View::Sent(state),
                    Links::Indexed
                )?,
                Written::Stored
            ));
            assert!(matches!(
                write_state(tx, &Entity::Visit, as_maps, mapped, Links::Indexed)?,
                Written::Stored
            ));
            assert_eq!(data(tx, as_sent), text, "stored as sent");
            assert_ne!(data(tx, as_maps), text);
            let (sent_row, mapped_row) = (row(tx, as_sent), row(tx, as_maps));
            assert_eq!(sent_row, mapped_row);
            assert_eq!(sent_row.3["narrative"], json!("Seen at home"));
            assert_eq!(sent_row.0, TEAM.to_string());
            assert_eq!(sent_row.3["from_a_newer_app"], json!({"kept": true}));
            let narrative = sent_row.4.iter().find(|(f, _)| f == "narrative");
            assert_eq!(narrative.map(|(_, v)| *v), Some(v(9)));
            assert_eq!(people(tx, as_sent), [person.to_string()]);
            assert_eq!(people(tx, as_maps), [person.to_string()]);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_sent_record_that_does_not_read_as_its_kind_takes_the_maps_way() {
    let dir = tempfile::tempdir().unwrap();
    let (book, _) = device(&dir);
    let person = young_person(&book);
    // Its own id among its fields: read into maps, the record's id wins, as before.
    let mut with_id = visit_fields(person);
    with_id.insert("id".into(), json!(Uuid::from_u128(0xbad)));
    // No narrative: not a visit this build can read; held raw.
    let mut unreadable = visit_fields(person);
    unreadable.remove("narrative");
    let (first, second) = (Uuid::from_u128(0xc), Uuid::from_u128(0xd));
    book.store
        .write(|tx| {
            let state = sent(&with_id, v(7), json!({}));
            let written = write_view(tx, &Entity::Visit, first, View::Sent(state), Links::Indexed)?;
            assert!(matches!(written, Written::Stored));
            assert_eq!(row(tx, first).0, TEAM.to_string());

            let state = sent(&unreadable, v(7), json!({}));
            let Written::Unreadable(RecordState {
                fields, versions, ..
            }) = write_view(
                tx,
                &Entity::Visit,
                second,
                View::Sent(state),
                Links::Indexed,
            )?
            else {
                panic!("stored a visit without its narrative")
            };
            assert_eq!(fields, unreadable);
            assert!(fields.keys().all(|f| versions.get(f) == Some(&v(7))));
            let held: i64 = tx.query_row(
                "SELECT count(*) FROM records WHERE id = ?1",
                [second.to_string()],
                |r| r.get(0),
            )?;
            assert_eq!(held, 0, "nothing half-written");
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_record_s_id_is_laid_in_front_of_any_object_s_members() {
    let id = Uuid::from_u128(1);
    let front = format!(r#"{{"id":"{id}""#);
    assert_eq!(with_id(id, "{}"), Some(format!("{front}}}")));
    assert_eq!(with_id(id, "{ \n }"), Some(format!("{front} \n }}")));
    assert_eq!(
        with_id(id, r#"{"a":1}"#),
        Some(format!(r#"{front},"a":1}}"#))
    );
    assert_eq!(with_id(id, "[1]"), None);
}
