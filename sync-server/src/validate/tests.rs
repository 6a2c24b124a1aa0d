//! Unit tests of the record guard: whole records made by the model pass; each kind of fault is
//! answered with its code.

use chrono::{Duration, Utc};
use pocketbook_model::{PromptedBy, RecordMeta, VisitDraft, VisitKind, VisitOutcome};
use pocketbook_protocol::{Hlc, Marking, MutationKind, Version};
use serde_json::json;

use super::*;

fn visit_fields() -> Map<String, Value> {
    let now = Utc::now();
    let meta = RecordMeta {
        team_id: Uuid::from_u128(10),
        created_by: Uuid::from_u128(1),
        created_at: now,
        marking: Marking::Official,
        review_due: now.date_naive(),
    };
    let draft = VisitDraft {
        kind: VisitKind::WelfareCheck,
        prompted_by: PromptedBy::School,
        young_person_ids: vec![Uuid::from_u128(5)],
        officer_ids: vec![],
        start: now - Duration::hours(2),
        end: now - Duration::hours(1),
        place: "Ward 3".into(),
        location: None,
        present: vec!["mother".into()],
        outcome: VisitOutcome::NoConcerns,
        support_given: vec![],
        signposted_to: vec![],
        narrative: "All well.".into(),
        follow_up: None,
        marking: None,
    };
    let Value::Object(mut map) =
        serde_json::to_value(draft.into_record(Uuid::from_u128(99), meta)).unwrap()
    else {
        panic!("a record is an object")
    };
    map.remove("id");
    map
}

fn check(fields: &Map<String, Value>) -> Result<Checked, Fault> {
    check_record(&Entity::Visit, Uuid::from_u128(99), fields, Utc::now())
}

fn update(fields: Map<String, Value>) -> Mutation {
    Mutation {
        reason: None,
        seq: 2,
        entity: Entity::Visit,
        record_id: Uuid::from_u128(99),
        kind: MutationKind::Update,
        team_id: Uuid::from_u128(10),
        marking: Marking::Official,
        fields: fields.into_iter().collect(),
        base: Default::default(),
        sets: Default::default(),
        version: Version {
            hlc: Hlc {
                millis: 1,
                counter: 0,
            },
            node: Uuid::from_u128(1),
        },
        versions: None,
        conflicts: None,
    }
}

#[test]
fn a_visit_the_model_makes_passes() {
    assert_eq!(check(&visit_fields()), Ok(Checked::default()));
}

#[test]
fn an_unknown_choice_field_or_kind_is_server_too_old() {
    let mut f = visit_fields();
    f.insert("kind".into(), json!("burglary"));
    assert_eq!(check(&f).unwrap_err().code, RejectCode::ServerTooOld);
    let mut f = visit_fields();
    f.insert("weather".into(), json!("rain"));
    let fault = check(&f).unwrap_err();
    assert_eq!(fault.code, RejectCode::ServerTooOld);
    assert!(!fault.message.contains("weather"), "{}", fault.message);
    let fault = check_record(
        &Entity::Unknown("homework".into()),
        Uuid::nil(),
        &visit_fields(),
        Utc::now(),
    )
    .unwrap_err();
    assert_eq!(fault.code, RejectCode::ServerTooOld);
}

#[test]
fn wrong_types_missing_fields_and_broken_rules_are_invalid_without_values() {
    let mut f = visit_fields();
    f.insert("place".into(), json!(42));
    assert_eq!(check(&f).unwrap_err().code, RejectCode::InvalidRecord);
    let mut f = visit_fields();
    f.remove("narrative");
    assert_eq!(check(&f).unwrap_err().code, RejectCode::InvalidRecord);
    let mut f = visit_fields();
    let start = f["start"].clone();
    f.insert("end".into(), json!("2000-01-01T00:00:00Z"));
    f.insert("start".into(), start);
    let fault = check(&f).unwrap_err();
    assert_eq!(fault.code, RejectCode::InvalidRecord);
    assert!(fault.cross_field);
    let mut f = visit_fields();
    f.insert("place".into(), json!("Alice Smith's house".repeat(1000)));
    let fault = check(&f).unwrap_err();
    assert_eq!(fault.code, RejectCode::TooLarge);
    assert!(!fault.message.contains("Alice"));
}

#[test]
fn a_set_over_its_bound_or_a_huge_record_is_too_large() {
    let mut f = visit_fields();
    f.insert(
        "present".into(),
        Value::Array((0..1001).map(|i| json!(format!("p{i}"))).collect()),
    );
    assert_eq!(check(&f).unwrap_err().code, RejectCode::TooLarge);
    let m = update(f.clone());
    assert_eq!(
        judge_fields(&m, Some(&visit_fields()), Utc::now())
            .unwrap_err()
            .code,
        RejectCode::TooLarge
    );
}

#[test]
fn an_update_that_only_clashes_with_the_stored_record_passes_its_own_judgement() {
    // B moves the end before the start A already moved later: B's field is well-formed.
    let stored = visit_fields();
    let mut fields = Map::new();
    fields.insert("end".into(), json!("2000-01-01T00:00:00Z"));
    assert_eq!(
        judge_fields(&update(fields), Some(&stored), Utc::now()),
        Ok(())
    );
    // A field that is wrong on its own is refused.
    let mut fields = Map::new();
    fields.insert("narrative".into(), json!(""));
    assert_eq!(
        judge_fields(&update(fields), Some(&stored), Utc::now())
            .unwrap_err()
            .code,
        RejectCode::InvalidRecord
    );
    let mut fields = Map::new();
    fields.insert("outcome".into(), json!(7));
    assert_eq!(
        judge_fields(&update(fields), Some(&stored), Utc::now())
            .unwrap_err()
            .code,
        RejectCode::InvalidRecord
    );
    let mut fields = Map::new();
    fields.insert("outcome".into(), json!("arrested"));
    assert_eq!(
        judge_fields(&update(fields), Some(&stored), Utc::now())
            .unwrap_err()
            .code,
        RejectCode::ServerTooOld
    );
}
