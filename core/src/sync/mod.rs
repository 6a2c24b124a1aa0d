//! Sync (DESIGN §5): push then pull against the server, the only arbiter. Network calls are
//! async (run them on a tokio runtime); between them the store is written in short synchronous
//! transactions. What an answer does is planned by pure functions (`push_plan`, `pull_plan`)
//! and applied by the store; this module does the IO in order and reports progress.

mod enrol;
mod fork;
#[cfg(test)]
mod guard_tests;
mod http;
mod page_decoder;
mod pull;
pub(crate) mod pull_plan;
pub(crate) mod pulled_page;
pub(crate) mod push_plan;
mod reconcile;
pub(crate) mod restore_plan;

use std::collections::BTreeSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;

use pocketbook_protocol::wire::{PullRequest, PushRequest, PushResponse, MAX_CLOCK_SKEW_MS};
use pocketbook_protocol::ErrorCode;

pub use crate::store::RejectedChange;

use crate::error::{Error, Result};
use crate::store;
use crate::{ChangeOrigin, CoreEvent, Pocketbook};
use http::{CallError, Http};
use pull_plan::{plan_pull, PullContext, PullMode};
use pulled_page::PulledPage;
use push_plan::plan_push_answer;

/// Most mutations sent in one push (halved while the server answers 413).
const PUSH_BATCH: usize = 500;
/// Entries asked for per pull page.
const PULL_PAGE: u32 = 1_000;

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Mutations the server took (applied or merged).
    pub pushed: u64,
    /// Of those, how many met concurrent edits.
    pub merged: u64,
    /// Mutations the server refused (see `sync_status`).
    pub rejected: u64,
    /// Mutations the server could not take yet (`server_too_old`): held and resent once it is
    /// upgraded (see `sync_status`).
    pub held: u64,
    /// Records restored to a server restored from a backup (its `restore` mutations taken).
    pub restored: u64,
    /// Record snapshots received.
    pub pulled: u64,
    /// Records removed from this device because they left its scope.
    pub removed: u64,
    /// Conflicts received.
    pub conflicts: u64,
    /// Records received that this build cannot read, held for an upgraded app
    /// (see `Pocketbook::unreadable_records`).
    pub unreadable: u64,
    /// Bytes sent on the wire (compressed request bodies).
    pub bytes_sent: u64,
    /// Bytes received on the wire (compressed answer bodies).
    pub bytes_received: u64,
    /// How long it took.
    pub duration_ms: u64,
}

impl SyncReport {
    /// Whether the sync changed what this device holds or has waiting: it pushed or had
    /// refused any mutation, or pulled, removed or received a conflict.
    fn moved_anything(&self) -> bool {
        self.pushed
            + self.rejected
            + self.held
            + self.pulled
            + self.removed
            + self.conflicts
            + self.restored
            > 0
    }
}

/// Which half of a sync is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    /// Sending the outbox.
    Push,
    /// Receiving changes.
    Pull,
}

/// Progress of a sync, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncProgress {
    /// Push or pull.
    pub phase: SyncPhase,
    /// Items done so far in this phase.
    pub done: u64,
    /// Items known in this phase (grows as the server reports more).
    pub total: u64,
}

/// Where sync stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    /// The server this device is enrolled with.
    pub server_url: String,
    /// When it last synced.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// When the lease runs out without a sync.
    pub lease_expires_at: DateTime<Utc>,
    /// Mutations waiting to be pushed.
    pub pending: u64,
    /// Conflicts not yet resolved.
    pub open_conflicts: u64,
    /// Mutations the server refused (kept in its quarantine; never resent as they are): the
    /// officer corrects and resubmits each (`resubmit_refused`) or discards it
    /// (`discard_refused`). Their records show the state without them.
    pub rejected: Vec<RejectedChange>,
    /// Mutations waiting for the server's upgrade (refused `server_too_old`): nothing to fix;
    /// still shown in their records and resent by a sync once the server can take them.
    pub waiting_for_server: Vec<RejectedChange>,
}

