//! The changes that carry the officer's reason (issue 11): a visit delete, and a concern's
//! linked-child correction — one update touching only `young_person_ids`, and an addendum in
//! the same transaction naming the link before and after by record id only.

use super::*;
use crate::model::{
    ConcernCategory, ConcernDraft, Risk, ThriveAssessment, ThriveElement, ValidationError,
};

fn concern(book: &Pocketbook, child: Uuid) -> Uuid {
    let e = |w: &str| ThriveElement {
        finding: w.into(),
        rationale: format!("because {w}"),
    };
    book.raise_concern(ConcernDraft {
        young_person_ids: vec![child],
        happened_at: Utc::now() - Duration::hours(3),
        category: ConcernCategory::Neglect,
        sub_categories: vec![],
        account: "No food at weekends.".into(),
        childs_words: None,
        risk_text: "Ongoing".into(),
        action_text: "DSL told".into(),
        thrive: ThriveAssessment {
            threat: e("threat"),
            harm: e("harm"),
            risk: e("risk"),
            investigation: e("investigation"),
            vulnerability: e("vulnerability"),
            engagement: e("engagement"),
        },
        risk: Some(Risk::Medium),
        assigned_lead: None,
        marking: None,
    })
    .unwrap()
    .id
}

fn refused_field(r: crate::Result<impl std::fmt::Debug>) -> Option<String> {
    match r {
        Err(crate::Error::Invalid(v)) => Some(v.field()),
        _ => None,
    }
}

#[test]
fn a_visit_is_deleted_only_with_a_reason_which_its_tombstone_carries() {
    let d = device();
    let child = person(&d.book);
    let visit = d.book.record_visit(visit_draft(child, "x")).unwrap().id;
    for blank in ["", "   "] {
        assert_eq!(
            refused_field(d.book.delete_visit(visit, blank)),
            Some("reason".into())
        );
    }
    assert_eq!(
        refused_field(d.book.delete_visit(visit, &"x".repeat(501))),
        Some("reason".into())
    );
    d.book.delete_visit(visit, "  Recorded twice ").unwrap();
    let last = outbox(&d.book).pop().unwrap();
    assert_eq!(last.kind, pocketbook_protocol::MutationKind::Delete);
    assert_eq!(last.reason.as_deref(), Some("Recorded twice"));
}

#[test]
fn a_child_correction_is_one_update_of_the_link_and_an_addendum_in_one_write() {
    let d = device();
    let (wrong, right) = (person(&d.book), person(&d.book));
    let id = concern(&d.book, wrong);
    d.book.add_addendum(id, "School confirms.").unwrap();
    let before = outbox(&d.book).len();

    assert_eq!(
        refused_field(d.book.correct_concern_child(id, vec![right], " ")),
        Some("reason".into())
    );
    assert_eq!(
        refused_field(d.book.correct_concern_child(id, vec![], "Wrong child")),
        Some("young_person_ids".into())
    );
    assert!(matches!(
        d.book
            .correct_concern_child(id, vec![Uuid::from_u128(9)], "Wrong child"),
        Err(crate::Error::Invalid(
            ValidationError::UnknownYoungPerson { .. }
        ))
    ));
    d.book
        .correct_concern_child(id, vec![wrong], "No change")
        .unwrap();
    assert_eq!(
        outbox(&d.book).len(),
        before,
        "nothing refused or unchanged is written"
    );

    let corrected = d
        .book
        .correct_concern_child(id, vec![right], "Wrong child selected")
        .unwrap();
    assert_eq!(corrected.young_person_ids, vec![right]);
    let written = outbox(&d.book);
    let [update, note] = &written[before..] else {
        panic!("two mutations: {written:?}")
    };
    assert_eq!(update.record_id, id);
    assert_eq!(
        update.fields.keys().collect::<Vec<_>>(),
        ["young_person_ids"]
    );
    assert_eq!(update.reason.as_deref(), Some("Wrong child selected"));
    assert_eq!(note.entity, Entity::Addendum);
    assert_eq!(note.reason, None);
    let text = note.fields["text"].as_str().unwrap();
    assert!(text.contains("Wrong child selected"));
    assert!(text.contains(&format!("Before: {wrong}")));
    assert!(text.contains(&format!("After: {right}")));
    assert!(!text.contains("A B"), "no names: {text}");
    // The addendum written before the correction (naming the child it had then) still lists
    // with the concern.
    assert_eq!(d.book.addenda(id).unwrap().len(), 2);
}
