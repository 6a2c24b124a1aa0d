//! The pull half of a sync: page by page from the cursors held, the next page asked for while
//! this one is applied, progress reported after each. A first sync of more than one page into
//! an empty store is a bulk load (`store::bulk_load`): its index is built once, at the end,
//! whether the pull finished or failed.

use std::sync::Arc;

use pocketbook_protocol::wire::PullRequest;

use super::http::{CallError, Http};
use super::page_decoder::{interrupted, PageDecoder};
use super::pulled_page::PulledPage;
use super::{apply_page, flatten, pull_request, SyncPhase, SyncProgress, SyncReport, PULL_PAGE};
use crate::error::{Error, Result};
use crate::store;
use crate::Pocketbook;

/// Times one sync starts a resync (`410 resync_required`) before giving up.
const MAX_RESYNCS: u32 = 3;

impl Pocketbook {
    /// Pulls every page there is, then builds what a bulk load left out (also after a failure,
    /// so the store is never left without its index by a lost signal).
    pub(super) async fn pull_pages(
        &self,
        http: &Arc<Http>,
        progress: &(impl Fn(SyncProgress) + Send + Sync),
        report: &mut SyncReport,
        reconciles: &mut u32,
    ) -> Result<()> {
        let mut bulk = false;
        let pulled = self
            .pull_each_page(http, progress, report, reconciles, &mut bulk)
            .await;
        if bulk {
            self.store.write(|tx| store::bulk_load_finish(tx))?;
        }
        pulled
    }

    async fn pull_each_page(
        &self,
        http: &Arc<Http>,
        progress: &(impl Fn(SyncProgress) + Send + Sync),
        report: &mut SyncReport,
        reconciles: &mut u32,
        bulk: &mut bool,
    ) -> Result<()> {
        // Pull, page by page; the first page also brings the reference data. The next page is
        // asked for (from the cursors the server just gave) while this one is being applied,
        // so the server's work and the device's overlap.
        let mut pulled_so_far = 0;
        // The sync's first page counts exactly what is to come; later pages count only so far
        // ahead (to say whether there is more), so the progress total is kept from the first.
        let mut expected_total = 0;
        let mut resyncs = 0;
        let mut first = true;
        let mut in_flight: Option<
            tokio::task::JoinHandle<std::result::Result<PulledPage, CallError>>,
        > = None;
        // Started with the first page that has more to come; ends with the pull.
        let mut decoder: Option<Arc<PageDecoder<PulledPage>>> = None;
        loop {
            let fetched = match in_flight.take() {
                // Fetched on another task and decoded on the decoding thread.
                Some(next) => next.await.map_err(|_| interrupted())?,
                None => {
                    let request = self.store.read(|c| pull_request(c, true))?;
                    match http.post("/v1/sync/pull", &request).await {
                        Err(CallError::EpochChanged { epoch, position }) if *reconciles < 2 => {
                            *reconciles += 1;
                            self.reconcile(http, epoch, position, report).await?;
                            continue;
                        }
                        fetched => fetched,
                    }
                }
            };
            let page: PulledPage = match fetched {
                // History compacted past these cursors: pull the buckets again from 0.
                Err(CallError::ResyncRequired { buckets }) if resyncs < MAX_RESYNCS => {
                    resyncs += 1;
                    self.store.write(|tx| store::resync::begin(tx, &buckets))?;
                    continue;
                }
                fetched => fetched.map_err(flatten)?,
            };
            let entries = page.entries.len() as u64;
            let remaining = page.remaining;
            let more = remaining > 0 && entries > 0;
            if more {
                let next = PullRequest {
                    epoch: Some(page.epoch.clone()),
                    cursors: page.cursors.clone(),
                    limit: Some(PULL_PAGE),
                    reference: false,
                    common_version: true,
                };
                let http = http.clone();
                let decoder = match &decoder {
                    Some(decoder) => decoder.clone(),
                    None => decoder
                        .insert(Arc::new(PageDecoder::start().map_err(Error::Io)?))
                        .clone(),
                };
                in_flight = Some(tokio::spawn(async move {
                    let body = http.post_for_body("/v1/sync/pull", &next).await?;
                    decoder.decode(body).await
                }));
            }
            if first && more {
                // A first page with more to come, into a store holding nothing: a bulk load.
                *bulk = self.store.write(|tx| store::bulk_load_begin(tx))?;
            }
            first = false;
            let now = self.now();
            let applied = self.store.write(|tx| apply_page(tx, page, now))?;
            report.pulled += applied.snapshots;
            report.removed += applied.removed;
            report.conflicts += applied.conflicts;
            report.unreadable += applied.unreadable;
            pulled_so_far += entries;
            expected_total = expected_total.max(pulled_so_far + remaining);
            progress(SyncProgress {
                phase: SyncPhase::Pull,
                done: pulled_so_far,
                total: expected_total,
            });
            if !more {
                break;
            }
        }
        Ok(())
    }
}