/// How to resolve a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictChoice {
    /// Keep the value that won.
    KeepCurrent,
    /// Put the losing value back (a new edit that syncs like any other).
    TakeLosing,
}

impl Pocketbook {
    /// Pushes the outbox, then pulls until up to date.
    ///
    /// While the lease has lapsed (by the device's reckoning, or the server answers
    /// `401 lease_expired`) the push still goes — what an officer recorded at a door must
    /// reach the station — and its answers are applied; then the sync ends with
    /// [`Error::LeaseExpired`] without pulling, until `reauthenticate`. Nothing is wiped.
    pub async fn sync(&self) -> Result<SyncReport> {
        self.sync_with_progress(|_| {}).await
    }

    /// [`Pocketbook::sync`], calling `progress` after every batch and page (as observers hear
    /// `SyncProgress`). Observers hear `DataChanged(Synced)` once the sync ends if it pushed,
    /// pulled or removed anything, even if it failed part way (what committed stays).
    pub async fn sync_with_progress(
        &self,
        progress: impl Fn(SyncProgress) + Send + Sync,
    ) -> Result<SyncReport> {
        let tell = |p: SyncProgress| {
            progress(p);
            self.events.emit(CoreEvent::SyncProgress(p));
        };
        let mut report = SyncReport::default();
        match self.sync_inner(&tell, &mut report).await {
            Err(Error::DeviceRevoked) => {
                // Only the server this device enrolled with can say so: erase everything.
                self.store.close_and_delete()?;
                Err(Error::DeviceRevoked)
            }
            outcome => {
                if let Err(Error::LeaseExpired) = &outcome {
                    // The server's word (or the device's reckoning) stands until re-enrolment.
                    let now = self.now();
                    self.store.write(|tx| store::mark_lapsed(tx, now))?;
                }
                if report.moved_anything() {
                    self.events.data_changed(ChangeOrigin::Synced);
                }
                outcome.map(|()| report)
            }
        }
    }

