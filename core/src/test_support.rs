//! What the core's own tests on a real store share: an enrolled device on seeded time, a young
//! person and a visit on it (the lease's tests and the store's each spelled these out).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use pocketbook_protocol::sources::Sources;
use uuid::Uuid;

use crate::model::{
    Establishment, Officer, PromptedBy, Role, SupportGiven, Team, VisitDraft, VisitKind,
    VisitOutcome, YoungPersonDraft,
};
use crate::{store, OpenConfig, Pocketbook, Provisioning, SeededSources, StoreKey};

/// The officer's team.
pub(crate) const TEAM: Uuid = Uuid::from_u128(0x7ea);
/// The officer signed in.
pub(crate) const ME: Uuid = Uuid::from_u128(1);

/// A store in `dir` on time seeded with `seed`, provisioned for [`ME`] of [`TEAM`] with
/// `establishments`, and enrolled with a lease of `lease_seconds`.
pub(crate) fn enrolled_device(
    dir: &tempfile::TempDir,
    seed: u64,
    establishments: Vec<Establishment>,
    lease_seconds: u64,
) -> (Pocketbook, Arc<SeededSources>) {
    let time = Arc::new(SeededSources::new(seed, Utc::now()));
    let book = Pocketbook::open_with_sources(
        OpenConfig {
            db_path: dir.path().join("book.db"),
            key: StoreKey::from_bytes(&[9u8; 32]).unwrap(),
            device_name: "core test".into(),
        },
        time.clone(),
    )
    .unwrap();
    book.provision(&provisioning(establishments)).unwrap();
    enrol(&book, &time, lease_seconds);
    (book, time)
}

/// [`ME`], an officer of [`TEAM`] and no one else's, with `establishments`.
pub(crate) fn provisioning(establishments: Vec<Establishment>) -> Provisioning {
    Provisioning {
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
        establishments,
    }
}

/// What enrolment and re-enrolment write: a token and a fresh lease of `lease_seconds`.
pub(crate) fn enrol(book: &Pocketbook, time: &SeededSources, lease_seconds: u64) {
    let now = time.now();
    book.store
        .write(|tx| {
            store::save_enrolment(
                tx,
                now,
                "https://sync.example",
                "token",
                Uuid::from_u128(0x5e),
                lease_seconds,
            )
        })
        .unwrap();
}

/// A store in `dir` enrolled for an hour, with no establishments.
pub(crate) fn device(dir: &tempfile::TempDir) -> (Pocketbook, Arc<SeededSources>) {
    enrolled_device(dir, 12, vec![], 3_600)
}

/// A young person on the store.
pub(crate) fn young_person(book: &Pocketbook) -> Uuid {
    young_person_named(book, "Amira", "Example")
}

/// A young person called `first` `last`.
pub(crate) fn young_person_named(book: &Pocketbook, first: &str, last: &str) -> Uuid {
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

/// A visit to `person` an hour ago by the seeded clock, narrated "Seen at home".
pub(crate) fn visit(book: &Pocketbook, person: Uuid, time: &SeededSources) -> Uuid {
    book.record_visit(visit_draft(
        person,
        time.now() - Duration::hours(1),
        "Seen at home",
    ))
    .unwrap()
    .id
}

/// A half-hour welfare check of `person` from `start`, narrated `narrative`.
pub(crate) fn visit_draft(person: Uuid, start: DateTime<Utc>, narrative: &str) -> VisitDraft {
    VisitDraft {
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
        narrative: narrative.into(),
        follow_up: None,
        marking: None,
    }
}
