//! Devices against a real server on 127.0.0.1: enrolment, offline edits converging, conflicts,
//! team and sensitivity scope, revocation.

use pocketbook_core::model::{ConcernTriageUpdate, Marking, VisitFilter, VisitUpdate};
use pocketbook_core::{ConflictChoice, Error, Pocketbook};
use pocketbook_protocol::Role;
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{concern_draft, person_draft, visit_draft};
use uuid::Uuid;

/// A concern with no lead (the fixture's lead is not one of this server's officers).
fn concern(child: Uuid) -> pocketbook_core::model::ConcernDraft {
    let mut draft = concern_draft(child, 2);
    draft.assigned_lead = None;
    draft
}

fn add_person(book: &Pocketbook, school: Uuid) -> Uuid {
    let mut draft = person_draft();
    draft.establishment_id = Some(school);
    book.add_young_person(draft).unwrap().id
}

#[tokio::test(flavor = "multi_thread")]
async fn enrolment_installs_the_officer_and_keeps_the_token_in_the_store() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let device = TestDevice::new();
    let code = server.code(alice.id).await;
    let session = device
        .book
        .enroll(&server.url, &code.to_lowercase())
        .await
        .unwrap();
    assert_eq!(session.officer.id, alice.id);
    assert_eq!(session.server_url.as_deref(), Some(server.url.as_str()));
    assert_eq!(device.book.establishments().unwrap().len(), 1);
    // A code works once.
    let again = TestDevice::new();
    assert!(matches!(
        again.book.enroll(&server.url, &code).await,
        Err(Error::Forbidden { .. })
    ));
    // The token is inside the encrypted file, never in clear.
    let token: String = pocketbook_tests::raw_connection(&device.path)
        .query_row("SELECT token FROM sync_state", [], |r| r.get(0))
        .unwrap();
    assert_eq!(token.len(), 64, "256 bits, hex");
    for suffix in ["", "-wal"] {
        let mut name = device.path.as_os_str().to_owned();
        name.push(suffix);
        let raw = std::fs::read(&name).unwrap_or_default();
        assert!(
            !raw.windows(64).any(|w| w == token.as_bytes()),
            "token in clear in {name:?}"
        );
    }
    let devices = server.store.devices().await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_id, device.book.device_id().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_officers_record_offline_and_converge() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;

    let child = add_person(&a.book, server.school);
    let visit = a.book.record_visit(visit_draft(child, 3)).unwrap();
    let report = a.book.sync().await.unwrap();
    assert_eq!(report.pushed, 2);
    assert!(a.book.pending_changes().unwrap().is_empty());

    let report = b.book.sync().await.unwrap();
    assert_eq!(report.pulled, 2);
    assert_eq!(b.book.visit(visit.id).unwrap(), visit);
    assert_eq!(b.book.chronology(child, "handover").unwrap().len(), 1);

    // Both edit different fields offline, then sync in either order.
    b.book
        .update_visit(
            visit.id,
            VisitUpdate {
                narrative: Some("Bob's note".into()),
                ..Default::default()
            },
        )
        .unwrap();
    a.book
        .update_visit(
            visit.id,
            VisitUpdate {
                place: Some("School office".into()),
                ..Default::default()
            },
        )
        .unwrap();
    b.book.sync().await.unwrap();
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    let on_a = a.book.visit(visit.id).unwrap();
    assert_eq!(on_a, b.book.visit(visit.id).unwrap());
    assert_eq!(
        (on_a.narrative.as_str(), on_a.place.as_str()),
        ("Bob's note", "School office")
    );
    assert!(a.book.conflicts().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_field_edited_on_two_devices_makes_one_conflict() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;
    let child = add_person(&a.book, server.school);
    let visit = a.book.record_visit(visit_draft(child, 3)).unwrap();
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();

    let edit = |text: &str| VisitUpdate {
        narrative: Some(text.into()),
        ..Default::default()
    };
    a.book
        .update_visit(visit.id, edit("Alice's version"))
        .unwrap();
    b.book
        .update_visit(visit.id, edit("Bob's version"))
        .unwrap();
    a.book.sync().await.unwrap();
    let report = b.book.sync().await.unwrap();
    assert_eq!(report.merged, 1);
    a.book.sync().await.unwrap();

    for device in [&a, &b] {
        assert_eq!(
            device.book.visit(visit.id).unwrap().narrative,
            "Bob's version"
        );
        let conflicts = device.book.conflicts().unwrap();
        assert_eq!(conflicts.len(), 1, "exactly one conflict");
        assert_eq!(
            conflicts[0].losing_value,
            serde_json::json!("Alice's version")
        );
    }
    // Alice restores her text; it syncs as an ordinary edit.
    let id = a.book.conflicts().unwrap()[0].id.clone();
    a.book
        .resolve_conflict(&id, ConflictChoice::TakeLosing)
        .unwrap();
    assert!(a.book.conflicts().unwrap().is_empty());
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    assert_eq!(b.book.visit(visit.id).unwrap().narrative, "Alice's version");
}

