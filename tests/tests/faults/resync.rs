//! Compaction and resync (issue 12, item 3), on SQLite and on PostgreSQL: a device syncs; a
//! colleague deletes records, moves one out of its scope and makes two conflicts, one then
//! resolved; the server's time passes the horizon and it compacts. The device's next pull is
//! answered `410 resync_required`; it pulls again from 0 and ends holding exactly what a fresh
//! device of the same officer holds; its pending edit of a deleted record ends refused
//! `record_deleted` and nothing is resurrected; a late create of a deleted id is refused the
//! same way; a cursor at the top is not asked to resync; compaction keeps every live record
//! and every open conflict.

use pocketbook_tests::process_server::server_binary;
use std::collections::BTreeMap;

use chrono::Duration;
use pocketbook_core::model::{
    ConcernFilter, ConcernTriageUpdate, Marking, VisitFilter, VisitUpdate,
};
use pocketbook_core::Pocketbook;
use pocketbook_protocol::wire::{team_bucket, PushOutcome, PushRequest};
use pocketbook_protocol::{Entity, Hlc, Mutation, MutationKind, RejectCode, Role, Version};
use pocketbook_sync_server::store::{Compaction, Device, Store};
use pocketbook_tests::openapi::ApiDocument;
use pocketbook_tests::resync_fixture::ResyncServer;
use pocketbook_tests::{concern_draft, person_draft, visit_draft};
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;

/// What an officer's device shows: visits (id → narrative and place), concerns, young people
/// and open conflicts.
fn view(book: &Pocketbook) -> Value {
    let visits: BTreeMap<String, Value> = book
        .visits(&VisitFilter::default())
        .expect("visits")
        .into_iter()
        .map(|v| (v.id.to_string(), json!([v.narrative, v.place])))
        .collect();
    let mut concerns: Vec<String> = book
        .concerns(&ConcernFilter::default())
        .expect("concerns")
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    concerns.sort();
    let mut people: Vec<String> = book
        .find_young_people("")
        .expect("young people")
        .into_iter()
        .map(|p| p.id.to_string())
        .collect();
    people.sort();
    let mut conflicts: Vec<String> = book
        .conflicts()
        .expect("conflicts")
        .into_iter()
        .map(|c| c.id)
        .collect();
    conflicts.sort();
    json!({ "visits": visits, "concerns": concerns, "people": people, "conflicts": conflicts })
}

fn narrative(text: &str) -> VisitUpdate {
    VisitUpdate {
        narrative: Some(text.into()),
        ..Default::default()
    }
}

fn place_and_narrative(place: &str, text: &str) -> VisitUpdate {
    VisitUpdate {
        place: Some(place.into()),
        narrative: Some(text.into()),
        ..Default::default()
    }
}

