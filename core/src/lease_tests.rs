//! The lapsed lease on a real store with seeded time (issue 11, item 4): what a lapsed device
//! still shows and lets the officer change, what it refuses — reads and the records writes
//! would hand back — and that only re-enrolment ends the lapse.

use std::sync::Arc;

use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::model::{
    Establishment, EstablishmentKind, Officer, PromptedBy, Role, SupportGiven, Team, VisitDraft,
    VisitFilter, VisitKind, VisitOutcome, VisitUpdate, YoungPersonDraft,
};
use crate::{store, Error, OpenConfig, Pocketbook, Provisioning, SeededSources, StoreKey};

const TEAM: Uuid = Uuid::from_u128(0x7ea);
const ME: Uuid = Uuid::from_u128(1);
const LEASE_SECONDS: u64 = 3_600;

struct Device {
    _dir: tempfile::TempDir,
    book: Pocketbook,
    time: Arc<SeededSources>,
}

/// An enrolled device (enrolment written as `enroll` writes it) with seeded time.
fn device() -> Device {
    let dir = tempfile::tempdir().unwrap();
    let time = Arc::new(SeededSources::new(11, Utc::now()));
    let book = Pocketbook::open_with_sources(
        OpenConfig {
            db_path: dir.path().join("book.db"),
            key: StoreKey::from_bytes(&[9u8; 32]).unwrap(),
            device_name: "lease test".into(),
        },
        time.clone(),
    )
    .unwrap();
    book.provision(&Provisioning {
        officer: Officer {
            id: ME,
            name: "PC Test".into(),
            shoulder_number: "1".into(),
            role: Role::Officer,
            team_ids: vec![TEAM],
        },
        teams: vec![Team {
            id: TEAM,
            name: "Team".into(),
        }],
        officers: vec![],
        establishments: vec![Establishment {
            id: Uuid::from_u128(0xe1),
            urn: "100000".into(),
            name: "School".into(),
            kind: EstablishmentKind::Secondary,
            ward: None,
            dsl_contact: None,
            dedicated_officer: None,
            priority: 0,
            closed: false,
        }],
    })
    .unwrap();
    enrol(&book, &time);
    Device {
        _dir: dir,
        book,
        time,
    }
}

/// What enrolment and re-enrolment write: a token and a fresh lease.
fn enrol(book: &Pocketbook, time: &SeededSources) {
    use pocketbook_protocol::sources::Sources;
    let now = time.now();
    book.store
        .write(|tx| {
            store::save_enrolment(
                tx,
                now,
                "https://sync.example",
                "token",
                Uuid::from_u128(0x5e),
                LEASE_SECONDS,
            )
        })
        .unwrap();
}

fn child(book: &Pocketbook, first: &str, last: &str) -> Uuid {
    book.add_young_person(YoungPersonDraft {
        first_name: first.into(),
        last_name: last.into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(2012, 4, 3),
        age_band: None,
        establishment_id: None,
        year_group: None,
        carers: vec![],
        flags: vec![],
    })
    .unwrap()
    .id
}

fn visit(book: &Pocketbook, person: Uuid, time: &SeededSources) -> Uuid {
    use pocketbook_protocol::sources::Sources;
    let start = time.now() - Duration::hours(1);
    book.record_visit(VisitDraft {
        kind: VisitKind::WelfareCheck,
        prompted_by: PromptedBy::School,
        young_person_ids: vec![person],
        officer_ids: vec![],
        start,
        end: start + Duration::minutes(30),
        place: "Home".into(),
        location: None,
        present: vec![],
        outcome: VisitOutcome::AdviceGiven,
        support_given: vec![SupportGiven::Food],
        signposted_to: vec![],
        narrative: "Seen at home".into(),
        follow_up: None,
        marking: None,
    })
    .unwrap()
    .id
}

fn narrate(text: &str) -> VisitUpdate {
    VisitUpdate {
        narrative: Some(text.into()),
        ..VisitUpdate::default()
    }
}

fn outbox_len(book: &Pocketbook) -> usize {
    book.store.read(store::outbox).unwrap().len()
}

