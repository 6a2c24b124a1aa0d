//! The device under the server guard, driven through the same functions a sync uses
//! (`apply_answer`, `apply_page`) with hand-made answers and pages: refusals fall out of the
//! view and are kept to resubmit or discard, `server_too_old` is held and released, a pull
//! never stalls on a record, and a far-future version never stops the device writing.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use pocketbook_protocol::wire::{PullEntry, PullResponse, PushOutcome, PushResponse, PushResult};
use pocketbook_protocol::{Entity, Hlc, Mutation, RejectCode, Version};

use super::{apply_answer, apply_page};
use crate::model::{
    Officer, PromptedBy, Role, SupportGiven, Team, VisitDraft, VisitFilter, VisitKind,
    VisitOutcome, VisitUpdate, VulnerabilityFlag, YoungPersonDraft,
};
use crate::{store, OpenConfig, Pocketbook, Provisioning, StoreKey, SystemSources};

const TEAM: Uuid = Uuid::from_u128(0x7ea);

struct Device {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    book: Pocketbook,
}

fn open(path: &std::path::Path) -> Pocketbook {
    Pocketbook::open_with_sources(
        OpenConfig {
            db_path: path.to_path_buf(),
            key: StoreKey::from_bytes(&[7u8; 32]).unwrap(),
            device_name: "guard test".into(),
        },
        Arc::new(SystemSources),
    )
    .unwrap()
}

fn device() -> Device {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("book.db");
    let book = open(&path);
    book.provision(&Provisioning {
        officer: Officer {
            id: Uuid::from_u128(1),
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
        establishments: vec![],
    })
    .unwrap();
    Device {
        _dir: dir,
        path,
        book,
    }
}

fn person(book: &Pocketbook) -> Uuid {
    book.add_young_person(YoungPersonDraft {
        first_name: "A".into(),
        last_name: "B".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(2012, 4, 3),
        age_band: None,
        establishment_id: None,
        year_group: None,
        carers: vec![],
        flags: vec![VulnerabilityFlag::ChildInNeed],
    })
    .unwrap()
    .id
}

fn visit_draft(person: Uuid, narrative: &str) -> VisitDraft {
    let start = Utc::now() - Duration::hours(2);
    VisitDraft {
        kind: VisitKind::WelfareCheck,
        prompted_by: PromptedBy::School,
        young_person_ids: vec![person],
        officer_ids: vec![],
        start,
        end: start + Duration::minutes(40),
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

fn narrate(text: &str) -> VisitUpdate {
    VisitUpdate {
        narrative: Some(text.into()),
        ..VisitUpdate::default()
    }
}

fn outbox(book: &Pocketbook) -> Vec<Mutation> {
    book.pending_changes().unwrap()
}

/// Answers a push of the whole outbox: `outcome` for the seqs it names, applied otherwise.
fn answer(
    book: &Pocketbook,
    outcome: impl Fn(u64) -> Option<PushOutcome>,
    generation: Option<u32>,
) -> super::push_plan::PushTally {
    let sent = outbox(book);
    let reply = PushResponse {
        results: sent
            .iter()
            .map(|m| PushResult {
                seq: m.seq,
                outcome: outcome(m.seq).unwrap_or(PushOutcome::Applied),
            })
            .collect(),
        acked_seq: sent.last().map_or(0, |m| m.seq),
        audit_acked_seq: 0,
        resolved: vec![],
        model_generation: generation,
        server_time_ms: 0,
    };
    book.store
        .write(|tx| apply_answer(tx, &sent, &reply, Utc::now()))
        .unwrap()
}

fn refused(code: RejectCode) -> PushOutcome {
    PushOutcome::Rejected {
        code,
        message: "refused by rule".into(),
    }
}

fn refusals(book: &Pocketbook, held: bool) -> Vec<store::RejectedChange> {
    book.store
        .read(|c| store::rejected_changes(c, held))
        .unwrap()
}

#[test]
fn a_refused_edit_leaves_the_view_and_is_kept_to_correct_and_resubmit() {
    let d = device();
    let p = person(&d.book);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    answer(&d.book, |_| None, None);
    d.book.update_visit(v.id, narrate("second")).unwrap();
    let edit = outbox(&d.book)[0].seq;
    let tally = answer(
        &d.book,
        |s| (s == edit).then(|| refused(RejectCode::InvalidRecord)),
        None,
    );
    assert_eq!(tally.rejected, 1);
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "first");
    let kept = refusals(&d.book, false);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].seq, edit);
    assert_eq!(kept[0].code, "invalid_record");
    assert_eq!(kept[0].fields["narrative"], json!("second"));

    // Corrected and resubmitted: a new change with the next seq, checked like any edit.
    let too_long = BTreeMap::from([("narrative".to_string(), json!("x".repeat(20_001)))]);
    assert!(matches!(
        d.book.resubmit_refused(edit, too_long),
        Err(crate::Error::Invalid(_))
    ));
    let fixed = BTreeMap::from([("narrative".to_string(), json!("third"))]);
    d.book.resubmit_refused(edit, fixed).unwrap();
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "third");
    let pending = outbox(&d.book);
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].seq, edit + 1);
    assert_eq!(pending[0].fields["narrative"], json!("third"));
    assert!(refusals(&d.book, false).is_empty());
    assert!(matches!(
        d.book.discard_refused(edit),
        Err(crate::Error::RefusalNotFound)
    ));
}

