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
use crate::model::{VisitDraft, VisitFilter, VisitUpdate, VulnerabilityFlag, YoungPersonDraft};
use crate::test_support::TEAM;
use crate::{store, OpenConfig, Pocketbook, StoreKey, SystemSources};

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
    book.provision(&crate::test_support::provisioning(vec![]))
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
    crate::test_support::visit_draft(person, Utc::now() - Duration::hours(2), narrative)
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
        .write(|tx| apply_page(tx, page.try_into()?, Utc::now()))
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

mod left_scope;
mod pulls;
mod reasons;
mod refusals;
mod resync;
