//! What a pulled page does to the device, decided as a pure function of plain values: the
//! page, the edits still pending and the buckets held. Returns a list of operations the store
//! then applies in one transaction (`store::pull::apply`). Does no IO; unit-tested without a
//! database or a network.

use std::collections::BTreeSet;

use pocketbook_protocol::merge::{rebase, Conflict, RecordState};
use pocketbook_protocol::wire::PullEntry;
use pocketbook_protocol::{Entity, Mutation, Version};
use uuid::Uuid;

use super::pulled_page::{PulledEntry, PulledPage, PulledSnapshot, SentState};
use crate::error::Result;

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
    /// Same epoch, and at least one bucket is being pulled again from 0 after the server
    /// compacted history its cursor had not reached (`410 resync_required`): what such a
    /// bucket's pass is sent is noted, and after the last page what it was not sent goes.
    Resync,
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

    /// This mode when no bucket is being resynced; [`PullMode::Resync`] when one is and the
    /// epoch is the same (a new epoch starts everything again, and reconciliation decides).
    pub(crate) fn with_resync(self, resyncing: bool) -> PullMode {
        match self {
            PullMode::NewEpoch => PullMode::NewEpoch,
            _ if resyncing => PullMode::Resync,
            mode => mode,
        }
    }
}

/// What a record is written as.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum View {
    /// The server's state as it was sent (no edit of the record is pending).
    Sent(SentState),
    /// The server's state with the device's pending edits laid over it.
    Merged(RecordState),
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
        view: View,
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
    /// This resync pass over `bucket` was sent `item` (a record's or a conflict's id).
    ResyncSeen {
        /// The bucket being resynced.
        bucket: String,
        /// The id sent.
        item: String,
    },
    /// The pass over `bucket` is over (the last page of the pull): with `sweep`, what the
    /// device held there and was not sent leaves it, unless a pending edit names it; without
    /// (a new epoch), the pass is only forgotten.
    FinishResync {
        /// The bucket.
        bucket: String,
        /// Whether to drop what the pass was not sent.
        sweep: bool,
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
    /// The buckets being pulled again from 0 after `410 resync_required`.
    pub resyncing: &'a BTreeSet<String>,
}

/// Plans the operations that apply `page`, in the order they must run. The mode decides
/// whether the device takes on the page's epoch; a restored server's reconciliation and a
/// resync's final sweep will also hang on it. Fails only when a snapshot that must be read
/// (one with edits pending, or of a kind this build does not know) does not read.
pub(crate) fn plan_pull(page: PulledPage, device: PullContext<'_>) -> Result<Vec<PullOp>> {
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
    let last_page = page.remaining == 0;
    for entry in page.entries {
        if let Some((bucket, item)) = resync_item(&entry) {
            if device.resyncing.contains(bucket) && device.mode == PullMode::Resync {
                ops.push(PullOp::ResyncSeen {
                    bucket: bucket.clone(),
                    item,
                });
            }
        }
        let op = match entry {
            PulledEntry::Snapshot(PulledSnapshot {
                bucket,
                entity: Entity::Unknown(entity),
                id,
                state,
            }) => PullOp::HoldUnreadable {
                bucket,
                entity,
                id,
                view: state.into_state()?,
            },
            PulledEntry::Snapshot(PulledSnapshot {
                bucket,
                entity,
                id,
                state,
            }) => {
                let ceiling = device.clock_ceiling_ms;
                newest = newest.max(state.versions().filter(|v| v.hlc.millis <= ceiling).max());
                let deleted = state.deleted;
                let (view, acknowledged) = if pending_ids.contains(&id) {
                    let server = state.into_state()?;
                    let mine = device.pending.iter().filter(|m| m.record_id == id);
                    let view = rebase(Some(&server), mine).unwrap_or_else(|| server.clone());
                    (View::Merged(view), Some(server))
                } else {
                    (View::Sent(state), None)
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
            PulledEntry::Other(PullEntry::Remove { bucket, id, .. }) => PullOp::LeaveBucket {
                bucket,
                id,
                keep: pending_ids.contains(&id),
            },
            PulledEntry::Other(PullEntry::Conflict {
                conflict, resolved, ..
            }) => PullOp::SaveConflict { conflict, resolved },
            // A newer server's kind of entry (a snapshot is never `Other`).
            PulledEntry::Other(PullEntry::Unknown { .. } | PullEntry::Snapshot { .. }) => {
                PullOp::Skip
            }
        };
        ops.push(op);
    }
    ops.extend(
        page.cursors
            .into_iter()
            .map(|(bucket, cursor)| PullOp::SetCursor { bucket, cursor }),
    );
    if device.mode == PullMode::NewEpoch || last_page {
        // A pass ends with the pull's last page; a new epoch ends every pass unswept.
        ops.extend(device.resyncing.iter().map(|bucket| PullOp::FinishResync {
            bucket: bucket.clone(),
            sweep: device.mode == PullMode::Resync,
        }));
    }
    if device.mode == PullMode::NewEpoch {
        ops.push(PullOp::SetEpoch(page.epoch));
    }
    ops.extend(newest.map(PullOp::MergeClock));
    Ok(ops)
}

/// The bucket and id an entry tells a resync pass the server still holds: a record's snapshot
/// (tombstones included) or a conflict; `None` for a removal or an entry this build cannot read.
fn resync_item(entry: &PulledEntry) -> Option<(&String, String)> {
    match entry {
        PulledEntry::Snapshot(PulledSnapshot { bucket, id, .. }) => Some((bucket, id.to_string())),
        PulledEntry::Other(PullEntry::Conflict {
            bucket, conflict, ..
        }) => Some((bucket, conflict.id.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
