//! Unit tests of the pull planner: pure values in, operations out.

use std::collections::BTreeMap;

use pocketbook_protocol::wire::PullResponse;
use pocketbook_protocol::{Hlc, Marking, MutationKind};
use serde_json::{json, Map, Value};

use super::*;

fn v(millis: u64) -> Version {
    Version {
        hlc: Hlc { millis, counter: 0 },
        node: Uuid::from_u128(9),
    }
}

fn map(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn snapshot(bucket: &str, id: u128, fields: Value, at: u64) -> PullEntry {
    let fields = map(fields);
    PullEntry::Snapshot {
        bucket: bucket.into(),
        entity: Entity::Visit,
        id: Uuid::from_u128(id),
        versions: fields.keys().map(|k| (k.clone(), v(at))).collect(),
        fields,
        deleted: false,
    }
}

fn page(buckets: &[&str], entries: Vec<PullEntry>) -> PulledPage {
    PullResponse {
        epoch: "e1".into(),
        buckets: buckets.iter().map(|b| b.to_string()).collect(),
        entries,
        cursors: buckets.iter().map(|b| (b.to_string(), 7)).collect(),
        remaining: 0,
        reference: None,
    }
    .try_into()
    .unwrap()
}

/// A written view read into maps.
fn state(view: &View) -> RecordState {
    match view {
        View::Sent(sent) => sent.clone().into_state().unwrap(),
        View::Merged(state) => state.clone(),
    }
}

fn edit(id: u128, fields: Value, at: u64) -> Mutation {
    Mutation {
        reason: None,
        seq: 1,
        entity: Entity::Visit,
        record_id: Uuid::from_u128(id),
        kind: MutationKind::Update,
        team_id: Uuid::nil(),
        marking: Marking::Official,
        fields: map(fields).into_iter().collect(),
        base: BTreeMap::new(),
        sets: BTreeMap::new(),
        version: v(at),
        versions: None,
        conflicts: None,
    }
}

fn plan(page: PulledPage, held: &[&str], pending: &[Mutation]) -> Vec<PullOp> {
    let held: BTreeSet<String> = held.iter().map(|b| b.to_string()).collect();
    plan_pull(
        page,
        PullContext {
            mode: PullMode::Incremental,
            held_buckets: &held,
            pending,
            clock_ceiling_ms: 1_000,
            resyncing: &BTreeSet::new(),
        },
    )
    .unwrap()
}

#[test]
fn a_snapshot_is_written_as_sent_when_nothing_is_pending() {
    let ops = plan(
        page(
            &["team:a"],
            vec![snapshot("team:a", 1, json!({"n": "x"}), 5)],
        ),
        &["team:a"],
        &[],
    );
    let PullOp::WriteRecord { view, bucket, .. } = &ops[0] else {
        panic!("{ops:?}")
    };
    assert_eq!(bucket, "team:a");
    assert!(matches!(view, View::Sent(_)), "{view:?}");
    assert_eq!(state(view).fields["n"], json!("x"));
    assert_eq!(
        &ops[1..],
        [
            PullOp::SetCursor {
                bucket: "team:a".into(),
                cursor: 7
            },
            PullOp::MergeClock(v(5)),
        ]
    );
}

#[test]
fn still_pending_edits_are_laid_over_the_servers_state() {
    let pending = [edit(1, json!({"n": "mine"}), 9)];
    let ops = plan(
        page(
            &["team:a"],
            vec![snapshot(
                "team:a",
                1,
                json!({"n": "theirs", "m": "kept"}),
                5,
            )],
        ),
        &["team:a"],
        &pending,
    );
    let PullOp::WriteRecord { view, .. } = &ops[0] else {
        panic!("{ops:?}")
    };
    let view = state(view);
    assert_eq!(view.fields["n"], json!("mine"));
    assert_eq!(view.fields["m"], json!("kept"));
    assert_eq!(view.versions["n"], v(9));
    let PullOp::WriteRecord {
        acknowledged: Some(server),
        ..
    } = &ops[0]
    else {
        panic!("{ops:?}")
    };
    assert_eq!(server.fields["n"], json!("theirs"));
}

#[test]
fn a_removal_keeps_a_record_with_a_pending_edit_and_forgets_one_without() {
    let pending = [edit(1, json!({"n": "mine"}), 9)];
    let removal = |id| PullEntry::Remove {
        bucket: "team:a".into(),
        entity: Entity::Visit,
        id: Uuid::from_u128(id),
    };
    let ops = plan(
        page(&["team:a"], vec![removal(1), removal(2)]),
        &["team:a"],
        &pending,
    );
    assert_eq!(
        ops[..2],
        [
            PullOp::LeaveBucket {
                bucket: "team:a".into(),
                id: Uuid::from_u128(1),
                keep: true
            },
            PullOp::LeaveBucket {
                bucket: "team:a".into(),
                id: Uuid::from_u128(2),
                keep: false
            },
        ]
    );
}

#[test]
fn a_snapshot_sent_with_its_common_version_once_is_written_as_sent_or_read_when_edits_are_pending()
{
    // As a server sends it: the fields in its order, the common version once.
    let sent = || -> PulledPage {
        let text = format!(
            r#"{{"epoch": "e1", "buckets": ["team:a"], "cursors": {{"team:a": 3}},
                "remaining": 0, "entries": [{{"type": "snapshot", "bucket": "team:a",
                "entity": "visit", "id": "{}", "fields": {{"n":"theirs","m":"kept"}},
                "version": "{}", "versions": {{"m": "{}"}}, "deleted": false}}]}}"#,
            Uuid::from_u128(1),
            v(5),
            v(4)
        );
        serde_json::from_str(&text).unwrap()
    };
    let as_sent = plan(sent(), &["team:a"], &[]);
    let PullOp::WriteRecord {
        view: View::Sent(view),
        acknowledged: None,
        ..
    } = &as_sent[0]
    else {
        panic!("{as_sent:?}")
    };
    assert_eq!(view.fields_text(), r#"{"n":"theirs","m":"kept"}"#);
    assert_eq!(as_sent.last(), Some(&PullOp::MergeClock(v(5))));

    let pending = [edit(1, json!({"n": "mine"}), 9)];
    let merged = plan(sent(), &["team:a"], &pending);
    let PullOp::WriteRecord {
        view: View::Merged(view),
        acknowledged: Some(server),
        ..
    } = &merged[0]
    else {
        panic!("{merged:?}")
    };
    assert_eq!(
        (view.versions["n"], view.versions["m"]),
        (v(9), v(4)),
        "the edit's version over the server's own"
    );
    assert_eq!((server.versions["n"], server.versions["m"]), (v(5), v(4)));
}

