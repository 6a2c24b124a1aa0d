//! What a pulled page does to the device, decided as a pure function of plain values: the
//! page, the edits still pending and the buckets held. Returns a list of operations the store
//! then applies in one transaction (`store::pull::apply`). Does no IO; unit-tested without a
//! database or a network.

use std::collections::BTreeSet;

use pocketbook_protocol::merge::{rebase, Conflict, RecordState};
use pocketbook_protocol::wire::{PullEntry, PullResponse};
use pocketbook_protocol::{Entity, Mutation, Version};
use uuid::Uuid;

/// How a page relates to what the device already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PullMode {
    /// Every bucket continues from the cursor the device holds.
    Incremental,
    /// At least one bucket is pulled from 0 (a bucket newly in scope).
    BucketFromZero,
    /// The server's epoch differs from the device's (or the device has none yet): a first
    /// pull, or a server restored from a backup; every bucket starts again from 0.
    NewEpoch,
}

impl PullMode {
    /// The mode of a page: `held_epoch` is the epoch the device's cursors belong to,
    /// `page_epoch` the server's, `from_zero` whether the page starts a bucket the device did
    /// not hold.
    pub(crate) fn of(held_epoch: Option<&str>, page_epoch: &str, from_zero: bool) -> PullMode {
        match held_epoch {
            Some(held) if held == page_epoch && from_zero => PullMode::BucketFromZero,
            Some(held) if held == page_epoch => PullMode::Incremental,
            _ => PullMode::NewEpoch,
        }
    }
}

/// One thing a page does to the store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PullOp {
    /// The device no longer sees `bucket`: forget its cursor, and every record it held that no
    /// other bucket holds and no pending edit names.
    DropBucket {
        /// The bucket.
        bucket: String,
    },
    /// Write a record as the device is to show it (the server's state with still-pending
    /// edits laid over it), noting that `bucket` holds it.
    WriteRecord {
        /// The bucket it came from.
        bucket: String,
        /// Its kind.
        entity: Entity,
        /// Its id.
        id: Uuid,
        /// What to write.
        view: RecordState,
        /// The server's state, kept while edits of the record are pending (`None` when none
        /// are: the view is the server's state).
        acknowledged: Option<RecordState>,
        /// A tombstone erases the record's conflicts.
        erase_conflicts: bool,
    },
    /// The record left `bucket`; forget it when no other bucket holds it and `keep` is false
    /// (an edit of it is still pending).
    LeaveBucket {
        /// The bucket it left.
        bucket: String,
        /// The record.
        id: Uuid,
        /// Whether an edit of it is still pending on this device.
        keep: bool,
    },
    /// Keep a conflict (or note its resolution).
    SaveConflict {
        /// The conflict.
        conflict: Conflict,
        /// Whether someone resolved it.
        resolved: bool,
    },
    /// A snapshot of a kind of record this build does not know: held raw (shown to the
    /// officer as "update the app to read this") until an upgraded app reads it.
    HoldUnreadable {
        /// The bucket it came from.
        bucket: String,
        /// The kind's name as the server spelled it.
        entity: String,
        /// Its id.
        id: Uuid,
        /// The server's state, untouched.
        view: RecordState,
    },
    /// An entry this build cannot read (a newer server's kind of entry): passed over; its
    /// bucket's cursor still moves on.
    Skip,
    /// The bucket's new cursor.
    SetCursor {
        /// The bucket.
        bucket: String,
        /// The position after this page.
        cursor: u64,
    },
    /// The server's epoch the cursors now belong to (in [`PullMode::NewEpoch`] only).
    SetEpoch(String),
    /// The newest version the page carried: the device clock must run past it, so later
    /// local edits sort after what the server vouched for.
    MergeClock(Version),
}

/// What a page needs to know about the device.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PullContext<'a> {
    /// How the page relates to the device's state.
    pub mode: PullMode,
    /// The buckets the device held cursors for before this page.
    pub held_buckets: &'a BTreeSet<String>,
    /// The edits the device's view carries beyond the server's state, oldest first: its
    /// outbox and the mutations held until the server is upgraded.
    pub pending: &'a [Mutation],
    /// The furthest the device clock may be moved by a pulled reading: its own corrected
    /// wall time plus the allowed skew. A reading past it is not adopted (the record still
    /// applies), so no pulled version can stop the device writing.
    pub clock_ceiling_ms: u64,
}