    async fn sync_inner(
        &self,
        progress: &(impl Fn(SyncProgress) + Send + Sync),
        report: &mut SyncReport,
    ) -> Result<()> {
        let started = Instant::now();
        self.store.read(store::refuse_while_forked)?;
        let enrolled = self
            .store
            .read(store::enrolled)?
            .ok_or(Error::NotEnrolled)?;
        let trusted = self.store.read(store::trusted)?;
        let http = std::sync::Arc::new(
            Http::new(&enrolled.server_url, Some(enrolled.token.clone()), &trusted)?
                .routed(self.transport.clone()),
        );

        // A reconciliation with a restored server a crash interrupted goes first.
        self.resume_reconcile(&http, report).await?;
        let mut reconciles = 0;

        // Push, in batches, halving a batch the server finds too large.
        let mut batch = PUSH_BATCH;
        let mut restamped = false;
        // Mutations held after `server_too_old` wait for an answer naming a newer model
        // generation: with nothing else to send, one empty push asks for it.
        let mut asked = !self.store.read(|c| Ok(!store::held(c)?.is_empty()))?;
        let total = self.store.read(store::outbox)?.len() as u64;
        let mut done = 0;
        progress(SyncProgress {
            phase: SyncPhase::Push,
            done,
            total,
        });
        loop {
            let (mutations, audit, resolved, acked, epoch) = self.store.read(|c| {
                let enrolled = store::enrolled(c)?.ok_or(Error::NotEnrolled)?;
                let mut mutations = store::outbox(c)?;
                mutations.truncate(batch);
                let audit =
                    store::audit_events_after(c, enrolled.audit_acked_seq, batch.max(1) * 4)?;
                let resolved = store::resolutions_to_push(c)?;
                Ok((
                    mutations,
                    audit,
                    resolved,
                    store::acked_position(c)?,
                    enrolled.epoch,
                ))
            })?;
            if mutations.is_empty() && audit.is_empty() && resolved.is_empty() && asked {
                break;
            }
            asked = true;
            let request = PushRequest {
                mutations,
                audit,
                resolved,
                epoch,
                acked: Some(acked),
                refused: Vec::new(),
            };
            let answer: PushResponse = match http.post("/v1/sync/push", &request).await {
                Ok(answer) => answer,
                Err(CallError::TooLarge) if batch > 1 => {
                    batch /= 2;
                    continue;
                }
                Err(CallError::ClockSkew { server_time_ms }) if !restamped => {
                    // Correct the clock by the server's, re-stamp what is unacknowledged, resend.
                    let now = self.now();
                    self.store
                        .write(|tx| store::restamp(tx, server_time_ms, now))?;
                    restamped = true;
                    continue;
                }
                Err(CallError::Forked(position)) => {
                    self.learn_held_outcomes(&http, &request, &position).await?;
                    return self.become_new_device(&position);
                }
                Err(CallError::EpochChanged { epoch, position }) if reconciles < 2 => {
                    reconciles += 1;
                    self.reconcile(&http, epoch, position, report).await?;
                    continue;
                }
                Err(e) => return Err(flatten(e)),
            };
            let now = self.now();
            let tally = self.store.write(|tx| {
                let tally = apply_answer(tx, &request.mutations, &answer, now)?;
                // A resolution the server did not take (its table refuses this officer) stays
                // open there: reopen it here, or this device would hide an open conflict and
                // send the resolution again and again (found by the fault simulation).
                let refused = request
                    .resolved
                    .iter()
                    .take(pocketbook_protocol::limits::MAX_RESOLVED_PER_PUSH)
                    .filter(|id| !answer.resolved.contains(id));
                store::reopen_conflicts(tx, refused)?;
                Ok(tally)
            })?;
            report.pushed += tally.applied + tally.merged;
            report.merged += tally.merged;
            report.rejected += tally.rejected;
            report.held += tally.held;
            done += request.mutations.len() as u64;
            progress(SyncProgress {
                phase: SyncPhase::Push,
                done,
                total: total.max(done),
            });
            let progressed = request
                .mutations
                .last()
                .is_none_or(|m| answer.acked_seq >= m.seq);
            if !progressed {
                return Err(Error::Network {
                    reason: "the server did not acknowledge the changes it was sent".into(),
                });
            }
        }

        // A lapsed lease pulls nothing: the server would refuse, and a device must not renew
        // its own lease by syncing (only re-enrolment does).
        if self
            .store
            .read(|c| crate::lease::lapse(c, self.now()))?
            .is_some()
        {
            return Err(Error::LeaseExpired);
        }

        self.pull_pages(&http, progress, report, &mut reconciles)
            .await?;
        let now = self.now();
        self.store.write(|tx| store::mark_synced(tx, now))?;
        report.bytes_sent = http.bytes_sent.load(std::sync::atomic::Ordering::Relaxed);
        report.bytes_received = http
            .bytes_received
            .load(std::sync::atomic::Ordering::Relaxed);
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(())
    }

    /// Where sync stands: server, last sync, lease, pending count, refused mutations.
    ///
    /// While the lease has lapsed the refused and held changes are listed without their
    /// content (`fields` empty), and `lease_expires_at` is the instant it lapsed.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        let now = self.now();
        self.store.read(|c| {
            let enrolled = store::enrolled(c)?.ok_or(Error::NotEnrolled)?;
            let lapse = crate::lease::lapse(c, now)?;
            let mut rejected = store::rejected_changes(c, false)?;
            let mut waiting_for_server = store::rejected_changes(c, true)?;
            if lapse.is_some() {
                for change in rejected.iter_mut().chain(waiting_for_server.iter_mut()) {
                    change.fields.clear();
                }
            }
            Ok(SyncStatus {
                lease_expires_at: lapse.map_or(enrolled.lease_expires_at(), |l| l.since),
                server_url: enrolled.server_url,
                last_sync_at: enrolled.last_sync_at,
                pending: store::outbox(c)?.len() as u64,
                open_conflicts: store::open_conflicts(c)?.len() as u64,
                rejected,
                waiting_for_server,
            })
        })
    }
}

