//! uniffi bindings of the Pocketbook core for Kotlin, Swift and Python: thin wrappers that
//! convert types and errors and hold no business rule. Store calls are synchronous and touch
//! the disk (call them off the UI thread); `enroll`, `reauthenticate` and `sync` are async on
//! tokio.

mod error;
mod observe;
mod types;

use std::path::PathBuf;
use std::sync::Arc;

use pocketbook_core::model as m;
use uuid::Uuid;

pub use error::{PocketbookError, Result};
pub use observe::{DataChange, ObserverHandle, PocketbookObserver};
pub use types::*;

uniffi::setup_scaffolding!();

/// How to open a store.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OpenConfig {
    /// The database file (created if absent).
    pub db_path: String,
    /// The 32-byte key from the platform keystore.
    pub key: Vec<u8>,
    /// A name for this device, shown to the force's IT team (e.g. "PC 4172's phone").
    pub device_name: String,
}

/// An open Pocketbook store: the officer's encrypted notebook on this device and its sync
/// with the force's server. Observers hear about every change the core makes (see `observe`).
#[derive(uniffi::Object)]
pub struct Pocketbook {
    inner: Arc<pocketbook_core::Pocketbook>,
}

#[uniffi::export(async_runtime = "tokio")]
impl Pocketbook {
    /// Opens the encrypted store, creating it (with a new device id) if absent and migrating
    /// it if an older version made it. A wrong key is `WrongKey`.
    #[uniffi::constructor]
    pub fn open(config: OpenConfig) -> Result<Arc<Self>> {
        let inner = pocketbook_core::Pocketbook::open(pocketbook_core::OpenConfig {
            db_path: PathBuf::from(config.db_path),
            key: types::key(&config.key)?,
            device_name: config.device_name,
        })?;
        Ok(Arc::new(Pocketbook {
            inner: Arc::new(inner),
        }))
    }

    /// Enrols with a server using a one-time code from an admin, storing the device token in
    /// the encrypted store; observers hear `Synced` (the reference data came from the server).
    pub async fn enroll(&self, server_url: String, code: String) -> Result<Session> {
        Ok(self.inner.enroll(&server_url, &code).await?.into())
    }

    /// Enrols again with the same server after a lapsed lease, keeping the device id and
    /// unsynced work; observers hear `Reauthenticated`.
    pub async fn reauthenticate(&self, code: String) -> Result<Session> {
        Ok(self.inner.reauthenticate(&code).await?.into())
    }

    /// Pushes pending changes, then pulls; observers hear its progress, and `Synced` if it
    /// moved anything.
    pub async fn sync(&self) -> Result<SyncReport> {
        Ok(self.inner.sync().await?.into())
    }

    /// The officer's session: who they are, their role and teams, this device, the server
    /// and when the device last synced.
    pub fn session(&self) -> Result<Session> {
        Ok(self.inner.session()?.into())
    }

