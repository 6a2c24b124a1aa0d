//! A concern's account is fixed once raised; addenda and triage changes add to it with dates
//! and history; a chronology orders everything by when it happened and logs a Consult.

use chrono::{Duration, Utc};
use pocketbook_core::model::{
    ActionDraft, ActionKind, AuditOperation, ConcernStatus, ConcernTriageUpdate, Marking, Risk,
    VisitUpdate,
};
use pocketbook_core::{ChronologyKind, Error, ValidationError};
use pocketbook_tests::{concern_draft, visit_draft, Fixture, SUPERVISOR};

#[test]
fn triage_changes_keep_history_and_never_touch_the_account() {
    let f = Fixture::new();
    let person = f.young_person();
    let concern = f.book.raise_concern(concern_draft(person, 3)).unwrap();
    assert_eq!(
        concern.meta.marking,
        Marking::OfficialSensitive,
        "concerns default to sensitive"
    );
    assert_eq!(concern.triage_history.len(), 1);

    let update = ConcernTriageUpdate {
        risk: Some(Risk::High),
        status: Some(ConcernStatus::Open),
        note: Some("Sibling also disclosed".into()),
        ..Default::default()
    };
    let triaged = f.book.update_concern_triage(concern.id, update).unwrap();
    assert_eq!(
        (triaged.risk, triaged.status),
        (Risk::High, ConcernStatus::Open)
    );
    assert_eq!(triaged.triage_history.len(), 2);
    assert_eq!(triaged.triage_history[0].risk, Risk::Medium);
    assert_eq!(
        triaged.triage_history[1].note.as_deref(),
        Some("Sibling also disclosed")
    );
    assert_eq!(triaged.account, concern.account);
    assert_eq!(triaged.thrive, concern.thrive);

    let m = f.book.pending_changes().unwrap().pop().unwrap();
    let mut fields: Vec<_> = m.fields.keys().cloned().collect();
    fields.sort();
    assert_eq!(fields, vec!["risk", "status", "triage_history"]);

    let unassign = ConcernTriageUpdate {
        assigned_lead: Some(None),
        ..Default::default()
    };
    assert_eq!(
        f.book
            .update_concern_triage(concern.id, unassign)
            .unwrap()
            .assigned_lead,
        None
    );
    let reassign = ConcernTriageUpdate {
        assigned_lead: Some(Some(SUPERVISOR)),
        ..Default::default()
    };
    let c = f.book.update_concern_triage(concern.id, reassign).unwrap();
    assert_eq!(c.assigned_lead, Some(SUPERVISOR));
    assert_eq!(c.triage_history.len(), 4);
}

#[test]
fn addenda_are_dated_and_follow_the_concern() {
    let f = Fixture::new();
    let person = f.young_person();
    let concern = f.book.raise_concern(concern_draft(person, 3)).unwrap();
    let a1 = f
        .book
        .add_addendum(concern.id, "Correction: it was Tuesday.")
        .unwrap();
    let a2 = f
        .book
        .add_addendum(concern.id, "School confirms attendance dropped.")
        .unwrap();
    assert_eq!(a1.meta.marking, concern.meta.marking);
    assert_eq!(a1.meta.team_id, concern.meta.team_id);
    assert!(a1.meta.created_at <= a2.meta.created_at);
    let addenda = f.book.addenda(concern.id).unwrap();
    assert_eq!(
        addenda.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![a1.id, a2.id]
    );
    assert_eq!(f.book.concern(concern.id).unwrap().account, concern.account);
}

#[test]
fn chronology_orders_by_when_things_happened_and_logs_a_consult() {
    let f = Fixture::new();
    let person = f.young_person();
    let other = f.young_person();
    let recent = f.book.record_visit(visit_draft(person, 2)).unwrap();
    let old = f.book.record_visit(visit_draft(person, 48)).unwrap();
    // Recorded last, happened in between: a backdated concern slots in.
    let concern = f.book.raise_concern(concern_draft(person, 24)).unwrap();
    let addendum = f.book.add_addendum(concern.id, "Further detail").unwrap();
    let action = f
        .book
        .add_action(ActionDraft {
            kind: ActionKind::Mash,
            young_person_id: person,
            concern_id: Some(concern.id),
            recipient: "MASH".into(),
            justification: "Risk of significant harm; consent not sought (would increase risk)"
                .into(),
            due: Some((Utc::now() + Duration::days(2)).date_naive()),
            marking: None,
        })
        .unwrap();
    f.book.record_visit(visit_draft(other, 5)).unwrap(); // someone else's
    let deleted = f.book.record_visit(visit_draft(person, 30)).unwrap();
    f.book
        .delete_visit(deleted.id, "Recorded in error")
        .unwrap();

    let entries = f
        .book
        .chronology(person, "Preparing strategy meeting")
        .unwrap();
    let ids: Vec<_> = entries.iter().map(|e| e.record_id).collect();
    assert_eq!(
        ids,
        vec![old.id, concern.id, recent.id, addendum.id, action.id]
    );
    assert_eq!(entries[1].kind, ChronologyKind::Concern);
    assert!(entries
        .windows(2)
        .all(|w| w[0].happened_at <= w[1].happened_at));

    let consult = f.book.audit_events().unwrap().pop().unwrap();
    assert_eq!(consult.operation, AuditOperation::Consult);
    assert_eq!(consult.record_id, Some(person));
    assert_eq!(
        consult.justification.as_deref(),
        Some("Preparing strategy meeting")
    );
    f.book.verify_audit_chain().unwrap();
}

