//! The one-pass text of a new record's fields against what the map it replaced wrote.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields_text;
use crate::model::{
    CarerContact, Concern, ConcernCategory, ConcernStatus, Marking, PromptedBy, RecordMeta, Risk,
    ThriveAssessment, Visit, VisitKind, VisitOutcome, YoungPerson,
};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 3, 9, 30, 0)
        .single()
        .unwrap_or_default()
}

fn meta() -> RecordMeta {
    RecordMeta {
        team_id: Uuid::from_u128(7),
        created_by: Uuid::from_u128(8),
        created_at: at(),
        marking: Marking::OfficialSensitive,
        review_due: NaiveDate::from_ymd_opt(2032, 11, 3).unwrap_or_default(),
    }
}

fn visit() -> Visit {
    Visit {
        id: Uuid::from_u128(1),
        meta: meta(),
        kind: VisitKind::WelfareCheck,
        prompted_by: PromptedBy::School,
        young_person_ids: vec![Uuid::from_u128(2), Uuid::from_u128(3)],
        officer_ids: vec![Uuid::from_u128(8)],
        start: at(),
        end: at(),
        place: "Home \"front\" room\n\u{1F3E0} \\ é".into(),
        location: None,
        present: vec!["Mum".into(), "Gran".into()],
        outcome: VisitOutcome::NoConcerns,
        support_given: vec![],
        signposted_to: vec!["Food bank".into()],
        narrative: "Spoke with \u{7} both; tea\tand toast.".into(),
        follow_up: Some(NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()),
    }
}

fn young_person() -> YoungPerson {
    YoungPerson {
        id: Uuid::from_u128(2),
        meta: meta(),
        first_name: "Ada".into(),
        last_name: "O'Neil".into(),
        date_of_birth: NaiveDate::from_ymd_opt(2014, 2, 28),
        age_band: None,
        establishment_id: Some(Uuid::from_u128(9)),
        year_group: Some(7),
        carers: vec![CarerContact {
            name: "Jo".into(),
            relationship: "mother".into(),
            phone: Some("07700 900123".into()),
        }],
        flags: vec![],
    }
}

fn concern() -> Concern {
    Concern {
        id: Uuid::from_u128(4),
        meta: meta(),
        young_person_ids: vec![Uuid::from_u128(2)],
        happened_at: at(),
        recorded_at: at(),
        category: ConcernCategory::Other,
        sub_categories: vec![],
        account: "What was seen.".into(),
        childs_words: Some("\"I'm fine\"".into()),
        risk_text: "Low".into(),
        action_text: "Told the DSL".into(),
        thrive: ThriveAssessment::default(),
        risk: Risk::Medium,
        status: ConcernStatus::New,
        assigned_lead: None,
        triage_history: vec![],
    }
}

/// What the store wrote before: the record made a JSON value, its id taken out, written.
fn as_map_wrote<T: Serialize>(record: &T) -> (Map<String, Value>, String) {
    match serde_json::to_value(record) {
        Ok(Value::Object(mut map)) => {
            map.remove("id");
            let text = serde_json::to_string(&map).unwrap_or_default();
            (map, text)
        }
        other => panic!("a record serialised as {other:?}"),
    }
}

fn same_as_the_map<T: Serialize>(record: &T) {
    let (map, text) = as_map_wrote(record);
    let written = fields_text(record).expect("a record is an object");
    let read: Map<String, Value> = serde_json::from_str(&written.text).expect("valid JSON");
    assert_eq!(read, map, "the same fields and values");
    let names: Vec<&String> = map.keys().collect();
    let written_names: Vec<&String> = written.names.iter().collect();
    assert_eq!(written_names, names, "every name, in order, and no id");
    assert!(!written.names.iter().any(|n| n == "id"));
    assert!(!map.is_empty());
    // Members in the order of their names, as the map wrote them: a record whose members
    // hold no struct is the same text byte for byte.
    if !text.contains("\"threat\"") && !text.contains("\"relationship\"") {
        assert_eq!(written.text, text);
    }
}

#[test]
fn every_kind_reads_back_as_the_map_it_replaced() {
    same_as_the_map(&visit());
    same_as_the_map(&young_person());
    same_as_the_map(&concern());
    let mut bare = visit();
    bare.follow_up = None;
    bare.present.clear();
    same_as_the_map(&bare);
}

#[test]
fn a_flat_record_is_the_maps_text_byte_for_byte() {
    let (_, text) = as_map_wrote(&visit());
    assert_eq!(fields_text(&visit()).expect("object").text, text);
}

/// A map that names one field twice (as a careless `flatten` could).
struct Twice;

impl Serialize for Twice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("b", &1)?;
        map.serialize_entry("a\"q", &"x")?;
        map.serialize_entry("b", &2)?;
        map.serialize_entry("id", &"gone")?;
        map.end()
    }
}

#[test]
fn a_name_given_twice_keeps_its_last_value_and_names_are_escaped() {
    let written = fields_text(&Twice).expect("object");
    assert_eq!(written.text, r#"{"a\"q":"x","b":2}"#);
    assert_eq!(written.names, vec!["a\"q".to_string(), "b".to_string()]);
    let read: Map<String, Value> = serde_json::from_str(&written.text).expect("valid JSON");
    assert_eq!(read.get("b"), Some(&Value::from(2)));
}

#[test]
fn only_an_object_is_a_record() {
    assert!(fields_text(&"text").is_err());
    assert!(fields_text(&vec![1, 2]).is_err());
    assert!(fields_text(&Option::<u8>::None).is_err());
    let keyed_by_number: BTreeMap<u8, u8> = BTreeMap::from([(1, 2)]);
    assert!(fields_text(&keyed_by_number).is_err());
    let empty = fields_text(&Map::new()).expect("an empty object");
    assert_eq!(empty.text, "{}");
    assert!(empty.names.is_empty());
}