    /// Where sync stands: the server, the last sync, the lease, how many changes wait, and
    /// the changes the server refused.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.inner.sync_status()?.into())
    }

    /// Records this device cannot read (made by a newer app), to show as "update the app to
    /// read this".
    pub fn unreadable_records(&self) -> Result<Vec<UnreadableRecord>> {
        Ok(types::list(self.inner.unreadable_records()?))
    }

    /// Submits a refused change again (`sync_status().rejected`, by `seq`) with
    /// `corrections_json` (a JSON object, field name to new value) laid over it: a new change,
    /// checked like any edit. Text that is not a JSON object is `InvalidInput`.
    pub fn resubmit_refused(&self, seq: u64, corrections_json: String) -> Result<()> {
        let corrections =
            serde_json::from_str(&corrections_json).map_err(|_| PocketbookError::InvalidInput {
                field: "corrections_json".into(),
                reason: "not a JSON object".into(),
            })?;
        Ok(self.inner.resubmit_refused(seq, corrections)?)
    }

    /// Discards a refused change (`sync_status().rejected`, by `seq`): the record keeps the
    /// server's state.
    pub fn discard_refused(&self, seq: u64) -> Result<()> {
        Ok(self.inner.discard_refused(seq)?)
    }

    /// Trusts a certificate authority (PEM text) for the sync server besides the system's,
    /// e.g. a force's private CA. Text that is not a PEM certificate is `InvalidInput`.
    pub fn trust_certificate(&self, pem: String) -> Result<()> {
        Ok(self.inner.trust_certificate(&pem)?)
    }

    /// The establishments (schools, colleges, units) known to this device, by name.
    pub fn establishments(&self) -> Result<Vec<Establishment>> {
        Ok(types::list(self.inner.establishments()?))
    }

    /// The officers known to this device (the officer's teams), by name.
    pub fn officers(&self) -> Result<Vec<Officer>> {
        Ok(types::list(self.inner.officers()?))
    }

    /// Adds a young person; observers hear `Local`.
    pub fn add_young_person(&self, draft: YoungPersonDraft) -> Result<YoungPerson> {
        Ok(self.inner.add_young_person(draft.into())?.into())
    }

    /// Young people whose names contain every word of the query.
    pub fn find_young_people(&self, query: String) -> Result<Vec<YoungPerson>> {
        Ok(types::list(self.inner.find_young_people(&query)?))
    }

    /// Records a visit (the recording officer is added to its officers); observers hear
    /// `Local`.
    pub fn record_visit(&self, draft: VisitDraft) -> Result<Visit> {
        Ok(self.inner.record_visit(draft.into())?.into())
    }

    /// Changes the fields of a visit that `update` gives; observers hear `Local` if any
    /// field changed.
    pub fn update_visit(&self, id: Uuid, update: VisitUpdate) -> Result<Visit> {
        Ok(self.inner.update_visit(id, update.into())?.into())
    }

    /// Deletes a visit with the officer's reason (required, at most 500 characters; it
    /// syncs as a deletion carrying the reason); observers hear `Local`.
    pub fn delete_visit(&self, id: Uuid, reason: String) -> Result<()> {
        Ok(self.inner.delete_visit(id, &reason)?)
    }

    /// One visit, or `NotFound`.
    pub fn visit(&self, id: Uuid) -> Result<Visit> {
        Ok(self.inner.visit(id)?.into())
    }

    /// Visits, most recent first; only one young person's if an id is given.
    pub fn visits(&self, young_person_id: Option<Uuid>) -> Result<Vec<Visit>> {
        let filter = m::VisitFilter {
            young_person_id,
            ..m::VisitFilter::default()
        };
        Ok(types::list(self.inner.visits(&filter)?))
    }

    /// Raises (submits) a concern; its account is fixed from then on. Observers hear `Local`.
    pub fn raise_concern(&self, draft: ConcernDraft) -> Result<Concern> {
        Ok(self.inner.raise_concern(draft.into())?.into())
    }

    /// Corrects which young people a concern is about (a supervisor's or safeguarding lead's
    /// correction) with a reason (required, at most 500 characters), kept as an addendum
    /// written in the same transaction; observers hear `Local`.
    pub fn correct_concern_child(
        &self,
        concern_id: Uuid,
        young_person_ids: Vec<Uuid>,
        reason: String,
    ) -> Result<Concern> {
        Ok(self
            .inner
            .correct_concern_child(concern_id, young_person_ids, &reason)?
            .into())
    }

    /// Adds a dated addendum to a concern (the way to correct or add to its account);
    /// observers hear `Local`.
    pub fn add_addendum(&self, concern_id: Uuid, text: String) -> Result<Addendum> {
        Ok(self.inner.add_addendum(concern_id, &text)?.into())
    }

    /// Changes a concern's triage (risk, status, marking, with a note); observers hear
    /// `Local`.
    pub fn update_concern_triage(&self, id: Uuid, update: ConcernTriageUpdate) -> Result<Concern> {
        Ok(self.inner.update_concern_triage(id, update.into())?.into())
    }

    /// One concern, or `NotFound`.
    pub fn concern(&self, id: Uuid) -> Result<Concern> {
        Ok(self.inner.concern(id)?.into())
    }

    /// Concerns, most recent first; only one young person's if an id is given.
    pub fn concerns(&self, young_person_id: Option<Uuid>) -> Result<Vec<Concern>> {
        let filter = m::ConcernFilter {
            young_person_id,
            ..m::ConcernFilter::default()
        };
        Ok(types::list(self.inner.concerns(&filter)?))
    }

    /// A young person's chronology (visits, concerns, addenda, actions) oldest first. The
    /// reason is required and logged with a Consult audit event; observers hear nothing.
    pub fn chronology(
        &self,
        young_person_id: Uuid,
        reason: String,
    ) -> Result<Vec<ChronologyEntry>> {
        Ok(types::list(
            self.inner.chronology(young_person_id, &reason)?,
        ))
    }

    /// Adds a referral or information-sharing action; observers hear `Local`.
    pub fn add_action(&self, draft: ActionDraft) -> Result<Action> {
        Ok(self.inner.add_action(draft.into())?.into())
    }

    /// Changes an action's status or due date; observers hear `Local` if either changed.
    pub fn update_action(&self, id: Uuid, update: ActionUpdate) -> Result<Action> {
        Ok(self.inner.update_action(id, update.into())?.into())
    }

    /// Actions, most recent first; only one young person's if an id is given.
    pub fn actions(&self, young_person_id: Option<Uuid>) -> Result<Vec<Action>> {
        let filter = m::ActionFilter {
            young_person_id,
            ..m::ActionFilter::default()
        };
        Ok(types::list(self.inner.actions(&filter)?))
    }

    /// Records a school engagement at a known establishment; observers hear `Local`.
    pub fn record_engagement(&self, draft: EngagementDraft) -> Result<Engagement> {
        Ok(self.inner.record_engagement(draft.into())?.into())
    }

    /// Engagements, most recent first; only those at one establishment if an id is given.
    pub fn engagements(&self, establishment_id: Option<Uuid>) -> Result<Vec<Engagement>> {
        let filter = m::EngagementFilter {
            establishment_id,
            ..m::EngagementFilter::default()
        };
        Ok(types::list(self.inner.engagements(&filter)?))
    }

    /// A concern's addenda, oldest first.
    pub fn addenda(&self, concern_id: Uuid) -> Result<Vec<Addendum>> {
        Ok(types::list(self.inner.addenda(concern_id)?))
    }

    /// One young person, or `NotFound`.
    pub fn young_person(&self, id: Uuid) -> Result<YoungPerson> {
        Ok(self.inner.young_person(id)?.into())
    }

    /// The changes waiting to be pushed, oldest first.
    pub fn pending_changes(&self) -> Result<Vec<PendingChange>> {
        Ok(types::list(self.inner.pending_changes()?))
    }

    /// The conflicts this device has not resolved: values that lost a concurrent edit.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        Ok(types::list(self.inner.conflicts()?))
    }

    /// Resolves a conflict by keeping the value that won or putting the losing value back (a
    /// new edit that syncs); an id no open conflict has is `NotFound`. Observers hear
    /// `Local`.
    pub fn resolve_conflict(&self, id: String, choice: ConflictChoice) -> Result<()> {
        Ok(self.inner.resolve_conflict(&id, choice.into())?)
    }

    /// Starts delivering the core's events to `observer` until the returned handle is
    /// dropped or stopped: keep the handle as long as the screen that listens.
    pub fn observe(&self, observer: Arc<dyn PocketbookObserver>) -> Arc<ObserverHandle> {
        observe::observe(&self.inner, observer)
    }

    /// Erases the database files; every later call fails with `DeviceRevoked`. The app then
    /// deletes the key.
    pub fn wipe(&self) -> Result<()> {
        Ok(self.inner.wipe()?)
    }
}