/// A pull from the cursors held, under the epoch held; `reference` asks for the reference
/// data too (a sync's first page).
pub(crate) fn pull_request(conn: &rusqlite::Connection, reference: bool) -> Result<PullRequest> {
    let enrolled = store::enrolled(conn)?.ok_or(Error::NotEnrolled)?;
    Ok(PullRequest {
        epoch: enrolled.epoch,
        cursors: store::cursors(conn)?,
        limit: Some(PULL_PAGE),
        reference,
        common_version: true,
    })
}

/// Applies one pulled page in the caller's transaction: its reference data, then what
/// `plan_pull` decides from the device's state.
pub(crate) fn apply_page(
    tx: &rusqlite::Connection,
    page: PulledPage,
    now: DateTime<Utc>,
) -> Result<store::Pulled> {
    if let Some(reference) = &page.reference {
        store::reference_install(tx, reference, now)?;
    }
    let pending = store::pending_edits(tx)?;
    let held = store::cursors(tx)?;
    let held_epoch = store::enrolled(tx)?.and_then(|e| e.epoch);
    let from_zero = page.cursors.keys().any(|b| !held.contains_key(b));
    // A bucket the device holds records of counts as held even with no cursor (a
    // reconciliation drops every cursor): one the server no longer lists is dropped.
    let mut held_buckets: BTreeSet<String> = held.into_keys().collect();
    held_buckets.extend(store::noted_buckets(tx)?);
    let resyncing = store::resync::resyncing(tx)?;
    let mode = PullMode::of(held_epoch.as_deref(), &page.epoch, from_zero)
        .with_resync(!resyncing.is_empty());
    let pending_ids = pending.iter().map(|m| m.record_id).collect();
    let clock_ceiling_ms = store::DeviceState::load(tx)?
        .corrected_ms(now)
        .saturating_add(MAX_CLOCK_SKEW_MS);
    let ops = plan_pull(
        page,
        PullContext {
            mode,
            held_buckets: &held_buckets,
            pending: &pending,
            clock_ceiling_ms,
            resyncing: &resyncing,
        },
    )?;
    store::apply_pull(tx, ops, &pending_ids, now)
}

/// Applies the answer to a push of `sent` in the caller's transaction; returns its tally.
pub(crate) fn apply_answer(
    tx: &rusqlite::Connection,
    sent: &[pocketbook_protocol::Mutation],
    answer: &PushResponse,
    now: DateTime<Utc>,
) -> Result<push_plan::PushTally> {
    let (ops, tally) = plan_push_answer(sent, answer);
    store::apply_push(tx, &ops, now)?;
    store::note_acked(tx, answer.acked_seq)?;
    // Records that left scope while these edits were pending go once none is.
    store::settle_left_scope(tx)?;
    Ok(tally)
}

/// One error for a failed call, whatever the transport said.
pub(crate) fn flatten(e: CallError) -> Error {
    match e {
        CallError::ClockSkew { .. } => Error::Server {
            code: ErrorCode::ClockSkew,
            message: "the device clock is still ahead of the server's after correction".into(),
        },
        CallError::TooLarge => Error::Server {
            code: ErrorCode::TooLarge,
            message: "the request was too large for the server".into(),
        },
        CallError::EpochChanged { .. } => Error::Server {
            code: ErrorCode::EpochChanged,
            message: "the server was restored from a backup again while reconciling".into(),
        },
        CallError::Other(Error::Server {
            code: ErrorCode::SeqGap,
            message,
        }) => Error::SequenceGap { message },
        CallError::Forked(_) => Error::DeviceForked,
        CallError::ResyncRequired { .. } => Error::Server {
            code: ErrorCode::ResyncRequired,
            message: "the server kept asking for a resync".into(),
        },
        CallError::Other(e) => e,
    }
}
