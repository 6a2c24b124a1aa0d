//! Never stricter than the apps: any record an honest device makes through the model (a draft
//! its own checks accept, on a clock up to the allowed skew ahead of the server's) passes the
//! server's validation, as it travels: serialised without its id, decoded by the server.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use pocketbook_model::{
    Action, ActionDraft, ActionKind, Addendum, AgeBand, CarerContact, ConcernCategory,
    ConcernDraft, EngagementDraft, EngagementKind, EngagementTopic, Marking, PromptedBy, Record,
    RecordMeta, Risk, SupportGiven, SweepResult, ThriveAssessment, ThriveElement, VisitDraft,
    VisitKind, VisitOutcome, VulnerabilityFlag, YoungPersonDraft,
};
use pocketbook_protocol::wire::MAX_CLOCK_SKEW_MS;
use pocketbook_sync_server::validate::check_record;
use proptest::prelude::*;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The server's clock in these tests; the device's may be up to the skew ahead.
fn server_now() -> DateTime<Utc> {
    Utc::now()
}

fn guard_now(server: DateTime<Utc>) -> DateTime<Utc> {
    server + Duration::milliseconds(i64::try_from(MAX_CLOCK_SKEW_MS).unwrap())
}

fn meta(now: DateTime<Utc>, marking: Marking) -> RecordMeta {
    RecordMeta {
        team_id: Uuid::from_u128(10),
        created_by: Uuid::from_u128(1),
        created_at: now,
        marking,
        review_due: now.date_naive() + Duration::days(365),
    }
}

/// The record as the device sends it and the server's verdict on it.
fn server_takes<T: Record>(record: &T, server: DateTime<Utc>) -> Result<(), String> {
    let Value::Object(mut fields) = serde_json::to_value(record).unwrap() else {
        panic!("a record is an object")
    };
    fields.remove("id");
    let fields: Map<String, Value> = fields;
    check_record(&T::ENTITY, record.id(), &fields, guard_now(server))
        .map(|_| ())
        .map_err(|f| format!("{:?}: {}", f.code, f.message))
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect())
}

fn pick<T: Clone + std::fmt::Debug + 'static>(known: &'static [T]) -> impl Strategy<Value = T> {
    (0..known.len()).prop_map(move |i| known[i].clone())
}

fn ids(min: usize, max: usize) -> impl Strategy<Value = Vec<Uuid>> {
    proptest::collection::vec(any::<u128>().prop_map(Uuid::from_u128), min..max)
}

