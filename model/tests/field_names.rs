//! The merge rules, the immutable-account list and the tombstone list in `protocol` name
//! fields as strings; this test holds every such name to the model's serialised records, so
//! renaming a field cannot silently change how it merges, what is immutable or what a
//! tombstone keeps.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use pocketbook_model::{
    Action, ActionKind, ActionStatus, Addendum, AgeBand, CarerContact, Concern, ConcernCategory,
    ConcernStatus, Engagement, EngagementKind, Marking, PromptedBy, RecordMeta, Risk,
    ThriveAssessment, Visit, VisitKind, VisitOutcome, YoungPerson,
};
use pocketbook_protocol::merge::CONCERN_ACCOUNT_FIELDS;
use pocketbook_protocol::merge::{
    DELETED_FIELD, HIGHER_RISK_FIELDS, RISK_ORDER, SET_FIELDS, TOMBSTONE_FIELDS,
};
use pocketbook_protocol::Entity;
use serde::Serialize;
use uuid::Uuid;

fn now() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}

fn meta() -> RecordMeta {
    RecordMeta {
        team_id: Uuid::nil(),
        created_by: Uuid::nil(),
        created_at: now(),
        marking: Marking::Official,
        review_due: NaiveDate::MIN,
    }
}

/// The top-level field names a record serialises with.
fn names<T: Serialize>(record: &T) -> BTreeSet<String> {
    match serde_json::to_value(record) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        other => panic!("a record serialised to something other than an object: {other:?}"),
    }
}

/// Every kind of record with the names of its serialised fields.
fn fields_of(entity: &Entity) -> BTreeSet<String> {
    match entity {
        Entity::YoungPerson => names(&YoungPerson {
            id: Uuid::nil(),
            meta: meta(),
            first_name: String::new(),
            last_name: String::new(),
            date_of_birth: None,
            age_band: Some(AgeBand::Under5),
            establishment_id: None,
            year_group: None,
            carers: vec![CarerContact {
                name: String::new(),
                relationship: String::new(),
                phone: None,
            }],
            flags: vec![],
        }),
        Entity::Visit => names(&Visit {
            id: Uuid::nil(),
            meta: meta(),
            kind: VisitKind::WelfareCheck,
            prompted_by: PromptedBy::School,
            young_person_ids: vec![],
            officer_ids: vec![],
            start: now(),
            end: now(),
            place: String::new(),
            location: None,
            present: vec![],
            outcome: VisitOutcome::NoConcerns,
            support_given: vec![],
            signposted_to: vec![],
            narrative: String::new(),
            follow_up: None,
        }),
        Entity::Concern => names(&Concern {
            id: Uuid::nil(),
            meta: meta(),
            young_person_ids: vec![],
            happened_at: now(),
            recorded_at: now(),
            category: ConcernCategory::Other,
            sub_categories: vec![],
            account: String::new(),
            childs_words: None,
            risk_text: String::new(),
            action_text: String::new(),
            thrive: ThriveAssessment::default(),
            risk: Risk::Low,
            status: ConcernStatus::New,
            assigned_lead: None,
            triage_history: vec![],
        }),
        Entity::Addendum => names(&Addendum {
            id: Uuid::nil(),
            meta: meta(),
            concern_id: Uuid::nil(),
            young_person_ids: vec![],
            text: String::new(),
        }),
        Entity::Action => names(&Action {
            id: Uuid::nil(),
            meta: meta(),
            kind: ActionKind::Mash,
            young_person_id: Uuid::nil(),
            concern_id: None,
            recipient: String::new(),
            justification: String::new(),
            due: None,
            status: ActionStatus::Draft,
        }),
        Entity::Engagement => names(&Engagement {
            id: Uuid::nil(),
            meta: meta(),
            kind: EngagementKind::Assembly,
            topics: vec![],
            establishment_id: Uuid::nil(),
            year_groups: vec![],
            audience_size: 0,
            at: now(),
            sweep_result: None,
            concerns_arising: String::new(),
        }),
        Entity::Unknown(name) => panic!("no record kind called {name}"),
    }
}

#[test]
fn every_field_the_merge_rules_name_is_a_field_of_its_record() {
    for (entity, fields) in SET_FIELDS {
        let known = fields_of(entity);
        for field in *fields {
            assert!(known.contains(*field), "{entity} has no set field {field}");
        }
    }
    for (entity, field) in HIGHER_RISK_FIELDS {
        assert!(
            fields_of(entity).contains(*field),
            "{entity} has no {field}"
        );
    }
}

#[test]
fn the_risk_order_of_the_merge_rules_is_the_models_risk_levels_lowest_first() {
    let levels: Vec<&str> = Risk::KNOWN.iter().map(Risk::as_str).collect();
    assert_eq!(levels, RISK_ORDER);
    assert!(Risk::Low < Risk::Medium && Risk::Medium < Risk::High);
}

#[test]
fn every_account_field_is_a_field_of_a_concern() {
    let concern = fields_of(&Entity::Concern);
    for field in CONCERN_ACCOUNT_FIELDS {
        assert!(concern.contains(field), "a concern has no {field}");
    }
}

#[test]
fn every_field_a_tombstone_keeps_is_a_field_of_every_record_and_deleted_is_none() {
    for entity in Entity::KNOWN {
        let known = fields_of(entity);
        for field in TOMBSTONE_FIELDS {
            assert!(known.contains(field), "{entity} has no {field}");
        }
        assert!(
            !known.contains(DELETED_FIELD),
            "{entity} has a field named like the delete marker"
        );
    }
}

#[test]
fn every_field_of_every_kind_has_a_group_in_the_authorisation_table() {
    use pocketbook_model::authz::{field_role, groups_of, FieldRole, Kind};
    for kind in Kind::ALL {
        for field in fields_of(&kind.entity()) {
            match field_role(kind, &field) {
                Some(FieldRole::Group(group)) => assert!(
                    groups_of(kind).contains(&group),
                    "{kind:?}.{field} is in {group:?}, which the table has no row for"
                ),
                Some(FieldRole::Team | FieldRole::Marking) => {}
                None => panic!("{kind:?}.{field} has no group in the authorisation table"),
            }
        }
    }
}