/// Plans the operations that apply `page`, in the order they must run. The mode decides
/// whether the device takes on the page's epoch; a restored server's reconciliation and a
/// resync's final sweep will also hang on it.
pub(crate) fn plan_pull(page: PullResponse, device: PullContext<'_>) -> Vec<PullOp> {
    let pending_ids: BTreeSet<Uuid> = device.pending.iter().map(|m| m.record_id).collect();
    let still_held: BTreeSet<&String> = page.buckets.iter().collect();
    let mut ops: Vec<PullOp> = device
        .held_buckets
        .iter()
        .filter(|b| !still_held.contains(b))
        .map(|bucket| PullOp::DropBucket {
            bucket: bucket.clone(),
        })
        .collect();
    let mut newest: Option<Version> = None;
    for entry in page.entries {
        let op = match entry {
            PullEntry::Snapshot {
                bucket,
                entity: Entity::Unknown(entity),
                id,
                fields,
                versions,
                deleted,
            } => PullOp::HoldUnreadable {
                bucket,
                entity,
                id,
                view: RecordState {
                    fields,
                    versions,
                    deleted,
                },
            },
            PullEntry::Unknown { .. } => PullOp::Skip,
            PullEntry::Snapshot {
                bucket,
                entity,
                id,
                fields,
                versions,
                deleted,
            } => {
                let ceiling = device.clock_ceiling_ms;
                newest = newest.max(
                    versions
                        .values()
                        .copied()
                        .filter(|v| v.hlc.millis <= ceiling)
                        .max(),
                );
                let server = RecordState {
                    fields,
                    versions,
                    deleted,
                };
                let (view, acknowledged) = if pending_ids.contains(&id) {
                    let mine = device.pending.iter().filter(|m| m.record_id == id);
                    let view = rebase(Some(&server), mine).unwrap_or_else(|| server.clone());
                    (view, Some(server))
                } else {
                    (server, None)
                };
                PullOp::WriteRecord {
                    bucket,
                    entity,
                    id,
                    view,
                    acknowledged,
                    erase_conflicts: deleted,
                }
            }
            PullEntry::Remove { bucket, id, .. } => PullOp::LeaveBucket {
                bucket,
                id,
                keep: pending_ids.contains(&id),
            },
            PullEntry::Conflict {
                conflict, resolved, ..
            } => PullOp::SaveConflict { conflict, resolved },
        };
        ops.push(op);
    }
    ops.extend(
        page.cursors
            .into_iter()
            .map(|(bucket, cursor)| PullOp::SetCursor { bucket, cursor }),
    );
    if device.mode == PullMode::NewEpoch {
        ops.push(PullOp::SetEpoch(page.epoch));
    }
    ops.extend(newest.map(PullOp::MergeClock));
    ops
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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

    fn page(buckets: &[&str], entries: Vec<PullEntry>) -> PullResponse {
        PullResponse {
            epoch: "e1".into(),
            buckets: buckets.iter().map(|b| b.to_string()).collect(),
            entries,
            cursors: buckets.iter().map(|b| (b.to_string(), 7)).collect(),
            remaining: 0,
            reference: None,
        }
    }

    fn edit(id: u128, fields: Value, at: u64) -> Mutation {
        Mutation {
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
        }
    }

    fn plan(page: PullResponse, held: &[&str], pending: &[Mutation]) -> Vec<PullOp> {
        let held: BTreeSet<String> = held.iter().map(|b| b.to_string()).collect();
        plan_pull(
            page,
            PullContext {
                mode: PullMode::Incremental,
                held_buckets: &held,
                pending,
                clock_ceiling_ms: 1_000,
            },
        )
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
        assert_eq!(view.fields["n"], json!("x"));
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
                },
            )
        };
        assert_eq!(
            with_mode(PullMode::NewEpoch),
            [PullOp::SetEpoch("e1".into())]
        );
        assert_eq!(with_mode(PullMode::Incremental), []);
        assert_eq!(with_mode(PullMode::BucketFromZero), []);
    }
}