fn lapsed(r: crate::Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::LeaseExpired))
}

#[test]
fn a_lapsed_device_shows_and_edits_only_what_the_officer_made_since() {
    let d = device();
    let old_child = child(&d.book, "Amira", "Example");
    let old_visit = visit(&d.book, old_child, &d.time);
    d.time.advance(Duration::seconds(
        i64::try_from(LEASE_SECONDS).unwrap() + 60,
    ));

    // Older records: refused to read, and to write (a write would hand them back).
    assert!(lapsed(d.book.visit(old_visit)));
    assert!(lapsed(d.book.young_person(old_child)));
    assert!(d.book.visits(&VisitFilter::default()).unwrap().is_empty());
    let before = outbox_len(&d.book);
    assert!(lapsed(d.book.update_visit(old_visit, narrate("changed"))));
    assert!(lapsed(
        d.book.update_visit(old_visit, VisitUpdate::default())
    ));
    assert!(lapsed(d.book.delete_visit(old_visit, "wrong family")));
    assert_eq!(outbox_len(&d.book), before, "nothing was written");
    assert!(lapsed(d.book.pending_changes()));
    assert!(lapsed(d.book.conflicts()));
    assert!(lapsed(d.book.chronology(old_child, "review")));
    assert!(lapsed(d.book.audit_events()));
    assert!(lapsed(d.book.audit_events_for(old_visit)));
    assert!(lapsed(d.book.unreadable_records()));
    assert!(
        d.book.verify_audit_chain().is_ok(),
        "the chain's check shows no content"
    );
    assert!(
        d.book.sync_status().unwrap().rejected.is_empty(),
        "sync status still answers"
    );

    // Reference data and the session stay.
    assert_eq!(d.book.establishments().unwrap().len(), 1);
    assert_eq!(d.book.session().unwrap().officer.id, ME);

    // The picker: only an exact full name finds a known child; new ones are found as usual.
    assert!(d.book.find_young_people("").unwrap().is_empty());
    assert!(d.book.find_young_people("amira").unwrap().is_empty());
    let exact: Vec<Uuid> = d
        .book
        .find_young_people("  amira   EXAMPLE ")
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(exact, vec![old_child]);
    let new_child = child(&d.book, "Noor", "Sample");
    let found: Vec<Uuid> = d
        .book
        .find_young_people("noor")
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(found, vec![new_child]);

    // A new visit naming the known child is readable and editable.
    let new_visit = visit(&d.book, old_child, &d.time);
    assert_eq!(d.book.visit(new_visit).unwrap().narrative, "Seen at home");
    let changed = d
        .book
        .update_visit(new_visit, narrate("Door answered"))
        .unwrap();
    assert_eq!(changed.narrative, "Door answered");
    let listed: Vec<Uuid> = d
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(listed, vec![new_visit]);

    // Re-enrolment ends the lapse and shows everything again, outbox kept.
    let pending = outbox_len(&d.book);
    enrol(&d.book, &d.time);
    assert_eq!(d.book.visits(&VisitFilter::default()).unwrap().len(), 2);
    assert_eq!(d.book.visit(old_visit).unwrap().narrative, "Seen at home");
    assert_eq!(d.book.pending_changes().unwrap().len(), pending);
}

#[test]
fn the_servers_word_lapses_a_lease_the_device_thought_current_until_re_enrolment() {
    use pocketbook_protocol::sources::Sources;
    let d = device();
    let old_visit = visit(&d.book, child(&d.book, "A", "B"), &d.time);
    d.time.advance(Duration::minutes(5));
    let now = d.time.now();
    d.book
        .store
        .write(|tx| store::mark_lapsed(tx, now))
        .unwrap();
    assert!(lapsed(d.book.visit(old_visit)));
    assert_eq!(d.book.sync_status().unwrap().lease_expires_at, now);
    // Setting the clock back does not help.
    d.time.advance(Duration::minutes(-30));
    assert!(lapsed(d.book.visit(old_visit)));
    d.time.advance(Duration::minutes(30));
    enrol(&d.book, &d.time);
    assert!(d.book.visit(old_visit).is_ok());
}
