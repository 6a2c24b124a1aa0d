//! Sync (DESIGN §5): enrolment, then push-then-pull against the server, the only arbiter.
//! Network calls are async (run them on a tokio runtime); between them the store is written in
//! short synchronous transactions. What to send and how to apply answers is decided in the
//! store module; this module does the IO in order and reports progress.

mod http;

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::wire::{
    EnrollRequest, EnrollResponse, PullRequest, PullResponse, PushRequest, PushResponse,
};
use pocketbook_protocol::Entity;

pub use crate::store::sync_state::RejectedChange;

use crate::error::{Error, Result};
use crate::model::{Action, Addendum, Concern, Engagement, Record, Visit, YoungPerson};
use crate::store::{self, DeviceState, WriteKind};
use crate::{Pocketbook, Session};
use http::{CallError, Http};

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
    /// Record snapshots received.
    pub pulled: u64,
    /// Records removed from this device because they left its scope.
    pub removed: u64,
    /// Conflicts received.
    pub conflicts: u64,
    /// Bytes sent on the wire (compressed request bodies).
    pub bytes_sent: u64,
    /// Bytes received on the wire (compressed answer bodies).
    pub bytes_received: u64,
    /// How long it took.
    pub duration_ms: u64,
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
    /// Mutations the server refused (kept in its quarantine; never resent).
    pub rejected: Vec<RejectedChange>,
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
    /// Enrols this device with a server using a one-time code from an admin: stores the token
    /// in the encrypted store and installs the officer's reference data. Keeps the device id.
    pub async fn enroll(&self, server_url: &str, code: &str) -> Result<Session> {
        let (device, trusted) = self
            .store
            .read(|c| Ok((DeviceState::load(c)?, store::sync_state::trusted(c)?)))?;
        let http = Http::new(server_url, None, &trusted)?;
        let request = EnrollRequest {
            code: code.trim().to_string(),
            device_id: device.device_id,
            device_name: device.device_name,
        };
        let answer: EnrollResponse = http.post("/v1/enroll", &request).await.map_err(flatten)?;
        self.store.write(|tx| {
            store::reference_install(tx, &answer.provisioning)?;
            store::sync_state::save_enrolment(
                tx,
                server_url.trim().trim_end_matches('/'),
                &answer.token,
                answer.server_id,
                answer.lease_seconds,
            )
        })?;
        self.session()
    }

    /// Enrols again with the same server (after a lapsed lease or a lost token), keeping the
    /// device id, the outbox and the cursors.
    pub async fn reauthenticate(&self, code: &str) -> Result<Session> {
        let enrolled = self
            .store
            .read(store::sync_state::enrolled)?
            .ok_or(Error::NotEnrolled)?;
        self.enroll(&enrolled.server_url, code).await
    }

    /// Trusts a certificate authority (PEM) for the sync server besides the system's, e.g. a
    /// force's private CA. Kept in the encrypted store.
    pub fn trust_certificate(&self, pem: &str) -> Result<()> {
        if !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(crate::ValidationError::Empty {
                field: "certificate",
            }
            .into());
        }
        reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|_| {
            Error::from(crate::ValidationError::OutOfRange {
                field: "certificate",
            })
        })?;
        self.store.write(|tx| store::sync_state::trust(tx, pem))
    }

    /// Pushes the outbox, then pulls until up to date.
    pub async fn sync(&self) -> Result<SyncReport> {
        self.sync_with_progress(|_| {}).await
    }

    /// [`Pocketbook::sync`], calling `progress` after every batch and page.
    pub async fn sync_with_progress(
        &self,
        progress: impl Fn(SyncProgress) + Send + Sync,
    ) -> Result<SyncReport> {
        match self.sync_inner(&progress).await {
            Err(Error::DeviceRevoked) => {
                // Only the server this device enrolled with can say so: erase everything.
                self.store.close_and_delete()?;
                Err(Error::DeviceRevoked)
            }
            other => other,
        }
    }

    async fn sync_inner(
        &self,
        progress: &(impl Fn(SyncProgress) + Send + Sync),
    ) -> Result<SyncReport> {
        let started = Instant::now();
        let enrolled = self
            .store
            .read(store::sync_state::enrolled)?
            .ok_or(Error::NotEnrolled)?;
        let trusted = self.store.read(store::sync_state::trusted)?;
        let http = std::sync::Arc::new(Http::new(
            &enrolled.server_url,
            Some(enrolled.token.clone()),
            &trusted,
        )?);
        let mut report = SyncReport::default();

        // Push, in batches, halving a batch the server finds too large.
        let mut batch = PUSH_BATCH;
        let mut restamped = false;
        let total = self.store.read(store::outbox)?.len() as u64;
        let mut done = 0;
        progress(SyncProgress {
            phase: SyncPhase::Push,
            done,
            total,
        });
        loop {
            let (mutations, audit, resolved) = self.store.read(|c| {
                let enrolled = store::sync_state::enrolled(c)?.ok_or(Error::NotEnrolled)?;
                let mut mutations = store::outbox(c)?;
                mutations.truncate(batch);
                let audit =
                    store::audit_events_after(c, enrolled.audit_acked_seq, batch.max(1) * 4)?;
                Ok((mutations, audit, store::sync_state::resolutions_to_push(c)?))
            })?;
            if mutations.is_empty() && audit.is_empty() && resolved.is_empty() {
                break;
            }
            let request = PushRequest {
                mutations,
                audit,
                resolved,
            };
            let answer: PushResponse = match http.post("/v1/sync/push", &request).await {
                Ok(answer) => answer,
                Err(CallError::TooLarge) if batch > 1 => {
                    batch /= 2;
                    continue;
                }
                Err(CallError::ClockSkew { server_time_ms }) if !restamped => {
                    // Correct the clock by the server's, re-stamp what is unacknowledged, resend.
                    self.store.write(|tx| {
                        store::sync_state::restamp(tx, server_time_ms, chrono::Utc::now())
                    })?;
                    restamped = true;
                    continue;
                }
                Err(e) => return Err(flatten(e)),
            };
            let (applied, merged, rejected) = self
                .store
                .write(|tx| store::sync_state::apply_push(tx, &request.mutations, &answer))?;
            report.pushed += applied + merged;
            report.merged += merged;
            report.rejected += rejected;
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

        // Pull, page by page; the first page also brings the reference data. The next page is
        // asked for (from the cursors the server just gave) while this one is being applied,
        // so the server's work and the device's overlap.
        let mut pulled_so_far = 0;
        let mut in_flight: Option<
            tokio::task::JoinHandle<std::result::Result<PullResponse, CallError>>,
        > = None;
        loop {
            let page: PullResponse = match in_flight.take() {
                Some(next) => next
                    .await
                    .map_err(|_| Error::Network {
                        reason: "the pull was interrupted".into(),
                    })?
                    .map_err(flatten)?,
                None => {
                    let request = self.store.read(|c| {
                        let enrolled = store::sync_state::enrolled(c)?.ok_or(Error::NotEnrolled)?;
                        Ok(PullRequest {
                            epoch: enrolled.epoch,
                            cursors: store::sync_state::cursors(c)?,
                            limit: Some(PULL_PAGE),
                            reference: true,
                        })
                    })?;
                    http.post("/v1/sync/pull", &request)
                        .await
                        .map_err(flatten)?
                }
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
                };
                let http = http.clone();
                in_flight = Some(tokio::spawn(async move {
                    http.post::<_, PullResponse>("/v1/sync/pull", &next).await
                }));
            }
            let applied = self.store.write(|tx| {
                if let Some(reference) = &page.reference {
                    store::reference_install(tx, reference)?;
                }
                store::sync_state::apply_pull(tx, page)
            })?;
            report.pulled += applied.snapshots;
            report.removed += applied.removed;
            report.conflicts += applied.conflicts;
            pulled_so_far += entries;
            progress(SyncProgress {
                phase: SyncPhase::Pull,
                done: pulled_so_far,
                total: pulled_so_far + remaining,
            });
            if !more {
                break;
            }
        }
        self.store.write(|tx| store::sync_state::mark_synced(tx))?;
        report.bytes_sent = http.bytes_sent.load(std::sync::atomic::Ordering::Relaxed);
        report.bytes_received = http
            .bytes_received
            .load(std::sync::atomic::Ordering::Relaxed);
        report.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Where sync stands: server, last sync, lease, pending count, refused mutations.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        self.store.read(|c| {
            let enrolled = store::sync_state::enrolled(c)?.ok_or(Error::NotEnrolled)?;
            Ok(SyncStatus {
                lease_expires_at: enrolled.lease_expires_at(),
                server_url: enrolled.server_url,
                last_sync_at: enrolled.last_sync_at,
                pending: store::outbox(c)?.len() as u64,
                open_conflicts: store::sync_state::open_conflicts(c)?.len() as u64,
                rejected: store::sync_state::rejected(c)?,
            })
        })
    }

    /// Conflicts not yet resolved on this device.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        self.store.read(store::sync_state::open_conflicts)
    }

    /// Resolves a conflict: keep the current value, or put the losing value back as a new
    /// edit (which syncs, and may itself meet concurrent edits).
    pub fn resolve_conflict(&self, id: &str, choice: ConflictChoice) -> Result<()> {
        let conflict = self
            .conflicts()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| Error::Server {
                code: "unknown_conflict".into(),
                message: "no open conflict with that id".into(),
            })?;
        self.mutate(|ctx| {
            if choice == ConflictChoice::TakeLosing {
                let (entity, id) = (conflict.entity, conflict.record_id);
                let (field, value) = (conflict.field.as_str(), &conflict.losing_value);
                match entity {
                    Entity::YoungPerson => restore::<YoungPerson>(ctx, id, field, value)?,
                    Entity::Visit => restore::<Visit>(ctx, id, field, value)?,
                    Entity::Concern => restore::<Concern>(ctx, id, field, value)?,
                    Entity::Addendum => restore::<Addendum>(ctx, id, field, value)?,
                    Entity::Action => restore::<Action>(ctx, id, field, value)?,
                    Entity::Engagement => restore::<Engagement>(ctx, id, field, value)?,
                }
            }
            store::sync_state::mark_resolved(ctx.tx, &conflict.id)?;
            Ok(())
        })
    }
}

/// Sets one field of a record back to `value`, as an ordinary captured edit.
fn restore<T: Record>(
    ctx: &mut crate::ops::WriteContext<'_>,
    id: Uuid,
    field: &str,
    value: &Value,
) -> Result<()> {
    let stored = store::get::<T>(ctx.tx, id)?;
    let mut fields = match serde_json::to_value(&stored.record) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Corrupt { what: "record" }),
    };
    fields.insert(field.to_string(), value.clone());
    let restored: T = store::decode_fields(&id.to_string(), fields)?;
    ctx.capture(WriteKind::Update(&stored, &restored))?;
    Ok(())
}

fn flatten(e: CallError) -> Error {
    match e {
        CallError::ClockSkew { .. } => Error::Server {
            code: "clock_skew".into(),
            message: "the device clock is still ahead of the server's after correction".into(),
        },
        CallError::TooLarge => Error::Server {
            code: "too_large".into(),
            message: "the request was too large for the server".into(),
        },
        CallError::Other(e) => e,
    }
}
