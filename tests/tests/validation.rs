//! Bad input is a typed error naming the field, and a refused write leaves nothing behind:
//! no record, no outbox entry, no audit event, no clock or sequence movement.

use chrono::{Duration, Utc};
use pocketbook_core::model::{ConcernTriageUpdate, EngagementDraft, EngagementKind, VisitUpdate};
use pocketbook_core::{Error, ValidationError};
use pocketbook_tests::{concern_draft, person_draft, visit_draft, Fixture};
use uuid::Uuid;

/// Row counts and the device row: everything a write could touch.
fn footprint(f: &Fixture) -> (i64, i64, i64, i64, String) {
    let device: String = f
        .raw()
        .query_row(
            "SELECT clock_millis || '/' || clock_counter || '/' || next_seq || '/' || audit_seq
             FROM device",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (
        f.count("records"),
        f.count("outbox"),
        f.count("audit_trail"),
        f.count("record_people"),
        device,
    )
}

fn field_of(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Invalid(v)) => v.field(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn visit_rules_name_the_field_and_write_nothing() {
    let f = Fixture::new();
    let person = f.young_person();
    let before = footprint(&f);

    let mut d = visit_draft(person, 2);
    d.end = d.start - Duration::minutes(1);
    assert_eq!(field_of(f.book.record_visit(d)), "end");

    let mut d = visit_draft(person, 2);
    d.narrative = "   ".into();
    assert_eq!(field_of(f.book.record_visit(d)), "narrative");

    let mut d = visit_draft(person, 2);
    d.young_person_ids = vec![Uuid::now_v7()];
    assert_eq!(field_of(f.book.record_visit(d)), "young_person_ids");

    let mut d = visit_draft(person, 2);
    d.young_person_ids.clear();
    assert_eq!(field_of(f.book.record_visit(d)), "young_person_ids");

    let mut d = visit_draft(person, 2);
    d.officer_ids = vec![Uuid::now_v7()];
    assert_eq!(field_of(f.book.record_visit(d)), "officer_ids");

    let mut d = visit_draft(person, 2);
    d.start = Utc::now() + Duration::days(1);
    d.end = d.start + Duration::hours(1);
    assert_eq!(field_of(f.book.record_visit(d)), "start");

    let mut d = visit_draft(person, 2);
    d.location = Some((123.0, 0.0));
    assert_eq!(field_of(f.book.record_visit(d)), "location");

    let mut d = visit_draft(person, 2);
    d.narrative = "x".repeat(20_001);
    assert_eq!(field_of(f.book.record_visit(d)), "narrative");

    assert_eq!(footprint(&f), before);
}

#[test]
fn a_refused_update_leaves_the_visit_as_it_was() {
    let f = Fixture::new();
    let person = f.young_person();
    let visit = f.book.record_visit(visit_draft(person, 2)).unwrap();
    let before = footprint(&f);
    let update = VisitUpdate {
        narrative: Some("new text".into()),
        end: Some(visit.start - Duration::hours(1)),
        ..Default::default()
    };
    assert_eq!(field_of(f.book.update_visit(visit.id, update)), "end");
    assert_eq!(footprint(&f), before);
    assert_eq!(f.book.visit(visit.id).unwrap(), visit);
}

#[test]
fn young_person_rules() {
    let f = Fixture::new();
    let before = footprint(&f);
    let mut d = person_draft();
    d.first_name = "".into();
    assert_eq!(field_of(f.book.add_young_person(d)), "first_name");
    let mut d = person_draft();
    d.establishment_id = Some(Uuid::now_v7());
    assert!(matches!(
        f.book.add_young_person(d),
        Err(Error::Invalid(ValidationError::UnknownEstablishment {
            field: "establishment_id"
        }))
    ));
    let mut d = person_draft();
    d.date_of_birth = None;
    d.age_band = None;
    assert_eq!(field_of(f.book.add_young_person(d)), "date_of_birth");
    let mut d = person_draft();
    d.year_group = Some(15);
    assert_eq!(field_of(f.book.add_young_person(d)), "year_group");
    assert_eq!(footprint(&f), before);
}

#[test]
fn concern_rules() {
    let f = Fixture::new();
    let person = f.young_person();
    let before = footprint(&f);

    let mut d = concern_draft(person, 1);
    d.risk = None;
    assert!(matches!(
        f.book.raise_concern(d),
        Err(Error::Invalid(ValidationError::MissingRisk))
    ));

    let mut d = concern_draft(person, 1);
    d.thrive.vulnerability.rationale = " ".into();
    assert_eq!(field_of(f.book.raise_concern(d)), "thrive.vulnerability");

    let mut d = concern_draft(person, 1);
    d.account = "".into();
    assert_eq!(field_of(f.book.raise_concern(d)), "account");

    let mut d = concern_draft(person, 1);
    d.young_person_ids = vec![Uuid::now_v7()];
    assert_eq!(field_of(f.book.raise_concern(d)), "young_person_ids");

    let mut d = concern_draft(person, 1);
    d.assigned_lead = Some(Uuid::now_v7());
    assert_eq!(field_of(f.book.raise_concern(d)), "assigned_lead");

    assert_eq!(
        field_of(f.book.add_addendum(Uuid::now_v7(), "more")),
        "concern_id"
    );
    assert_eq!(footprint(&f), before);

    let concern = f.book.raise_concern(concern_draft(person, 1)).unwrap();
    let before = footprint(&f);
    assert_eq!(field_of(f.book.add_addendum(concern.id, "  ")), "text");
    let update = ConcernTriageUpdate {
        assigned_lead: Some(Some(Uuid::now_v7())),
        ..Default::default()
    };
    assert_eq!(
        field_of(f.book.update_concern_triage(concern.id, update)),
        "assigned_lead"
    );
    assert_eq!(footprint(&f), before);
}

#[test]
fn engagement_rules() {
    let f = Fixture::new();
    let before = footprint(&f);
    let draft = EngagementDraft {
        kind: EngagementKind::WeaponsSweep,
        topics: vec![],
        establishment_id: pocketbook_tests::SCHOOL,
        year_groups: vec![9, 10],
        audience_size: 0,
        at: Utc::now(),
        sweep_result: None,
        concerns_arising: String::new(),
        marking: None,
    };
    assert_eq!(
        field_of(f.book.record_engagement(draft.clone())),
        "sweep_result"
    );
    let unknown = EngagementDraft {
        establishment_id: Uuid::now_v7(),
        ..draft.clone()
    };
    assert_eq!(
        field_of(f.book.record_engagement(unknown)),
        "establishment_id"
    );
    assert_eq!(footprint(&f), before);
}

#[test]
fn recording_without_a_session_is_not_enrolled() {
    let f = Fixture::unprovisioned();
    assert!(matches!(
        f.book.add_young_person(person_draft()),
        Err(Error::NotEnrolled)
    ));
    assert!(matches!(f.book.session(), Err(Error::NotEnrolled)));
    assert_eq!(f.count("outbox"), 0);
}

#[test]
fn missing_records_are_not_found() {
    let f = Fixture::new();
    let id = Uuid::now_v7();
    assert!(matches!(f.book.visit(id), Err(Error::NotFound { id: x, .. }) if x == id));
    assert!(matches!(
        f.book.delete_visit(id, "Recorded in error"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(f.book.concern(id), Err(Error::NotFound { .. })));
}

#[test]
fn error_messages_do_not_repeat_personal_data() {
    let f = Fixture::new();
    let person = f.young_person();
    let mut d = visit_draft(person, 2);
    d.place = "".into();
    d.narrative = "Secret detail about Amira".into();
    let message = f.book.record_visit(d).unwrap_err().to_string();
    assert_eq!(message, "invalid input: place must not be empty");
}