fn element() -> impl Strategy<Value = ThriveElement> {
    (text(40), text(40)).prop_map(|(finding, rationale)| ThriveElement { finding, rationale })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_visit_a_device_accepts_the_server_accepts(
        ahead in 0..MAX_CLOCK_SKEW_MS,
        minutes_ago in -5i64..200_000,
        length in 0i64..1_000,
        kind in pick(VisitKind::KNOWN),
        prompted_by in pick(PromptedBy::KNOWN),
        outcome in pick(VisitOutcome::KNOWN),
        support in proptest::collection::vec(pick(SupportGiven::KNOWN), 0..8),
        young in ids(0, 4),
        officers in ids(0, 3),
        place in text(60),
        narrative in text(300),
        present in proptest::collection::vec(text(20), 0..4),
        follow_days in proptest::option::of(-3i64..30),
        location in proptest::option::of((-100.0f64..100.0, -200.0f64..200.0)),
    ) {
        let server = server_now();
        let device = server + Duration::milliseconds(i64::try_from(ahead).unwrap());
        let start = device - Duration::minutes(minutes_ago);
        let draft = VisitDraft {
            kind, prompted_by, young_person_ids: young, officer_ids: officers, start,
            end: start + Duration::minutes(length), place, location, present, outcome,
            support_given: support, signposted_to: vec![], narrative,
            follow_up: follow_days.map(|d| start.date_naive() + Duration::days(d)),
            marking: None,
        };
        let visit = draft.into_record(Uuid::now_v7(), meta(device, Marking::Official));
        prop_assume!(visit.validate(device).is_ok());
        prop_assert_eq!(server_takes(&visit, server), Ok(()));
    }

    #[test]
    fn every_concern_a_device_accepts_the_server_accepts(
        ahead in 0..MAX_CLOCK_SKEW_MS,
        minutes_ago in -5i64..200_000,
        young in ids(0, 4),
        category in pick(ConcernCategory::KNOWN),
        subs in proptest::collection::vec(pick(ConcernCategory::KNOWN), 0..5),
        account in text(200),
        words in proptest::option::of(text(50)),
        risk_text in text(50),
        action_text in text(50),
        risk in proptest::option::of(pick(Risk::KNOWN)),
        thrive in (element(), element(), element(), element(), element(), element()),
    ) {
        let server = server_now();
        let device = server + Duration::milliseconds(i64::try_from(ahead).unwrap());
        let (threat, harm, risk_e, investigation, vulnerability, engagement) = thrive;
        let draft = ConcernDraft {
            young_person_ids: young, happened_at: device - Duration::minutes(minutes_ago),
            category, sub_categories: subs, account, childs_words: words, risk_text,
            action_text,
            thrive: ThriveAssessment {
                threat, harm, risk: risk_e, investigation, vulnerability, engagement,
            },
            risk, assigned_lead: None, marking: None,
        };
        let made = draft.into_record(
            Uuid::now_v7(), meta(device, Marking::OfficialSensitive), device,
        );
        prop_assume!(made.is_ok());
        let concern = made.unwrap();
        prop_assert_eq!(server_takes(&concern, server), Ok(()));
        let addendum = Addendum {
            id: Uuid::now_v7(),
            meta: concern.meta.clone(),
            concern_id: concern.id,
            young_person_ids: concern.young_person_ids.clone(),
            text: concern.account.clone(),
        };
        prop_assert_eq!(server_takes(&addendum, server), Ok(()));
    }

    #[test]
    fn every_young_person_action_and_engagement_a_device_accepts_the_server_accepts(
        ahead in 0..MAX_CLOCK_SKEW_MS,
        first in text(30),
        last in text(30),
        born_days_ago in proptest::option::of(-2i64..9_000),
        band in proptest::option::of(pick(AgeBand::KNOWN)),
        year in proptest::option::of(0u8..16),
        carers in proptest::collection::vec((text(20), text(20), proptest::option::of(text(20))), 0..3),
        flags in proptest::collection::vec(pick(VulnerabilityFlag::KNOWN), 0..4),
        action_kind in pick(ActionKind::KNOWN),
        recipient in text(40),
        justification in text(100),
        due_days in proptest::option::of(-3i64..60),
        engagement_kind in pick(EngagementKind::KNOWN),
        topics in proptest::collection::vec(pick(EngagementTopic::KNOWN), 0..5),
        years in proptest::collection::vec(0u8..16, 0..5),
        sweep in proptest::option::of(pick(SweepResult::KNOWN)),
        audience in any::<u32>(),
        concerns_arising in text(100),
    ) {
        let server = server_now();
        let device = server + Duration::milliseconds(i64::try_from(ahead).unwrap());
        let today: NaiveDate = device.date_naive();
        let person = YoungPersonDraft {
            first_name: first, last_name: last,
            date_of_birth: born_days_ago.map(|d| today - Duration::days(d)),
            age_band: band, establishment_id: None, year_group: year,
            carers: carers.into_iter()
                .map(|(name, relationship, phone)| CarerContact { name, relationship, phone })
                .collect(),
            flags,
        };
        if person.validate(today).is_ok() {
            let record = person.into_record(Uuid::now_v7(), meta(device, Marking::Official));
            prop_assert_eq!(server_takes(&record, server), Ok(()));
        }
        let action: Action = ActionDraft {
            kind: action_kind, young_person_id: Uuid::now_v7(), concern_id: None, recipient,
            justification, due: due_days.map(|d| today + Duration::days(d)), marking: None,
        }
        .into_record(Uuid::now_v7(), meta(device, Marking::Official));
        if action.validate().is_ok() {
            prop_assert_eq!(server_takes(&action, server), Ok(()));
        }
        let engagement = EngagementDraft {
            kind: engagement_kind, topics, establishment_id: Uuid::now_v7(), year_groups: years,
            audience_size: audience, at: device - Duration::hours(1), sweep_result: sweep,
            concerns_arising, marking: None,
        }
        .into_record(Uuid::now_v7(), meta(device, Marking::Official), device);
        if let Ok(engagement) = engagement {
            prop_assert_eq!(server_takes(&engagement, server), Ok(()));
        }
    }
}