#[test]
fn a_refused_edit_under_a_later_pending_edit_keeps_the_later_one() {
    let d = device();
    let p = person(&d.book);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    answer(&d.book, |_| None, None);
    d.book
        .update_visit(
            v.id,
            VisitUpdate {
                place: Some("School".into()),
                ..VisitUpdate::default()
            },
        )
        .unwrap();
    d.book.update_visit(v.id, narrate("second")).unwrap();
    let [place_edit, narrative_edit] = [outbox(&d.book)[0].seq, outbox(&d.book)[1].seq];
    // Only the first edit is sent and refused; the second waits in the outbox.
    let sent = vec![outbox(&d.book)[0].clone()];
    let reply = PushResponse {
        results: vec![PushResult {
            seq: place_edit,
            outcome: refused(RejectCode::Forbidden),
        }],
        acked_seq: place_edit,
        audit_acked_seq: 0,
        resolved: vec![],
        model_generation: None,
        server_time_ms: 0,
    };
    d.book
        .store
        .write(|tx| apply_answer(tx, &sent, &reply, Utc::now()))
        .unwrap();
    let shown = d.book.visit(v.id).unwrap();
    assert_eq!(shown.place, "Home", "the refused edit is gone");
    assert_eq!(shown.narrative, "second", "the pending edit stays");
    assert_eq!(outbox(&d.book)[0].seq, narrative_edit);
}

#[test]
fn a_refused_create_leaves_no_record_and_can_be_discarded() {
    let d = device();
    let p = person(&d.book);
    answer(&d.book, |_| None, None);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    let create = outbox(&d.book)[0].seq;
    answer(
        &d.book,
        |_| Some(refused(RejectCode::ForbiddenBucket)),
        None,
    );
    assert!(matches!(
        d.book.visit(v.id),
        Err(crate::Error::NotFound { .. })
    ));
    assert!(d.book.visits(&VisitFilter::default()).unwrap().is_empty());
    assert_eq!(
        refusals(&d.book, false)[0].fields["narrative"],
        json!("first")
    );
    d.book.discard_refused(create).unwrap();
    assert!(refusals(&d.book, false).is_empty());
    assert!(outbox(&d.book).is_empty());
}

