//! The rules of a whole record (`RecordRules`): lists are bounded, unknown choices are named,
//! and the drafts refuse what the record rules refuse, so a device never sends it.

use chrono::{Duration, Utc};
use pocketbook_model::{
    Marking, PromptedBy, RecordMeta, RecordRules, ValidationError, VisitDraft, VisitKind,
    VisitOutcome, MAX_ENTRIES,
};
use uuid::Uuid;

fn draft() -> VisitDraft {
    let start = Utc::now() - Duration::hours(2);
    VisitDraft {
        kind: VisitKind::WelfareCheck,
        prompted_by: PromptedBy::School,
        young_person_ids: vec![Uuid::from_u128(5)],
        officer_ids: vec![],
        start,
        end: start + Duration::minutes(30),
        place: "Ward 3".into(),
        location: None,
        present: vec![],
        outcome: VisitOutcome::NoConcerns,
        support_given: vec![],
        signposted_to: vec![],
        narrative: "All well.".into(),
        follow_up: None,
        marking: None,
    }
}

fn meta() -> RecordMeta {
    let now = Utc::now();
    RecordMeta {
        team_id: Uuid::from_u128(10),
        created_by: Uuid::from_u128(1),
        created_at: now,
        marking: Marking::Official,
        review_due: now.date_naive(),
    }
}

#[test]
fn a_list_past_its_bound_is_too_many_for_the_device_and_the_server() {
    let mut d = draft();
    d.present = (0..=MAX_ENTRIES).map(|i| format!("p{i}")).collect();
    let visit = d.into_record(Uuid::now_v7(), meta());
    let expected = Err(ValidationError::TooMany {
        field: "present",
        max: MAX_ENTRIES,
    });
    assert_eq!(visit.validate(Utc::now()), expected);
    assert_eq!(visit.check(Utc::now()), expected);
}

#[test]
fn an_unknown_choice_is_named_by_its_field() {
    let mut visit = draft().into_record(Uuid::now_v7(), meta());
    assert_eq!(visit.unknown_choice(), None);
    visit.outcome = VisitOutcome::Unknown("arrested".into());
    assert_eq!(visit.unknown_choice(), Some("outcome"));
}