#[test]
fn a_version_past_the_clock_ceiling_is_written_but_not_adopted_into_the_clock() {
    let ops = plan(
        page(
            &["team:a"],
            vec![
                snapshot("team:a", 1, json!({"n": "now"}), 900),
                snapshot("team:a", 2, json!({"n": "next year"}), 1_001),
            ],
        ),
        &["team:a"],
        &[],
    );
    assert!(matches!(&ops[1], PullOp::WriteRecord { id, .. } if *id == Uuid::from_u128(2)));
    assert_eq!(ops.last(), Some(&PullOp::MergeClock(v(900))));
    let only_future = plan(
        page(
            &["team:a"],
            vec![snapshot("team:a", 2, json!({"n": "next year"}), 5_000)],
        ),
        &["team:a"],
        &[],
    );
    assert!(!only_future
        .iter()
        .any(|op| matches!(op, PullOp::MergeClock(_))));
}

#[test]
fn a_bucket_no_longer_listed_is_dropped_first() {
    let ops = plan(page(&["team:b"], vec![]), &["team:a", "team:b"], &[]);
    assert_eq!(
        ops[0],
        PullOp::DropBucket {
            bucket: "team:a".into()
        }
    );
    assert!(!ops[1..]
        .iter()
        .any(|op| matches!(op, PullOp::DropBucket { .. })));
}