#[test]
fn server_too_old_is_held_in_the_view_and_resent_with_the_next_seq_after_an_upgrade() {
    let d = device();
    let p = person(&d.book);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    answer(&d.book, |_| None, Some(1));
    d.book.update_visit(v.id, narrate("second")).unwrap();
    let edit = outbox(&d.book)[0].clone();
    let tally = answer(
        &d.book,
        |_| Some(refused(RejectCode::ServerTooOld)),
        Some(1),
    );
    assert_eq!((tally.rejected, tally.held), (0, 1));
    assert!(outbox(&d.book).is_empty());
    assert!(
        refusals(&d.book, false).is_empty(),
        "not the officer's to fix"
    );
    assert_eq!(refusals(&d.book, true)[0].seq, edit.seq);
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "second");

    // A pull of the record meanwhile still shows the held edit over the server's state.
    let mut server_fields: Map<String, Value> = match serde_json::to_value(&v).unwrap() {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    server_fields.remove("id");
    let old = d.book.field_versions(Entity::Visit, v.id).unwrap()["place"];
    let snapshot = PullEntry::Snapshot {
        bucket: "team".into(),
        entity: Entity::Visit,
        id: v.id,
        versions: server_fields.keys().map(|k| (k.clone(), old)).collect(),
        fields: server_fields,
        deleted: false,
    };
    pull(&d.book, vec![snapshot]);
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "second");

    // An answer of the same generation releases nothing; a higher one resends it last, with
    // the next seq, its version and bases unchanged.
    answer(&d.book, |_| None, Some(1));
    assert!(outbox(&d.book).is_empty());
    answer(&d.book, |_| None, Some(2));
    let resent = outbox(&d.book);
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].seq, edit.seq + 1);
    assert_eq!(
        (resent[0].version, &resent[0].base, &resent[0].fields),
        (edit.version, &edit.base, &edit.fields)
    );
    assert!(refusals(&d.book, true).is_empty());
    d.book.update_visit(v.id, narrate("third")).unwrap();
    assert_eq!(outbox(&d.book)[1].seq, edit.seq + 2, "no gap");
}

fn v(millis: u64) -> Version {
    Version {
        hlc: Hlc { millis, counter: 0 },
        node: Uuid::from_u128(0x5e),
    }
}

fn pull(book: &Pocketbook, entries: Vec<PullEntry>) -> store::Pulled {
    let page = PullResponse {
        epoch: "e1".into(),
        buckets: vec!["team".into()],
        entries,
        cursors: BTreeMap::from([("team".to_string(), 9)]),
        remaining: 0,
        reference: None,
    };
    book.store
        .write(|tx| apply_page(tx, page, Utc::now()))
        .unwrap()
}

