//! A record whose `remove` arrives while an edit of it is still pending (issue 11, item 3,
//! the device's part), against the real server. A colleague's concern leaves an officer's
//! sight when its marking is raised to OFFICIAL-SENSITIVE; the officer triages it while their
//! sync is between pull pages, so the page bringing the `remove` meets a pending edit. The
//! device keeps the concern only until that edit is answered, then drops it — and the refusal
//! it may get keeps its code and record id, not what it said. (Before, it stayed on the phone
//! for ever.) The remove entry is read from the raw pull body.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use pocketbook_core::model::{ConcernStatus, ConcernTriageUpdate, Marking, VisitDraft};
use pocketbook_core::{Error, SyncPhase};
use pocketbook_protocol::wire::{PullRequest, PROTOCOL_HEADER};
use pocketbook_protocol::{Role, PROTOCOL_VERSION};
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{concern_draft, http_client, person_draft, raw_connection, visit_draft};
use serde_json::Value;
use uuid::Uuid;

/// Every entry the server has for the device after `cursors`, read raw, page by page.
async fn raw_entries(
    server: &TestServer,
    device: &TestDevice,
    cursors: BTreeMap<String, u64>,
) -> Vec<Value> {
    let (token, epoch): (String, Option<String>) = raw_connection(&device.path)
        .query_row("SELECT token, epoch FROM sync_state", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let client = http_client();
    let mut request = PullRequest {
        epoch,
        cursors,
        limit: Some(1_000),
        reference: false,
        common_version: false,
    };
    let mut entries = Vec::new();
    loop {
        let page: Value = client
            .post(format!("{}/v1/sync/pull", server.url))
            .bearer_auth(&token)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&request)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        entries.extend(page["entries"].as_array().unwrap().iter().cloned());
        if page["remaining"].as_u64().unwrap() == 0 {
            return entries;
        }
        request.cursors = serde_json::from_value(page["cursors"].clone()).unwrap();
    }
}

fn cursors(device: &TestDevice) -> BTreeMap<String, u64> {
    let conn = raw_connection(&device.path);
    let mut stmt = conn.prepare("SELECT bucket, cursor FROM cursors").unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .unwrap();
    rows.map(|r| {
        let (b, c) = r.unwrap();
        (b, u64::try_from(c).unwrap())
    })
    .collect()
}

fn count(device: &TestDevice, sql: &str, id: Uuid) -> i64 {
    raw_connection(&device.path)
        .query_row(sql, [id.to_string()], |r| r.get(0))
        .unwrap()
}

/// A visit whose narrative is long, so a few dozen fill a pull page.
fn long_visit(child: Uuid, i: usize) -> VisitDraft {
    let mut draft = visit_draft(child, 2 + i64::try_from(i % 48).unwrap());
    draft.narrative = format!("{i} ").repeat(19_000 / (format!("{i} ").len()));
    draft
}

#[tokio::test(flavor = "multi_thread")]
async fn a_concern_removed_while_its_triage_is_pending_goes_once_the_edit_is_answered() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;

    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = a.book.add_young_person(draft).unwrap().id;
    let mut concern = concern_draft(child, 3);
    concern.assigned_lead = None;
    concern.marking = Some(Marking::Official);
    let concern = a.book.raise_concern(concern).unwrap().id;
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    assert!(
        b.book.concern(concern).is_ok(),
        "Bob sees the team's concern"
    );
    let before = cursors(&b);

    // More than one pull page of team records, then the concern leaves the team bucket.
    for i in 0..120 {
        a.book.record_visit(long_visit(child, i)).unwrap();
    }
    a.book.sync().await.unwrap();
    a.book
        .update_concern_triage(
            concern,
            ConcernTriageUpdate {
                marking: Some(Marking::OfficialSensitive),
                note: Some("Raised".into()),
                ..ConcernTriageUpdate::default()
            },
        )
        .unwrap();
    a.book.sync().await.unwrap();

    let removes: Vec<Value> = raw_entries(&server, &b, before)
        .await
        .into_iter()
        .filter(|e| e["id"] == concern.to_string())
        .collect();
    assert_eq!(removes.len(), 1, "{removes:?}");
    assert_eq!(removes[0]["type"], "remove");

    // Bob triages the concern while his sync is between pages: the page with the remove
    // meets his pending edit.
    let edited = AtomicBool::new(false);
    let report = b
        .book
        .sync_with_progress(|p| {
            if p.phase == SyncPhase::Pull && p.done > 0 && !edited.swap(true, Ordering::SeqCst) {
                b.book
                    .update_concern_triage(
                        concern,
                        ConcernTriageUpdate {
                            status: Some(ConcernStatus::Open),
                            ..ConcernTriageUpdate::default()
                        },
                    )
                    .unwrap();
            }
        })
        .await
        .unwrap();
    assert!(
        edited.load(Ordering::SeqCst),
        "the sync had more than one page"
    );
    assert_eq!(report.removed, 1);
    assert_eq!(
        b.book.concern(concern).unwrap().status,
        ConcernStatus::Open,
        "kept while the edit waits"
    );
    assert_eq!(
        count(
            &b,
            "SELECT count(*) FROM left_scope WHERE record_id = ?1",
            concern
        ),
        1
    );

    // The next sync pushes the edit; whatever the answer, the concern goes.
    b.book.sync().await.unwrap();
    assert!(matches!(
        b.book.concern(concern),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        count(&b, "SELECT count(*) FROM records WHERE id = ?1", concern),
        0
    );
    assert_eq!(
        count(
            &b,
            "SELECT count(*) FROM left_scope WHERE record_id = ?1",
            concern
        ),
        0
    );
    for refusal in b.book.sync_status().unwrap().rejected {
        assert_eq!(refusal.record_id, concern);
        assert!(refusal.fields.is_empty(), "no refused content kept");
    }
    assert_eq!(
        count(
            &b,
            "SELECT count(*) FROM rejected WHERE record_id = ?1 AND mutation IS NOT NULL",
            concern
        ),
        0
    );
    // And later syncs leave it gone.
    b.book.sync().await.unwrap();
    assert!(b.book.concern(concern).is_err());
}