#[test]
fn unknown_entries_are_skipped_records_of_unknown_kinds_held_and_the_cursor_moves() {
    let unknown_kind = PullEntry::Unknown {
        kind: "rumour".into(),
        bucket: "team:a".into(),
    };
    let mut unknown_record = snapshot("team:a", 3, json!({"due": "monday"}), 4);
    if let PullEntry::Snapshot { entity, .. } = &mut unknown_record {
        *entity = Entity::Unknown("homework".into());
    }
    let ops = plan(
        page(&["team:a"], vec![unknown_kind, unknown_record]),
        &["team:a"],
        &[],
    );
    assert_eq!(ops[0], PullOp::Skip);
    assert!(matches!(
        &ops[1],
        PullOp::HoldUnreadable { entity, id, view, .. }
            if entity == "homework" && *id == Uuid::from_u128(3)
                && view.fields["due"] == json!("monday")
    ));
    assert!(ops.contains(&PullOp::SetCursor {
        bucket: "team:a".into(),
        cursor: 7
    }));
    assert!(!ops.iter().any(|op| matches!(op, PullOp::MergeClock(_))));
}

#[test]
fn a_tombstone_erases_its_conflicts_and_a_conflict_entry_is_kept() {
    let mut tombstone = snapshot("team:a", 1, json!({"team_id": "t"}), 6);
    if let PullEntry::Snapshot { deleted, .. } = &mut tombstone {
        *deleted = true;
    }
    let conflict = Conflict {
        id: "c1".into(),
        entity: Entity::Visit,
        record_id: Uuid::from_u128(2),
        field: "narrative".into(),
        losing_value: json!("a"),
        losing_version: v(1),
        winning_value: json!("b"),
        winning_version: v(2),
    };
    let conflict_entry = PullEntry::Conflict {
        bucket: "team:a".into(),
        conflict: conflict.clone(),
        resolved: true,
    };
    let ops = plan(
        page(&["team:a"], vec![tombstone, conflict_entry]),
        &["team:a"],
        &[],
    );
    assert!(matches!(
        ops[0],
        PullOp::WriteRecord {
            erase_conflicts: true,
            ..
        }
    ));
    assert_eq!(
        ops[1],
        PullOp::SaveConflict {
            conflict,
            resolved: true
        }
    );
}

#[test]
fn the_mode_of_a_pull_follows_the_epoch_and_fresh_buckets() {
    assert_eq!(PullMode::of(Some("e1"), "e2", false), PullMode::NewEpoch);
    assert_eq!(PullMode::of(None, "e1", true), PullMode::NewEpoch);
    assert_eq!(
        PullMode::of(Some("e1"), "e1", true),
        PullMode::BucketFromZero
    );
    assert_eq!(PullMode::of(Some("e1"), "e1", false), PullMode::Incremental);
}

#[test]
fn only_a_page_of_a_new_epoch_sets_the_devices_epoch() {
    let held = BTreeSet::new();
    let with_mode = |mode| {
        plan_pull(
            page(&[], vec![]),
            PullContext {
                mode,
                held_buckets: &held,
                pending: &[],
                clock_ceiling_ms: 1_000,
                resyncing: &BTreeSet::new(),
            },
        )
        .unwrap()
    };
    assert_eq!(
        with_mode(PullMode::NewEpoch),
        [PullOp::SetEpoch("e1".into())]
    );
    assert_eq!(with_mode(PullMode::Incremental), []);
    assert_eq!(with_mode(PullMode::BucketFromZero), []);
}

fn plan_resync(page: PulledPage, mode: PullMode, resyncing: &[&str]) -> Vec<PullOp> {
    let held: BTreeSet<String> = ["team:a", "team:b"].iter().map(|b| b.to_string()).collect();
    let resyncing: BTreeSet<String> = resyncing.iter().map(|b| b.to_string()).collect();
    plan_pull(
        page,
        PullContext {
            mode: mode.with_resync(!resyncing.is_empty()),
            held_buckets: &held,
            pending: &[],
            clock_ceiling_ms: 1_000,
            resyncing: &resyncing,
        },
    )
    .unwrap()
}