fn visit_fields(person: Uuid, narrative: &str) -> Map<String, Value> {
    let start = Utc::now() - Duration::hours(3);
    let fields = json!({
        "team_id": TEAM, "created_by": Uuid::from_u128(2), "created_at": start,
        "marking": "OFFICIAL", "review_due": "2032-01-01",
        "kind": "welfare_check", "prompted_by": "school", "young_person_ids": [person],
        "officer_ids": [], "start": start, "end": start + Duration::minutes(30),
        "place": "Park", "location": null, "present": [], "outcome": "advice_given",
        "support_given": [], "signposted_to": [], "narrative": narrative, "follow_up": null,
    });
    match fields {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn snapshot(entity: Entity, id: Uuid, fields: Map<String, Value>, at: u64) -> PullEntry {
    PullEntry::Snapshot {
        bucket: "team".into(),
        entity,
        id,
        versions: fields.keys().map(|k| (k.clone(), v(at))).collect(),
        fields,
        deleted: false,
    }
}

#[test]
fn undecodable_snapshots_are_held_raw_the_rest_applies_and_an_upgrade_reads_them() {
    let d = device();
    let p = person(&d.book);
    let now = pocketbook_protocol::unix_millis(Utc::now());
    let good = Uuid::from_u128(0x600d);
    let mut wrong_type = visit_fields(p, "typed wrongly");
    wrong_type.insert("start".into(), json!(42));
    let wrong = Uuid::from_u128(0xbad);
    let mut homework = Map::new();
    homework.insert("happened_at".into(), json!("2026-11-30T10:00:00Z"));
    homework.insert("risk".into(), json!("high"));
    homework.insert("team_id".into(), json!(TEAM));
    let unknown_kind = Uuid::from_u128(0x404);
    let pulled = pull(
        &d.book,
        vec![
            snapshot(Entity::Visit, wrong, wrong_type, now),
            snapshot(
                Entity::Unknown("homework".into()),
                unknown_kind,
                homework,
                now,
            ),
            snapshot(Entity::Visit, good, visit_fields(p, "fine"), now),
        ],
    );
    assert_eq!(pulled.unreadable, 2);
    let visits = d.book.visits(&VisitFilter::default()).unwrap();
    assert_eq!(visits.iter().map(|v| v.id).collect::<Vec<_>>(), [good]);
    assert_eq!(
        d.book.store.read(store::cursors).unwrap()["team"],
        9,
        "the cursor moved on"
    );
    let held = d.book.unreadable_records().unwrap();
    let homework = held.iter().find(|h| h.id == unknown_kind).unwrap();
    assert_eq!(homework.entity, "homework");
    assert_eq!(homework.risk.as_deref(), Some("high"));
    assert_eq!(homework.date.as_deref(), Some("2026-11-30T10:00:00Z"));
    assert!(held.iter().any(|h| h.id == wrong && h.entity == "visit"));

    // A remove drops a held record.
    pull(
        &d.book,
        vec![PullEntry::Remove {
            bucket: "team".into(),
            entity: Entity::Unknown("homework".into()),
            id: unknown_kind,
        }],
    );
    assert!(d
        .book
        .unreadable_records()
        .unwrap()
        .iter()
        .all(|h| h.id != unknown_kind));

    // A held row of a shape this build reads (as an upgraded app finds an older one's) is
    // read on open and becomes an ordinary record.
    let later = Uuid::from_u128(0x1a7e);
    let raw =
        crate::store::open_connection(&d.path, &StoreKey::from_bytes(&[7u8; 32]).unwrap()).unwrap();
    let versions = crate::store::encode_versions(
        &visit_fields(p, "readable now")
            .keys()
            .map(|k| (k.clone(), v(now)))
            .collect(),
    )
    .unwrap();
    raw.execute(
        "INSERT INTO unreadable (id, entity, deleted, data, versions, held_at)
         VALUES (?1, 'visit', 0, ?2, ?3, '2026-01-01T00:00:00Z')",
        rusqlite::params![
            later.to_string(),
            serde_json::to_string(&visit_fields(p, "readable now")).unwrap(),
            versions
        ],
    )
    .unwrap();
    drop(raw);
    let Device { _dir, path, book } = d;
    drop(book);
    let book = open(&path);
    assert_eq!(book.visit(later).unwrap().narrative, "readable now");
    let held = book.unreadable_records().unwrap();
    assert_eq!(held.iter().map(|h| h.id).collect::<Vec<_>>(), [wrong]);
}

#[test]
fn a_stored_row_that_no_longer_decodes_is_set_aside_not_failing_the_list() {
    let d = device();
    let p = person(&d.book);
    let a = d.book.record_visit(visit_draft(p, "a")).unwrap();
    let b = d.book.record_visit(visit_draft(p, "b")).unwrap();
    d.book
        .store
        .read(|c| {
            c.execute(
                "UPDATE records SET data = '{\"start\": 7}' WHERE id = ?1",
                [b.id.to_string()],
            )?;
            Ok(())
        })
        .unwrap();
    let listed = d.book.visits(&VisitFilter::default()).unwrap();
    assert_eq!(listed.iter().map(|v| v.id).collect::<Vec<_>>(), [a.id]);
    let held = d.book.unreadable_records().unwrap();
    assert_eq!(held.iter().map(|h| h.id).collect::<Vec<_>>(), [b.id]);
    // The chronology reads the same way.
    assert_eq!(d.book.visits(&VisitFilter::default()).unwrap().len(), 1);
}

#[test]
fn a_version_a_year_ahead_applies_but_never_stops_the_device_writing() {
    let d = device();
    let p = person(&d.book);
    let year_ahead = pocketbook_protocol::unix_millis(Utc::now() + Duration::days(365));
    let future = Uuid::from_u128(0xf0);
    let pulled = pull(
        &d.book,
        vec![snapshot(
            Entity::Visit,
            future,
            visit_fields(p, "from the future"),
            year_ahead,
        )],
    );
    assert_eq!(pulled.unreadable, 0);
    assert_eq!(d.book.visit(future).unwrap().narrative, "from the future");
    let clock = d
        .book
        .store
        .read(|c| Ok(store::DeviceState::load(c)?.clock.last()))
        .unwrap();
    let ceiling =
        pocketbook_protocol::unix_millis(Utc::now()) + pocketbook_protocol::wire::MAX_CLOCK_SKEW_MS;
    assert!(clock.millis <= ceiling, "the clock was not dragged ahead");
    let next = d.book.record_visit(visit_draft(p, "today")).unwrap();
    let stamped = d.book.field_versions(Entity::Visit, next.id).unwrap()["narrative"];
    assert!(stamped.hlc.millis <= ceiling);
    assert_eq!(d.book.visits(&VisitFilter::default()).unwrap().len(), 2);
}