async fn compaction_and_resync<S: Store + Compaction>(server: ResyncServer<S>) {
    let peer = server.officer("Peer", Role::Officer).await;
    let author = server.officer("Author", Role::Officer).await;
    let sup = server.officer("Sup", Role::Supervisor).await;

    // The author records a child, three visits and a concern.
    let author_phone = server.device(author.id).await;
    let mut person = person_draft();
    person.establishment_id = Some(server.school);
    let child = author_phone.book.add_young_person(person).unwrap().id;
    let v1 = author_phone
        .book
        .record_visit(visit_draft(child, 5))
        .unwrap()
        .id;
    let v2 = author_phone
        .book
        .record_visit(visit_draft(child, 4))
        .unwrap()
        .id;
    let v3 = author_phone
        .book
        .record_visit(visit_draft(child, 3))
        .unwrap()
        .id;
    let mut draft = concern_draft(child, 2);
    draft.assigned_lead = None;
    draft.marking = Some(Marking::Official);
    let concern = author_phone.book.raise_concern(draft).unwrap().id;
    author_phone.book.sync().await.unwrap();

    // Device A syncs, then edits v1 offline; a raw puller keeps the cursors of that moment.
    let a = server.device(peer.id).await;
    a.book.sync().await.unwrap();
    assert_eq!(a.book.visits(&VisitFilter::default()).unwrap().len(), 3);
    a.book.update_visit(v1, narrative("A's late note")).unwrap();
    let raw = server.raw(peer.id).await;
    let old = raw.pull_all().await;

    // The supervisor deletes v1 and v2, raises the concern out of A's sight and edits v3,
    // while the author edits the same fields of v3: two conflicts.
    let sup_phone = server.device(sup.id).await;
    sup_phone.book.sync().await.unwrap();
    sup_phone.book.delete_visit(v1, "entered twice").unwrap();
    sup_phone.book.delete_visit(v2, "entered twice").unwrap();
    sup_phone
        .book
        .update_concern_triage(
            concern,
            ConcernTriageUpdate {
                marking: Some(Marking::OfficialSensitive),
                ..Default::default()
            },
        )
        .unwrap();
    sup_phone
        .book
        .update_visit(v3, place_and_narrative("Library", "Supervisor's account"))
        .unwrap();
    author_phone
        .book
        .update_visit(v3, place_and_narrative("Park", "Author's account"))
        .unwrap();
    sup_phone.book.sync().await.unwrap();
    author_phone.book.sync().await.unwrap();
    let open = server.store.conflicts(false).await.unwrap();
    assert_eq!(open.len(), 2, "both fields of v3 conflict");
    assert!(server
        .store
        .resolve_conflict(open[0].0.id.clone())
        .await
        .unwrap());
    let top = raw.pull_all().await;

    // Time passes the horizon; the server compacts.
    let live_before = server.store.validate_store().await.unwrap().checked;
    let open_before = server.store.conflicts(false).await.unwrap();
    // Nothing is older than the horizon yet: nothing goes (the run notes the time of the
    // admin's resolution, which no push stamped).
    let early = server.store.compact(DAY_MS).await.unwrap();
    assert_eq!(
        (
            early.removes,
            early.tombstone_entries,
            early.conflicts,
            early.records
        ),
        (0, 0, 0, 0)
    );
    server.clock.advance(Duration::days(3));
    let report = server.store.compact(DAY_MS).await.unwrap();
    assert!(report.horizon_seq > 0);
    assert!(
        report.removes >= 1,
        "the concern's remove from the team bucket: {report:?}"
    );
    assert!(report.tombstone_entries >= 2, "{report:?}");
    assert_eq!(report.conflicts, 1, "the resolved conflict");
    assert_eq!(report.records, 2, "v1 and v2 kept as minimal tombstones");
    assert_eq!(
        server.store.tombstone_ids().await.unwrap(),
        [v1, v2].into_iter().collect()
    );
    assert_eq!(
        server.store.validate_store().await.unwrap().checked,
        live_before
    );
    assert_eq!(server.store.conflicts(false).await.unwrap(), open_before);

    // A cursor at the top is served; one below the horizon is told which buckets to pull
    // again, and served nothing.
    let (status, body) = raw.page(&top["epoch"], &top["cursors"]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = raw.page(&old["epoch"], &old["cursors"]).await;
    assert_eq!(status, 410, "{body}");
    assert_eq!(body["code"], "resync_required");
    assert_eq!(body["buckets"], json!([team_bucket(server.team)]));
    assert!(body.get("entries").is_none());
    // Pulling again from 0 one entry a page, every page below the horizon is served: the
    // server tells this device's own pass from a cursor that missed compacted history.
    let team = team_bucket(server.team);
    let (mut cursors, mut below) = (json!({}), Vec::new());
    loop {
        let (status, body) = raw.page_of(&old["epoch"], &cursors, 1).await;
        assert_eq!(status, 200, "{body}");
        cursors = body["cursors"].clone();
        if body["remaining"] == 0 {
            break;
        }
        below.push(cursors[&team].clone());
    }
    // The pass stopped at or below where the stale cursor stood (so below the horizon, which
    // answered 410 there), and went on.
    let stale = old["cursors"][&team].as_u64().unwrap();
    assert!(!below.is_empty());
    assert!(
        below
            .iter()
            .all(|c| c.as_u64().is_some_and(|c| c > 0 && c <= stale)),
        "{below:?}"
    );
    let doc = ApiDocument::fetch(&server.url).await;
    doc.check("post", "/v1/sync/pull", 410, &body).unwrap();

    // A syncs: its edit of v1 is refused record_deleted and kept; its pull resyncs, and it
    // ends holding what a fresh device of the same officer holds.
    let report = a.book.sync().await.unwrap();
    assert_eq!(report.rejected, 1);
    assert!(
        report.removed >= 3,
        "v1, v2 and the concern left A: {report:?}"
    );
    let refused = a.book.sync_status().unwrap().rejected;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].record_id, v1);
    assert_eq!(refused[0].code, RejectCode::RecordDeleted.as_str());
    let fresh = server.device(peer.id).await;
    fresh.book.sync().await.unwrap();
    assert_eq!(view(&a.book), view(&fresh.book));
    let held = view(&a.book);
    assert_eq!(
        held["visits"].as_object().map(|v| v.len()),
        Some(1),
        "{held}"
    );
    assert!(held["visits"].get(v3.to_string()).is_some());
    assert_eq!(held["concerns"], json!([]));
    assert_eq!(held["conflicts"].as_array().map(Vec::len), Some(1));
    // A second sync changes nothing and proposes nothing.
    let again = a.book.sync().await.unwrap();
    assert_eq!((again.pushed, again.removed, again.rejected), (0, 0, 0));
    assert_eq!(view(&a.book), held);
    assert_eq!(server.store.tombstone_ids().await.unwrap().len(), 2);
    assert_eq!(
        server.store.validate_store().await.unwrap().checked,
        live_before
    );

    // A late create of a deleted id is refused record_deleted; its delete is acknowledged;
    // neither brings it back.
    // The create carries the record as it was before its delete, in its author's name.
    let device = Device {
        device_id: raw.device_id,
        officer: author.clone(),
    };
    let v2_text = v2.to_string();
    let as_it_was: BTreeMap<String, Value> = old["entries"]
        .as_array()
        .and_then(|entries| entries.iter().find(|e| e["id"] == v2_text.as_str()))
        .and_then(|e| e["fields"].as_object())
        .map(|fields| fields.clone().into_iter().collect())
        .expect("v2 as first pulled");
    let now_ms = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap();
    let mutation = |seq: u64, kind: MutationKind| Mutation {
        seq,
        entity: Entity::Visit,
        record_id: v2,
        kind,
        team_id: server.team,
        marking: Marking::Official,
        fields: if kind == MutationKind::Create {
            as_it_was.clone()
        } else {
            BTreeMap::new()
        },
        base: BTreeMap::new(),
        sets: BTreeMap::new(),
        version: Version {
            hlc: Hlc {
                millis: now_ms + seq,
                counter: 0,
            },
            node: raw.device_id,
        },
        reason: None,
        versions: None,
        conflicts: None,
    };
    let answer = server
        .store
        .push(
            device,
            PushRequest {
                mutations: vec![
                    mutation(1, MutationKind::Create),
                    mutation(2, MutationKind::Update),
                    mutation(3, MutationKind::Delete),
                ],
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .expect("push taken");
    let outcomes: Vec<_> = answer.results.into_iter().map(|r| r.outcome).collect();
    for refused in &outcomes[..2] {
        assert!(
            matches!(refused, PushOutcome::Rejected { code, .. } if *code == RejectCode::RecordDeleted),
            "{refused:?}"
        );
    }
    assert_eq!(outcomes[2], PushOutcome::Applied);
    assert_eq!(
        server.store.validate_store().await.unwrap().checked,
        live_before
    );
    let fresh_again = server.device(peer.id).await;
    fresh_again.book.sync().await.unwrap();
    assert_eq!(view(&fresh_again.book), held);
}

#[tokio::test(flavor = "multi_thread")]
async fn compaction_and_resync_on_sqlite() {
    compaction_and_resync(ResyncServer::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn compaction_and_resync_on_postgres() {
    compaction_and_resync(ResyncServer::postgres().await).await;
}

#[test]
fn the_compact_command_refuses_a_horizon_shorter_than_the_lease_and_prints_counts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let run = |args: &[&str]| {
        std::process::Command::new(server_binary())
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run pocketbook-server")
    };
    let short = run(&["compact", "--horizon-days", "7"]);
    assert!(!short.status.success());
    let said = String::from_utf8_lossy(&short.stderr);
    assert!(
        said.contains("--horizon-days") && said.contains("lease"),
        "{said}"
    );
    let serve = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--compact-horizon-days",
        "27",
    ]);
    assert!(!serve.status.success(), "serve refuses it before listening");
    assert!(String::from_utf8_lossy(&serve.stderr).contains("--compact-horizon-days"));
    let done = run(&["compact"]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let line = String::from_utf8_lossy(&done.stdout);
    assert!(
        line.starts_with("compacted up to change 0: 0 remove entries"),
        "{line}"
    );
}