#[tokio::test(flavor = "multi_thread")]
async fn team_b_never_receives_team_a_records() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let carol = server
        .officer("Carol", Role::Supervisor, &[server.team_b])
        .await;
    let a = server.device(alice.id).await;
    let c = server.device(carol.id).await;
    let child = add_person(&a.book, server.school);
    a.book.record_visit(visit_draft(child, 3)).unwrap();
    a.book.raise_concern(concern(child)).unwrap();
    a.book.sync().await.unwrap();
    let report = c.book.sync().await.unwrap();
    assert_eq!(report.pulled, 0);
    assert!(c.book.find_young_people("").unwrap().is_empty());
    assert!(c.book.visits(&VisitFilter::default()).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sensitive_concern_reaches_the_supervisor_not_a_peer_until_its_marking_is_lowered() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let sue = server
        .officer("Sue", Role::Supervisor, &[server.team_a])
        .await;
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;
    let s = server.device(sue.id).await;
    let child = add_person(&a.book, server.school);
    let concern = a.book.raise_concern(concern(child)).unwrap();
    assert_eq!(concern.meta.marking, Marking::OfficialSensitive);
    a.book.sync().await.unwrap();
    s.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    assert_eq!(s.book.concern(concern.id).unwrap().account, concern.account);
    assert!(
        b.book.concern(concern.id).is_err(),
        "a peer must not receive it"
    );
    // The author still has it after syncing.
    a.book.sync().await.unwrap();
    assert!(a.book.concern(concern.id).is_ok());

    let lower = ConcernTriageUpdate {
        marking: Some(Marking::Official),
        ..Default::default()
    };
    s.book.update_concern_triage(concern.id, lower).unwrap();
    s.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    assert_eq!(
        b.book.concern(concern.id).unwrap().meta.marking,
        Marking::Official
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_device_is_wiped_on_its_next_sync() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let a = server.device(alice.id).await;
    add_person(&a.book, server.school);
    a.book.sync().await.unwrap();
    assert!(server
        .store
        .revoke(a.book.device_id().unwrap())
        .await
        .unwrap());
    assert!(matches!(a.book.sync().await, Err(Error::DeviceRevoked)));
    let left: Vec<_> = std::fs::read_dir(a.dir.path()).unwrap().collect();
    assert!(left.is_empty(), "files left after revocation: {left:?}");
    assert!(matches!(
        a.book.find_young_people(""),
        Err(Error::DeviceRevoked)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_supervisors_triage_change_reaches_the_author() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let sue = server
        .officer("Sue", Role::Supervisor, &[server.team_a])
        .await;
    let a = server.device(alice.id).await;
    let s = server.device(sue.id).await;
    let child = add_person(&a.book, server.school);
    let concern = a.book.raise_concern(concern(child)).unwrap();
    a.book.sync().await.unwrap();
    s.book.sync().await.unwrap();
    let triage = ConcernTriageUpdate {
        risk: Some(pocketbook_core::model::Risk::High),
        ..Default::default()
    };
    s.book.update_concern_triage(concern.id, triage).unwrap();
    let report = s.book.sync().await.unwrap();
    assert_eq!(report.rejected, 0);
    a.book.sync().await.unwrap();
    assert_eq!(
        a.book.concern(concern.id).unwrap().risk,
        pocketbook_core::model::Risk::High
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conflict_resolved_on_one_device_or_by_the_server_is_closed_everywhere() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;
    let child = add_person(&a.book, server.school);
    let first = a.book.record_visit(visit_draft(child, 3)).unwrap();
    let second = a.book.record_visit(visit_draft(child, 4)).unwrap();
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    let edit = |text: &str| VisitUpdate {
        narrative: Some(text.into()),
        ..Default::default()
    };
    for visit in [first.id, second.id] {
        a.book.update_visit(visit, edit("Alice")).unwrap();
        b.book.update_visit(visit, edit("Bob")).unwrap();
    }
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    a.book.sync().await.unwrap();
    assert_eq!(a.book.conflicts().unwrap().len(), 2);
    assert_eq!(server.store.conflicts(false).await.unwrap().len(), 2);

    // Alice keeps the current value of one; the server learns it and Bob's copy closes.
    let on_first = |list: Vec<pocketbook_core::Conflict>| {
        list.into_iter().find(|c| c.record_id == first.id).unwrap()
    };
    let c1 = on_first(a.book.conflicts().unwrap());
    a.book
        .resolve_conflict(&c1.id, ConflictChoice::KeepCurrent)
        .unwrap();
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    let open: Vec<String> = b
        .book
        .conflicts()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert!(!open.contains(&c1.id));
    assert_eq!(open.len(), 1);

    // A supervisor resolves the other on the server; both devices close it.
    let (c2, _) = server.store.conflicts(false).await.unwrap().pop().unwrap();
    assert!(server.store.resolve_conflict(c2.id.clone()).await.unwrap());
    assert!(
        !server.store.resolve_conflict(c2.id.clone()).await.unwrap(),
        "only once"
    );
    a.book.sync().await.unwrap();
    b.book.sync().await.unwrap();
    assert!(a.book.conflicts().unwrap().is_empty());
    assert!(b.book.conflicts().unwrap().is_empty());
    assert_eq!(
        a.book.visit(first.id).unwrap().narrative,
        b.book.visit(first.id).unwrap().narrative
    );
}

/// The young people `record`'s chronology links name, read from the device's file.
fn links(device: &TestDevice, record: Uuid) -> Vec<String> {
    pocketbook_tests::chronology_links(&device.path, record)
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// A chronology's record ids, sorted.
fn chronology_of(device: &TestDevice, child: Uuid) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = device
        .book
        .chronology(child, "review")
        .unwrap()
        .iter()
        .map(|e| e.record_id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn records_created_offline_are_in_their_chronologies_before_and_after_their_links_are_written(
) {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let a = server.device(alice.id).await;
    let (c1, c2, c3) = (
        add_person(&a.book, server.school),
        add_person(&a.book, server.school),
        add_person(&a.book, server.school),
    );
    let mut draft = visit_draft(c1, 3);
    draft.young_person_ids = vec![c1, c2];
    let both = a.book.record_visit(draft).unwrap();
    let moved = a.book.record_visit(visit_draft(c1, 2)).unwrap();
    a.book
        .update_visit(
            moved.id,
            VisitUpdate {
                young_person_ids: Some(vec![c3]),
                ..Default::default()
            },
        )
        .unwrap();
    let gone = a.book.record_visit(visit_draft(c2, 1)).unwrap();
    a.book.delete_visit(gone.id, "recorded twice").unwrap();
    let concern = a.book.raise_concern(concern(c2)).unwrap();
    let action = a
        .book
        .add_action(pocketbook_core::model::ActionDraft {
            kind: pocketbook_core::model::ActionKind::Mash,
            young_person_id: c3,
            concern_id: None,
            recipient: "MASH".into(),
            justification: "Risk of significant harm".into(),
            due: None,
            marking: None,
        })
        .unwrap();

    // Offline: a creation's links wait for its outbox entry to go (a change of young people
    // writes the new ones at once); every chronology already holds what names its child.
    assert!(links(&a, both.id).is_empty());
    assert!(links(&a, concern.id).is_empty());
    assert!(links(&a, action.id).is_empty());
    assert_eq!(links(&a, moved.id), vec![c3.to_string()]);
    let chronologies = |d: &TestDevice| [c1, c2, c3].map(|c| chronology_of(d, c));
    let mut in_c2 = vec![both.id, concern.id];
    in_c2.sort();
    let mut in_c3 = vec![moved.id, action.id];
    in_c3.sort();
    let want = [vec![both.id], in_c2, in_c3];
    assert_eq!(chronologies(&a), want);

    // The writes' audit events are held in their outbox entries meanwhile.
    let events = a.book.audit_events().unwrap();
    let raw = pocketbook_tests::raw_connection(&a.path);
    let held: i64 = raw
        .query_row(
            "SELECT count(*) FROM outbox WHERE event_seq IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(held >= 9, "{held} events held");

    // Acknowledged: each record created here is linked to the young people its row names now,
    // and each held event is in `audit_events`, the chain whole.
    a.book.sync().await.unwrap();
    assert!(a.book.pending_changes().unwrap().is_empty());
    let in_table: i64 = raw
        .query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))
        .unwrap();
    let after = a.book.audit_events().unwrap();
    assert_eq!(usize::try_from(in_table).unwrap(), after.len());
    assert_eq!(after[..events.len()], events[..]);
    assert_eq!(a.book.verify_audit_chain().unwrap(), after.len() as u64);
    assert_eq!(
        links(&a, both.id),
        sorted(vec![c1.to_string(), c2.to_string()])
    );
    assert_eq!(links(&a, moved.id), vec![c3.to_string()]);
    assert!(links(&a, gone.id).is_empty());
    assert_eq!(links(&a, concern.id), vec![c2.to_string()]);
    assert_eq!(links(&a, action.id), vec![c3.to_string()]);
    assert_eq!(chronologies(&a), want);
}