#[test]
fn chronology_needs_a_reason_and_a_known_young_person() {
    let f = Fixture::new();
    let person = f.young_person();
    let events = f.book.audit_events().unwrap().len();
    assert!(matches!(
        f.book.chronology(person, "  "),
        Err(Error::Invalid(ValidationError::Empty { field: "reason" }))
    ));
    assert!(matches!(
        f.book.chronology(uuid::Uuid::now_v7(), "check"),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(f.book.audit_events().unwrap().len(), events);
}

#[test]
fn editing_a_visit_moves_it_in_the_chronology() {
    let f = Fixture::new();
    let person = f.young_person();
    let a = f.book.record_visit(visit_draft(person, 10)).unwrap();
    let b = f.book.record_visit(visit_draft(person, 5)).unwrap();
    let start = Utc::now() - Duration::hours(1);
    let update = VisitUpdate {
        start: Some(start),
        end: Some(start + Duration::minutes(10)),
        ..Default::default()
    };
    f.book.update_visit(a.id, update).unwrap();
    let ids: Vec<_> = f
        .book
        .chronology(person, "review")
        .unwrap()
        .iter()
        .map(|e| e.record_id)
        .collect();
    assert_eq!(ids, vec![b.id, a.id]);
}

/// The young person ids a visit's chronology links name, read from the store file.
fn links_of(f: &Fixture, record: uuid::Uuid) -> Vec<String> {
    pocketbook_tests::chronology_links(&f.path, record)
}

fn chronology_ids(f: &Fixture, person: uuid::Uuid) -> Vec<uuid::Uuid> {
    f.book
        .chronology(person, "review")
        .unwrap()
        .iter()
        .map(|e| e.record_id)
        .collect()
}

#[test]
fn changing_a_visits_young_people_moves_it_between_chronologies_and_leaves_no_link() {
    let f = Fixture::new();
    let (first, second) = (f.young_person(), f.young_person());
    let visit = f.book.record_visit(visit_draft(first, 3)).unwrap();
    // A creation's links wait for its outbox entry to go; the chronology finds it meanwhile.
    assert!(links_of(&f, visit.id).is_empty());
    assert_eq!(chronology_ids(&f, first), vec![visit.id]);
    let update = VisitUpdate {
        young_person_ids: Some(vec![second]),
        ..Default::default()
    };
    f.book.update_visit(visit.id, update).unwrap();
    assert_eq!(links_of(&f, visit.id), vec![second.to_string()]);
    assert!(chronology_ids(&f, first).is_empty());
    assert_eq!(chronology_ids(&f, second), vec![visit.id]);
    f.book.delete_visit(visit.id, "recorded twice").unwrap();
    assert!(links_of(&f, visit.id).is_empty());
    assert!(chronology_ids(&f, second).is_empty());
}

#[test]
fn a_link_the_record_no_longer_names_never_shows_it_in_that_chronology() {
    let f = Fixture::new();
    let (first, second) = (f.young_person(), f.young_person());
    let visit = f.book.record_visit(visit_draft(second, 3)).unwrap();
    // A stray link (a store written by a faulty build): the record names only `second`.
    pocketbook_tests::raw_connection(&f.path)
        .execute(
            "INSERT INTO record_people (young_person_id, record_id) VALUES (?1, ?2)",
            [first.to_string(), visit.id.to_string()],
        )
        .unwrap();
    assert!(chronology_ids(&f, first).is_empty());
    assert_eq!(chronology_ids(&f, second), vec![visit.id]);
}

#[test]
fn an_outbox_entry_going_links_its_creation_to_the_young_people_its_row_names_then() {
    let f = Fixture::new();
    let (first, second, third) = (f.young_person(), f.young_person(), f.young_person());
    let mut draft = visit_draft(first, 3);
    draft.young_person_ids = vec![first, second];
    let both = f.book.record_visit(draft).unwrap();
    let moved = f.book.record_visit(visit_draft(first, 2)).unwrap();
    let update = VisitUpdate {
        young_person_ids: Some(vec![third]),
        ..Default::default()
    };
    f.book.update_visit(moved.id, update).unwrap();
    let gone = f.book.record_visit(visit_draft(second, 1)).unwrap();
    f.book.delete_visit(gone.id, "recorded twice").unwrap();
    let concern = f.book.raise_concern(concern_draft(third, 4)).unwrap();
    assert!(links_of(&f, both.id).is_empty());
    assert!(links_of(&f, concern.id).is_empty());
    // What an acknowledgement does to the entries, straight on the file: no pull follows (a
    // sync's pull writes the links again from the server's copy). The device row is not
    // saved first, so nothing that audits runs after this.
    let dropped = f.raw().execute("DELETE FROM outbox", []).unwrap();
    assert!(dropped >= 5);
    let mut named = vec![first.to_string(), second.to_string()];
    named.sort();
    assert_eq!(links_of(&f, both.id), named);
    assert_eq!(links_of(&f, moved.id), vec![third.to_string()]);
    assert!(links_of(&f, gone.id).is_empty());
    assert_eq!(links_of(&f, concern.id), vec![third.to_string()]);
}