fn remove(bucket: &str, id: u128) -> PullEntry {
    PullEntry::Remove {
        bucket: bucket.into(),
        entity: Entity::Visit,
        id: Uuid::from_u128(id),
    }
}

fn seen_and_finished(ops: &[PullOp]) -> Vec<String> {
    ops.iter()
        .filter_map(|op| match op {
            PullOp::ResyncSeen { bucket, item } => Some(format!("seen {bucket} {item}")),
            PullOp::FinishResync { bucket, sweep } => Some(format!("finish {bucket} {sweep}")),
            _ => None,
        })
        .collect()
}

#[test]
fn a_resync_mode_is_taken_only_within_the_same_epoch() {
    assert_eq!(PullMode::Incremental.with_resync(true), PullMode::Resync);
    assert_eq!(PullMode::BucketFromZero.with_resync(true), PullMode::Resync);
    assert_eq!(PullMode::NewEpoch.with_resync(true), PullMode::NewEpoch);
    assert_eq!(
        PullMode::Incremental.with_resync(false),
        PullMode::Incremental
    );
}

#[test]
fn a_resync_notes_what_its_buckets_were_sent_and_sweeps_after_the_last_page_only() {
    let entries = vec![
        snapshot("team:a", 1, json!({"n": "x"}), 5),
        snapshot("team:b", 2, json!({"n": "y"}), 5),
        remove("team:a", 3),
    ];
    let mut first = page(&["team:a", "team:b"], entries.clone());
    first.remaining = 10;
    let a1 = Uuid::from_u128(1).to_string();
    // Not the last page: what team:a was sent is noted (not team:b, not a removal); no sweep.
    assert_eq!(
        seen_and_finished(&plan_resync(first, PullMode::Incremental, &["team:a"])),
        [format!("seen team:a {a1}")]
    );
    // The last page ends the pass with a sweep, after the page's own writes.
    let ops = plan_resync(
        page(&["team:a", "team:b"], entries),
        PullMode::Incremental,
        &["team:a"],
    );
    assert_eq!(
        seen_and_finished(&ops),
        [
            format!("seen team:a {a1}"),
            "finish team:a true".to_string()
        ]
    );
    let finish = ops
        .iter()
        .position(|op| matches!(op, PullOp::FinishResync { .. }));
    let last_write = ops
        .iter()
        .rposition(|op| matches!(op, PullOp::WriteRecord { .. } | PullOp::LeaveBucket { .. }));
    assert!(finish > last_write);
}

#[test]
fn a_resync_makes_no_mutation_and_a_new_epoch_ends_it_unswept() {
    let ops = plan_resync(page(&["team:a"], vec![]), PullMode::NewEpoch, &["team:a"]);
    assert_eq!(seen_and_finished(&ops), ["finish team:a false"]);
    // Nothing but store operations: a resync never proposes anything to the server.
    let quiet = plan_resync(page(&["team:a"], vec![]), PullMode::Incremental, &[]);
    assert!(seen_and_finished(&quiet).is_empty());
}

#[test]
fn a_conflict_sent_to_a_resyncing_bucket_is_noted() {
    let conflict = Conflict {
        id: "c1".into(),
        entity: Entity::Visit,
        record_id: Uuid::from_u128(1),
        field: "n".into(),
        losing_value: json!("b"),
        losing_version: v(1),
        winning_value: json!("a"),
        winning_version: v(2),
    };
    let entries = vec![PullEntry::Conflict {
        bucket: "team:a".into(),
        conflict,
        resolved: false,
    }];
    let ops = plan_resync(
        page(&["team:a"], entries),
        PullMode::Incremental,
        &["team:a"],
    );
    assert_eq!(
        seen_and_finished(&ops),
        ["seen team:a c1", "finish team:a true"]
    );
}
