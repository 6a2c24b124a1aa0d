//! A device after a refusal, against a real server over real HTTP: the refused edit leaves the
//! record (which shows the server's state with the officer's other pending work over it), is
//! kept with its content in `sync_status`, and can be corrected and resubmitted as a new
//! change with the next sequence number, or discarded.

use std::collections::BTreeMap;

use pocketbook_core::model::{VisitFilter, VisitUpdate};
use pocketbook_protocol::Role;
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{person_draft, visit_draft};
use serde_json::json;

fn narrate(text: &str) -> VisitUpdate {
    VisitUpdate {
        narrative: Some(text.into()),
        ..VisitUpdate::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_edit_falls_back_to_the_servers_state_and_can_be_resubmitted_or_discarded() {
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
    let visit = a.book.record_visit(visit_draft(child, 2)).unwrap();
    let other = a.book.record_visit(visit_draft(child, 3)).unwrap();
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();

    // Offline, Bob edits both visits; meanwhile the first becomes sensitive on the server
    // (Alice's, so Bob, an officer, may no longer change it).
    b.book
        .update_visit(visit.id, narrate("Bob's account"))
        .unwrap();
    b.book
        .update_visit(other.id, narrate("Bob's note"))
        .unwrap();
    let db = rusqlite::Connection::open(server.dir().join("server.db")).unwrap();
    db.execute(
        "UPDATE records SET marking = 'OFFICIAL-SENSITIVE' WHERE id = ?1",
        [visit.id.to_string()],
    )
    .unwrap();
    drop(db);

    let report = b.book.sync().await.unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 1));
    assert_eq!(
        b.book.visit(visit.id).unwrap().narrative,
        visit.narrative,
        "the refused edit left the record"
    );
    assert_eq!(b.book.visit(other.id).unwrap().narrative, "Bob's note");
    let status = b.book.sync_status().unwrap();
    assert_eq!(status.pending, 0);
    assert!(status.waiting_for_server.is_empty());
    assert_eq!(status.rejected.len(), 1);
    let refusal = &status.rejected[0];
    assert_eq!(refusal.record_id, visit.id);
    assert_eq!(refusal.code, "forbidden");
    assert_eq!(refusal.fields["narrative"], json!("Bob's account"));

    // Corrected and resubmitted: a new change with the next seq (the server, refusing again,
    // sees no gap); then discarded, leaving the server's state.
    let last_seq = refusal.seq + 1;
    b.book
        .resubmit_refused(
            refusal.seq,
            BTreeMap::from([("narrative".to_string(), json!("Bob's corrected account"))]),
        )
        .unwrap();
    let pending = b.book.pending_changes().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].seq, last_seq + 1);
    assert_eq!(
        b.book.visit(visit.id).unwrap().narrative,
        "Bob's corrected account"
    );
    let again = b.book.sync().await.unwrap();
    assert_eq!(again.rejected, 1);
    let status = b.book.sync_status().unwrap();
    assert_eq!(status.rejected.len(), 1);
    b.book.discard_refused(status.rejected[0].seq).unwrap();
    assert!(b.book.sync_status().unwrap().rejected.is_empty());
    assert_eq!(b.book.visit(visit.id).unwrap().narrative, visit.narrative);
    assert_eq!(b.book.visits(&VisitFilter::default()).unwrap().len(), 2);
    assert_eq!(server.store.quarantine().await.unwrap().len(), 2);
}
