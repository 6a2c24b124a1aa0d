//! Every mutation writes the record, a version per field, exactly one outbox entry and one
//! audit event; updates carry only the changed fields with the versions they were based on;
//! deletes are tombstones; the clock survives a reopen.

use std::collections::BTreeMap;

use pocketbook_core::model::{AuditOperation, VisitUpdate};
use pocketbook_core::{Entity, MutationKind};
use pocketbook_protocol::Version;
use pocketbook_tests::{open_at, visit_draft, Fixture, SECRET_NARRATIVE};

fn versions(f: &Fixture, id: uuid::Uuid) -> BTreeMap<String, Version> {
    f.book.field_versions(Entity::Visit, id).unwrap()
}

#[test]
fn each_mutation_writes_one_outbox_entry_and_one_audit_event() {
    let f = Fixture::new();
    let person = f.young_person();
    let visit = f.book.record_visit(visit_draft(person, 2)).unwrap();
    f.book
        .update_visit(
            visit.id,
            VisitUpdate {
                narrative: Some("Revised".into()),
                ..Default::default()
            },
        )
        .unwrap();
    f.book.delete_visit(visit.id, "Recorded in error").unwrap();

    let pending = f.book.pending_changes().unwrap();
    let kinds: Vec<_> = pending
        .iter()
        .map(|m| (m.seq, m.entity.clone(), m.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, Entity::YoungPerson, MutationKind::Create),
            (2, Entity::Visit, MutationKind::Create),
            (3, Entity::Visit, MutationKind::Update),
            (4, Entity::Visit, MutationKind::Delete),
        ]
    );
    let ops: Vec<_> = f
        .book
        .audit_events_for(visit.id)
        .unwrap()
        .iter()
        .map(|e| e.operation)
        .collect();
    assert_eq!(
        ops,
        vec![
            AuditOperation::Collect,
            AuditOperation::Alter,
            AuditOperation::Erase
        ]
    );
    assert_eq!(f.book.verify_audit_chain().unwrap(), 4);
}

#[test]
fn an_update_carries_only_changed_fields_and_their_base_versions() {
    let f = Fixture::new();
    let person = f.young_person();
    let visit = f.book.record_visit(visit_draft(person, 2)).unwrap();
    let created = versions(&f, visit.id);
    let create = f.book.pending_changes().unwrap().pop().unwrap();
    assert!(
        created.values().all(|v| *v == create.version),
        "a create stamps every field"
    );
    assert!(create.fields.contains_key("narrative") && create.fields.contains_key("team_id"));
    assert!(create.base.is_empty(), "a create has no base versions");
    assert_eq!(
        created.len(),
        create.fields.len(),
        "every field has a version"
    );

    let update = VisitUpdate {
        narrative: Some("Revised after speaking to the DSL".into()),
        place: Some("Home address".into()), // unchanged: must not appear
        ..Default::default()
    };
    f.book.update_visit(visit.id, update).unwrap();
    let m = f.book.pending_changes().unwrap().pop().unwrap();
    assert_eq!(m.kind, MutationKind::Update);
    assert_eq!(m.fields.keys().collect::<Vec<_>>(), vec!["narrative"]);
    assert_eq!(m.base["narrative"], Some(create.version));
    assert!(m.version > create.version);
    let after = versions(&f, visit.id);
    assert_eq!(after["narrative"], m.version);
    assert_eq!(after["place"], create.version);
    assert_eq!(
        f.book.visit(visit.id).unwrap().narrative,
        "Revised after speaking to the DSL"
    );
}

#[test]
fn an_update_that_changes_nothing_writes_nothing() {
    let f = Fixture::new();
    let person = f.young_person();
    let visit = f.book.record_visit(visit_draft(person, 2)).unwrap();
    let update = VisitUpdate {
        narrative: Some(visit.narrative.clone()),
        ..Default::default()
    };
    f.book.update_visit(visit.id, update).unwrap();
    assert_eq!(f.book.pending_changes().unwrap().len(), 2);
    assert_eq!(f.count("audit_trail"), 2);
}

#[test]
fn a_delete_is_a_tombstone_without_the_content() {
    let f = Fixture::new();
    let person = f.young_person();
    let visit = f.book.record_visit(visit_draft(person, 2)).unwrap();
    f.book.delete_visit(visit.id, "Recorded in error").unwrap();
    assert!(f.book.visit(visit.id).is_err());
    assert!(f.book.visits(&Default::default()).unwrap().is_empty());
    let (deleted, data): (i64, String) = f
        .raw()
        .query_row(
            "SELECT deleted, data FROM records WHERE id = ?1",
            [visit.id.to_string()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(!data.contains(SECRET_NARRATIVE));
    assert!(
        data.contains(&pocketbook_tests::TEAM.to_string()),
        "tombstone keeps its routing"
    );
    let m = f.book.pending_changes().unwrap().pop().unwrap();
    assert_eq!(m.kind, MutationKind::Delete);
    assert_eq!(m.fields["deleted"], serde_json::Value::Bool(true));
    assert!(versions(&f, visit.id).contains_key("deleted"));
}

#[test]
fn the_clock_and_sequence_survive_a_reopen() {
    let f = Fixture::new();
    let person = f.young_person();
    f.book.record_visit(visit_draft(person, 2)).unwrap();
    let last = f.book.pending_changes().unwrap().pop().unwrap();
    let device = f.book.device_id().unwrap();
    drop(f.book);
    let book = open_at(&f.path).unwrap();
    assert_eq!(
        book.device_id().unwrap(),
        device,
        "the device id is made once"
    );
    book.record_visit(visit_draft(person, 1)).unwrap();
    let next = book.pending_changes().unwrap().pop().unwrap();
    assert_eq!(next.seq, last.seq + 1);
    assert!(next.version > last.version);
    assert_eq!(next.version.node, device);
}

#[test]
fn provisioning_another_officer_onto_a_store_is_refused() {
    let f = Fixture::new();
    let mut other = pocketbook_tests::provisioning();
    other.officer.id = uuid::Uuid::now_v7();
    assert!(f.book.provision(&other).is_err());
    assert_eq!(
        f.book.session().unwrap().officer.id,
        pocketbook_tests::OFFICER
    );
    // The same officer may reload their data.
    f.book.provision(&pocketbook_tests::provisioning()).unwrap();
    assert_eq!(f.book.establishments().unwrap().len(), 1);
}
