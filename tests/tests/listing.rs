//! Listings and their filters: time ranges, young person, kind, risk; name search.

use chrono::{Duration, Utc};
use pocketbook_core::model::{
    ConcernFilter, EngagementDraft, EngagementFilter, EngagementKind, Risk, SweepResult,
    VisitFilter, VisitKind,
};
use pocketbook_tests::{concern_draft, person_draft, visit_draft, Fixture, SCHOOL};

#[test]
fn visit_filters_select_by_time_person_and_kind() {
    let f = Fixture::new();
    let a = f.young_person();
    let b = f.young_person();
    let old = f.book.record_visit(visit_draft(a, 50)).unwrap();
    let mid = f.book.record_visit(visit_draft(b, 20)).unwrap();
    let mut parcel = visit_draft(a, 2);
    parcel.kind = VisitKind::FoodParcel;
    let new = f.book.record_visit(parcel).unwrap();
    let ids = |filter: VisitFilter| -> Vec<_> {
        f.book
            .visits(&filter)
            .unwrap()
            .into_iter()
            .map(|v| v.id)
            .collect()
    };
    assert_eq!(ids(VisitFilter::default()), vec![new.id, mid.id, old.id]);
    let day_ago = Utc::now() - Duration::hours(24);
    assert_eq!(
        ids(VisitFilter {
            since: Some(day_ago),
            ..Default::default()
        }),
        vec![new.id, mid.id]
    );
    assert_eq!(
        ids(VisitFilter {
            until: Some(day_ago),
            ..Default::default()
        }),
        vec![old.id]
    );
    assert_eq!(
        ids(VisitFilter {
            young_person_id: Some(a),
            ..Default::default()
        }),
        vec![new.id, old.id]
    );
    assert_eq!(
        ids(VisitFilter {
            young_person_id: Some(a),
            since: Some(day_ago),
            ..Default::default()
        }),
        vec![new.id]
    );
    assert_eq!(
        ids(VisitFilter {
            kind: Some(VisitKind::FoodParcel),
            ..Default::default()
        }),
        vec![new.id]
    );
}

#[test]
fn concern_filters_and_name_search() {
    let f = Fixture::new();
    let mut other = person_draft();
    other.first_name = "Jordan".into();
    other.last_name = "Riley".into();
    let jordan = f.book.add_young_person(other).unwrap().id;
    let amira = f.young_person();
    let mut high = concern_draft(jordan, 1);
    high.risk = Some(Risk::High);
    let high = f.book.raise_concern(high).unwrap();
    f.book.raise_concern(concern_draft(amira, 1)).unwrap();
    let at_least_high = ConcernFilter {
        min_risk: Some(Risk::High),
        ..Default::default()
    };
    let found: Vec<_> = f
        .book
        .concerns(&at_least_high)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(found, vec![high.id]);
    assert_eq!(f.book.concerns(&ConcernFilter::default()).unwrap().len(), 2);

    let names = |q: &str| -> Vec<String> {
        f.book
            .find_young_people(q)
            .unwrap()
            .into_iter()
            .map(|p| p.first_name)
            .collect()
    };
    assert_eq!(names("riley"), vec!["Jordan"]);
    assert_eq!(names("AMI test"), vec!["Amira"]);
    assert_eq!(names(""), vec!["Jordan", "Amira"], "sorted by family name");
    assert!(names("nobody").is_empty());
}

#[test]
fn engagements_name_no_child_and_filter_by_kind() {
    let f = Fixture::new();
    let sweep = f
        .book
        .record_engagement(EngagementDraft {
            kind: EngagementKind::WeaponsSweep,
            topics: vec![],
            establishment_id: SCHOOL,
            year_groups: vec![10, 9, 10],
            audience_size: 0,
            at: Utc::now() - Duration::hours(3),
            sweep_result: Some(SweepResult::NothingFound),
            concerns_arising: String::new(),
            marking: None,
        })
        .unwrap();
    assert_eq!(sweep.year_groups, vec![9, 10]);
    let filter = EngagementFilter {
        kind: Some(EngagementKind::Assembly),
        ..Default::default()
    };
    assert!(f.book.engagements(&filter).unwrap().is_empty());
    assert_eq!(
        f.book.engagements(&EngagementFilter::default()).unwrap(),
        vec![sweep]
    );
}
