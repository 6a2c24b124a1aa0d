//! A pull never stalls on a record, and what a device does not understand survives its edits:
//! records a newer app (or a broken one) left on a real server — written straight into the
//! server's SQLite file, since a guarded server would refuse them at push — are pulled by a
//! device over real HTTP. Undecodable ones are held raw and listed, the rest applies; a version
//! from a year ahead applies without dragging the device's clock; keys and set elements the
//! device does not know come back unchanged from its edits.

use std::str::FromStr;

use pocketbook_core::model::{SupportGiven, VisitFilter, VisitUpdate};
use pocketbook_protocol::{Role, Version};
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{person_draft, visit_draft};
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The server's stored fields of a record.
fn server_fields(server: &TestServer, id: Uuid) -> Map<String, Value> {
    let db = rusqlite::Connection::open(server.dir().join("server.db")).unwrap();
    let text: String = db
        .query_row(
            "SELECT fields FROM records WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Rewrites a record in the server's file, as a newer (or broken) app's push would have left it.
fn tamper(server: &TestServer, id: Uuid, sql: &str, value: String) {
    let db = rusqlite::Connection::open(server.dir().join("server.db")).unwrap();
    let n = db
        .execute(sql, rusqlite::params![id.to_string(), value])
        .unwrap();
    assert_eq!(n, 1);
}

fn set_fields(server: &TestServer, id: Uuid, fields: &Map<String, Value>) {
    tamper(
        server,
        id,
        "UPDATE records SET fields = ?2 WHERE id = ?1",
        serde_json::to_string(fields).unwrap(),
    );
}

/// Alice's device with one child and `n` visits, synced; and Bob's, in the same team, not yet.
async fn two_officers(server: &TestServer, n: usize) -> (TestDevice, TestDevice, Vec<Uuid>) {
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = a.book.add_young_person(draft).unwrap().id;
    let visits = (0..n)
        .map(|i| {
            a.book
                .record_visit(visit_draft(child, i64::try_from(i).unwrap() + 1))
                .unwrap()
                .id
        })
        .collect();
    a.book.sync().await.unwrap();
    (a, b, visits)
}

#[tokio::test(flavor = "multi_thread")]
async fn records_a_device_cannot_read_are_held_listed_and_the_pull_moves_on() {
    let server = TestServer::start().await;
    let (_a, b, visits) = two_officers(&server, 3).await;
    let (wrong_shape, unknown_kind, fine) = (visits[0], visits[1], visits[2]);
    let mut fields = server_fields(&server, wrong_shape);
    fields.insert("start".into(), json!(42));
    set_fields(&server, wrong_shape, &fields);
    tamper(
        &server,
        unknown_kind,
        "UPDATE records SET entity = ?2 WHERE id = ?1",
        "homework".into(),
    );
    tamper(
        &server,
        unknown_kind,
        "UPDATE bucket_entries SET entity = ?2 WHERE item = ?1",
        "homework".into(),
    );

    let report = b.book.sync().await.expect("the pull does not stall");
    assert_eq!(report.unreadable, 2);
    let shown: Vec<Uuid> = b
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(shown, [fine]);
    let mut held: Vec<(Uuid, String)> = b
        .book
        .unreadable_records()
        .unwrap()
        .into_iter()
        .map(|h| (h.id, h.entity))
        .collect();
    held.sort();
    let mut expected = vec![
        (wrong_shape, "visit".to_string()),
        (unknown_kind, "homework".to_string()),
    ];
    expected.sort();
    assert_eq!(held, expected);

    // The cursor moved on: the next sync has nothing more, and the device still works.
    let again = b.book.sync().await.unwrap();
    assert_eq!((again.pulled, again.unreadable), (0, 0));
    let child = b.book.find_young_people("").unwrap()[0].id;
    b.book.record_visit(visit_draft(child, 1)).unwrap();
    let pushed = b.book.sync().await.unwrap();
    assert_eq!((pushed.pushed, pushed.rejected), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_from_a_year_ahead_applies_but_never_stops_the_device_writing() {
    let server = TestServer::start().await;
    let (_a, b, visits) = two_officers(&server, 1).await;
    let db = rusqlite::Connection::open(server.dir().join("server.db")).unwrap();
    let text: String = db
        .query_row(
            "SELECT versions FROM records WHERE id = ?1",
            [visits[0].to_string()],
            |r| r.get(0),
        )
        .unwrap();
    let year_ms = 365 * 24 * 3_600 * 1_000;
    let versions: Map<String, Value> = serde_json::from_str::<Map<String, Value>>(&text)
        .unwrap()
        .into_iter()
        .map(|(k, v)| {
            let mut version = Version::from_str(v.as_str().unwrap()).unwrap();
            version.hlc.millis += year_ms;
            (k, json!(version.to_string()))
        })
        .collect();
    tamper(
        &server,
        visits[0],
        "UPDATE records SET versions = ?2 WHERE id = ?1",
        serde_json::to_string(&versions).unwrap(),
    );
    drop(db);

    b.book.sync().await.expect("the pull does not fail");
    assert!(b.book.visit(visits[0]).is_ok(), "the record itself applies");
    let child = b.book.find_young_people("").unwrap()[0].id;
    let next = b.book.record_visit(visit_draft(child, 1)).unwrap();
    let stamped = b
        .book
        .field_versions(pocketbook_core::Entity::Visit, next.id)
        .unwrap()["narrative"];
    let now = pocketbook_protocol::unix_millis(chrono::Utc::now());
    assert!(
        stamped.hlc.millis <= now + pocketbook_protocol::wire::MAX_CLOCK_SKEW_MS,
        "the device clock was not dragged a year ahead"
    );
    let report = b.book.sync().await.expect("the device still syncs");
    assert_eq!((report.pushed, report.rejected), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_and_set_elements_a_device_does_not_know_survive_its_edits() {
    let server = TestServer::start().await;
    let (_a, b, visits) = two_officers(&server, 1).await;
    let visit = visits[0];
    let mut fields = server_fields(&server, visit);
    fields.insert("weather".into(), json!({"sky": "rain"}));
    fields
        .get_mut("support_given")
        .and_then(Value::as_array_mut)
        .unwrap()
        .push(json!("hot_meal"));
    set_fields(&server, visit, &fields);
    b.book.sync().await.unwrap();

    let mut support = b.book.visit(visit).unwrap().support_given;
    support.push(SupportGiven::SafetyAdvice);
    b.book
        .update_visit(
            visit,
            VisitUpdate {
                narrative: Some("Seen again; all well".into()),
                support_given: Some(support),
                ..VisitUpdate::default()
            },
        )
        .unwrap();
    let pending = b.book.pending_changes().unwrap();
    assert_eq!(pending.len(), 1);
    let edit = &pending[0];
    assert!(!edit.fields.contains_key("weather"), "not sent as a change");
    let delta = &edit.sets["support_given"];
    assert!(delta.removed.is_empty(), "no element it did not understand");
    assert_eq!(delta.added, [json!("safety_advice")]);

    // This server does not know `weather` or `hot_meal` either (a newer app's, written straight
    // into its file): the guard answers `server_too_old`, and the device holds the edit in its
    // view and its outbox instead of losing it, to resend once the server is upgraded.
    let report = b.book.sync().await.unwrap();
    assert_eq!((report.held, report.rejected), (1, 0));
    let status = b.book.sync_status().unwrap();
    assert_eq!(status.waiting_for_server.len(), 1);
    assert!(status.rejected.is_empty(), "not the officer's fault to fix");
    let shown = b.book.visit(visit).unwrap();
    assert_eq!(shown.narrative, "Seen again; all well");
    assert!(shown.support_given.contains(&SupportGiven::SafetyAdvice));
    let after = server_fields(&server, visit);
    assert_eq!(
        after["weather"],
        json!({"sky": "rain"}),
        "the stored record is untouched"
    );
    assert!(after["support_given"]
        .as_array()
        .unwrap()
        .contains(&json!("hot_meal")));
    assert_ne!(after["narrative"], json!("Seen again; all well"));
}
