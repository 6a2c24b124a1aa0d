//! Reconciling with a server restored from a backup (issue 12). On `409 epoch_changed` the
//! device, before pushing anything else: snapshots its acknowledged state and takes the new
//! epoch (`store::restore::begin`); pulls every bucket from 0, keeping its outbox and pending
//! edits and dropping nothing the server did not return; plans a `restore` mutation for each
//! record the server lacks or holds older (`restore_plan`), numbered after its acknowledged
//! seq, ahead of its renumbered outbox, carrying the open conflicts the server lost; sends
//! them with its audit events from the server's position and the refusals the server lost
//! (to be quarantined again); then the sync goes on as usual. Each step commits before the next, so a device
//! killed part way resumes at its next sync (`resume_reconcile`). Network calls are async.

use pocketbook_protocol::wire::{AckedPosition, PushOutcome, PushRequest, PushResponse};

use super::http::{CallError, Http};
use super::pulled_page::PulledPage;
use super::restore_plan::plan_restores;
use super::{apply_page, flatten, pull_request, SyncReport, PUSH_BATCH};
use crate::error::{Error, Result};
use crate::store::{self, restore};
use crate::Pocketbook;

/// Most times one reconciliation follows a server that changes its epoch again.
const MAX_REAIMS: u8 = 3;

impl Pocketbook {
    /// Starts reconciling with the server's new `epoch` (it holds `position` of this device)
    /// and carries it through.
    pub(super) async fn reconcile(
        &self,
        http: &Http,
        epoch: String,
        position: AckedPosition,
        report: &mut SyncReport,
    ) -> Result<()> {
        self.store
            .write(|tx| restore::begin(tx, &epoch, &position))?;
        self.resume_reconcile(http, report).await
    }

    /// Carries a reconciliation under way to its end (nothing when none is).
    pub(super) async fn resume_reconcile(
        &self,
        http: &Http,
        report: &mut SyncReport,
    ) -> Result<()> {
        let Some(state) = self.store.read(restore::state)? else {
            return Ok(());
        };
        let epoch = if state.pushing {
            state.epoch
        } else {
            let epoch = self.reconcile_pull(http, report).await?;
            self.store.write(|tx| {
                let position = restore::state(tx)?.map(|s| s.position.seq).unwrap_or(0);
                let after = restore::acked_seq(tx)?.max(position);
                let plan = plan_restores(
                    &restore::held_records(tx)?,
                    &restore::lost_conflicts(tx)?,
                    after,
                );
                restore::stage(tx, &plan, after)
            })?;
            epoch
        };
        self.reconcile_push(http, &epoch, report).await?;
        self.store.write(|tx| restore::finish(tx))
    }

    /// Pulls every bucket from 0 under the new epoch, noting the server's state of each
    /// record before the page is applied. Returns the epoch it ended under.
    async fn reconcile_pull(&self, http: &Http, report: &mut SyncReport) -> Result<String> {
        let mut reaims = 0;
        let mut first = true;
        loop {
            let request = self.store.read(|c| pull_request(c, first))?;
            let page: PulledPage = match http.post("/v1/sync/pull", &request).await {
                Ok(page) => page,
                Err(CallError::EpochChanged { epoch, position }) if reaims < MAX_REAIMS => {
                    reaims += 1;
                    self.store
                        .write(|tx| restore::begin(tx, &epoch, &position))?;
                    first = true;
                    continue;
                }
                Err(e) => return Err(flatten(e)),
            };
            first = false;
            let more = page.remaining > 0 && !page.entries.is_empty();
            let epoch = page.epoch.clone();
            let now = self.now();
            let applied = self.store.write(|tx| {
                restore::note_server(tx, &page)?;
                apply_page(tx, page, now)
            })?;
            report.pulled += applied.snapshots;
            report.removed += applied.removed;
            report.conflicts += applied.conflicts;
            report.unreadable += applied.unreadable;
            if !more {
                return Ok(epoch);
            }
        }
    }

    /// Sends the planned restores, with the audit events the server lacks, until the server
    /// has answered every one and holds every event.
    async fn reconcile_push(
        &self,
        http: &Http,
        epoch: &str,
        report: &mut SyncReport,
    ) -> Result<()> {
        let mut batch = PUSH_BATCH;
        loop {
            let (mutations, audit, refused) = self.store.read(|c| {
                let enrolled = store::enrolled(c)?.ok_or(Error::NotEnrolled)?;
                let audit =
                    store::audit_events_after(c, enrolled.audit_acked_seq, batch.max(1) * 4)?;
                Ok((
                    restore::restores_to_push(c, batch)?,
                    audit,
                    restore::refused_to_send(c, batch)?,
                ))
            })?;
            if mutations.is_empty() && audit.is_empty() && refused.is_empty() {
                return Ok(());
            }
            let request = PushRequest {
                mutations,
                audit,
                epoch: Some(epoch.to_string()),
                refused,
                ..PushRequest::default()
            };
            let answer: PushResponse = match http.post("/v1/sync/push", &request).await {
                Ok(answer) => answer,
                Err(CallError::TooLarge) if batch > 1 => {
                    batch /= 2;
                    continue;
                }
                Err(e) => return Err(flatten(e)),
            };
            let last = request.mutations.last().map(|m| m.seq);
            if last.is_some_and(|seq| answer.acked_seq < seq)
                || request
                    .audit
                    .last()
                    .is_some_and(|e| answer.audit_acked_seq < e.seq)
            {
                return Err(Error::Network {
                    reason: "the server did not acknowledge the restored records it was sent"
                        .into(),
                });
            }
            self.store.write(|tx| {
                for r in &answer.results {
                    if matches!(r.outcome, PushOutcome::Rejected { .. }) {
                        restore::restore_refused(tx, r.seq)?;
                    }
                }
                if let Some(seq) = last {
                    restore::restores_answered(tx, seq)?;
                }
                if let Some(refused) = request.refused.last() {
                    restore::refused_answered(tx, refused.mutation.seq)?;
                }
                tx.execute(
                    "UPDATE sync_state SET audit_acked_seq = max(audit_acked_seq, ?1) WHERE id = 1",
                    [answer.audit_acked_seq],
                )?;
                Ok(())
            })?;
            for r in &answer.results {
                match r.outcome {
                    PushOutcome::Rejected { .. } => report.rejected += 1,
                    _ => report.restored += 1,
                }
            }
        }
    }
}
