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
    /// A name for this device.
    pub device_name: String,
}

/// An open Pocketbook store.
#[derive(uniffi::Object)]
pub struct Pocketbook {
    inner: Arc<pocketbook_core::Pocketbook>,
    observers: observe::Observers,
}

impl Pocketbook {
    fn local<T>(&self, result: pocketbook_core::Result<T>) -> Result<T> {
        let value = result?;
        self.observers.changed(DataChange::Local);
        Ok(value)
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Pocketbook {
    /// Opens (creating and migrating) the encrypted store.
    #[uniffi::constructor]
    pub fn open(config: OpenConfig) -> Result<Arc<Self>> {
        let inner = pocketbook_core::Pocketbook::open(pocketbook_core::OpenConfig {
            db_path: PathBuf::from(config.db_path),
            key: types::key(&config.key)?,
            device_name: config.device_name,
        })?;
        Ok(Arc::new(Pocketbook {
            inner: Arc::new(inner),
            observers: observe::Observers::default(),
        }))
    }

    /// Enrols with a server using a one-time code.
    pub async fn enroll(&self, server_url: String, code: String) -> Result<Session> {
        let session = self.inner.enroll(&server_url, &code).await?;
        self.observers.changed(DataChange::Synced);
        Ok(session.into())
    }

    /// Enrols again with the same server, keeping the device id and unsynced work.
    pub async fn reauthenticate(&self, code: String) -> Result<Session> {
        Ok(self.inner.reauthenticate(&code).await?.into())
    }

    /// Pushes pending changes, then pulls; reports progress to observers.
    pub async fn sync(&self) -> Result<SyncReport> {
        let report = self
            .inner
            .sync_with_progress(|p| {
                let phase = match p.phase {
                    pocketbook_core::SyncPhase::Push => "push",
                    pocketbook_core::SyncPhase::Pull => "pull",
                };
                self.observers.progress(phase, p.done, p.total);
            })
            .await?;
        self.observers.changed(DataChange::Synced);
        Ok(report.into())
    }

    /// The officer's session.
    pub fn session(&self) -> Result<Session> {
        Ok(self.inner.session()?.into())
    }

    /// Where sync stands, with refused changes.
    pub fn sync_status(&self) -> Result<SyncStatus> {
        Ok(self.inner.sync_status()?.into())
    }

    /// Trusts a certificate authority (PEM) for the sync server.
    pub fn trust_certificate(&self, pem: String) -> Result<()> {
        Ok(self.inner.trust_certificate(&pem)?)
    }

    /// Establishments.
    pub fn establishments(&self) -> Result<Vec<Establishment>> {
        Ok(types::list(self.inner.establishments()?))
    }

    /// Officers.
    pub fn officers(&self) -> Result<Vec<Officer>> {
        Ok(types::list(self.inner.officers()?))
    }

    /// Adds a young person.
    pub fn add_young_person(&self, draft: YoungPersonDraft) -> Result<YoungPerson> {
        Ok(self
            .local(self.inner.add_young_person(draft.into()))?
            .into())
    }

    /// Young people whose names contain every word of the query.
    pub fn find_young_people(&self, query: String) -> Result<Vec<YoungPerson>> {
        Ok(types::list(self.inner.find_young_people(&query)?))
    }

    /// Records a visit.
    pub fn record_visit(&self, draft: VisitDraft) -> Result<Visit> {
        Ok(self.local(self.inner.record_visit(draft.into()))?.into())
    }

    /// Changes a visit.
    pub fn update_visit(&self, id: Uuid, update: VisitUpdate) -> Result<Visit> {
        Ok(self
            .local(self.inner.update_visit(id, update.into()))?
            .into())
    }

    /// Deletes a visit.
    pub fn delete_visit(&self, id: Uuid) -> Result<()> {
        self.local(self.inner.delete_visit(id))
    }

    /// One visit.
    pub fn visit(&self, id: Uuid) -> Result<Visit> {
        Ok(self.inner.visit(id)?.into())
    }

    /// Visits, most recent first; optionally one young person's.
    pub fn visits(&self, young_person_id: Option<Uuid>) -> Result<Vec<Visit>> {
        let filter = m::VisitFilter {
            young_person_id,
            ..m::VisitFilter::default()
        };
        Ok(types::list(self.inner.visits(&filter)?))
    }

    /// Raises a concern.
    pub fn raise_concern(&self, draft: ConcernDraft) -> Result<Concern> {
        Ok(self.local(self.inner.raise_concern(draft.into()))?.into())
    }

    /// Adds a dated addendum to a concern.
    pub fn add_addendum(&self, concern_id: Uuid, text: String) -> Result<Addendum> {
        Ok(self
            .local(self.inner.add_addendum(concern_id, &text))?
            .into())
    }

    /// Changes a concern's triage.
    pub fn update_concern_triage(&self, id: Uuid, update: ConcernTriageUpdate) -> Result<Concern> {
        Ok(self
            .local(self.inner.update_concern_triage(id, update.into()))?
            .into())
    }

    /// One concern.
    pub fn concern(&self, id: Uuid) -> Result<Concern> {
        Ok(self.inner.concern(id)?.into())
    }

    /// Concerns, most recent first; optionally one young person's.
    pub fn concerns(&self, young_person_id: Option<Uuid>) -> Result<Vec<Concern>> {
        let filter = m::ConcernFilter {
            young_person_id,
            ..m::ConcernFilter::default()
        };
        Ok(types::list(self.inner.concerns(&filter)?))
    }

    /// A young person's chronology; the reason is logged as a Consult.
    pub fn chronology(
        &self,
        young_person_id: Uuid,
        reason: String,
    ) -> Result<Vec<ChronologyEntry>> {
        Ok(types::list(
            self.inner.chronology(young_person_id, &reason)?,
        ))
    }

    /// Adds a referral or information-sharing action.
    pub fn add_action(&self, draft: ActionDraft) -> Result<Action> {
        Ok(self.local(self.inner.add_action(draft.into()))?.into())
    }

    /// Changes an action's status or due date.
    pub fn update_action(&self, id: Uuid, update: ActionUpdate) -> Result<Action> {
        Ok(self
            .local(self.inner.update_action(id, update.into()))?
            .into())
    }

    /// Actions, most recent first; optionally one young person's.
    pub fn actions(&self, young_person_id: Option<Uuid>) -> Result<Vec<Action>> {
        let filter = m::ActionFilter {
            young_person_id,
            ..m::ActionFilter::default()
        };
        Ok(types::list(self.inner.actions(&filter)?))
    }

    /// Records a school engagement.
    pub fn record_engagement(&self, draft: EngagementDraft) -> Result<Engagement> {
        Ok(self
            .local(self.inner.record_engagement(draft.into()))?
            .into())
    }

    /// Engagements, most recent first; optionally at one establishment.
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

    /// One young person.
    pub fn young_person(&self, id: Uuid) -> Result<YoungPerson> {
        Ok(self.inner.young_person(id)?.into())
    }

    /// Changes waiting to be pushed.
    pub fn pending_changes(&self) -> Result<Vec<PendingChange>> {
        Ok(types::list(self.inner.pending_changes()?))
    }

    /// Open conflicts.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        Ok(types::list(self.inner.conflicts()?))
    }

    /// Resolves a conflict.
    pub fn resolve_conflict(&self, id: String, choice: ConflictChoice) -> Result<()> {
        self.local(self.inner.resolve_conflict(&id, choice.into()))
    }

    /// Starts delivering events to `observer` until the returned handle is dropped.
    pub fn observe(&self, observer: Arc<dyn PocketbookObserver>) -> Arc<ObserverHandle> {
        self.observers.add(observer)
    }

    /// Erases the database files; the app then deletes the key.
    pub fn wipe(&self) -> Result<()> {
        Ok(self.inner.wipe()?)
    }
}
