//! Pocketbook core: the domain model, its validation, the encrypted device store and change
//! capture for sync. Every call on [`Pocketbook`] is synchronous and may touch the disk: call it
//! from a background thread, never from a UI thread. `Pocketbook` is `Send + Sync`; calls are
//! serialised on one connection.

pub mod error;
mod events;
mod lease;
#[cfg(test)]
mod lease_tests;
#[cfg(test)]
mod test_support;
pub use pocketbook_model as model;
mod ops;
mod store;
mod sync;
#[doc(hidden)]
pub mod transport;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use error::{Error, Result, ValidationError};
pub use events::{ChangeOrigin, CoreEvent, Listener, Subscription};
pub use ops::chronology::{ChronologyEntry, ChronologyKind};
pub use pocketbook_protocol::merge::Conflict;
pub use pocketbook_protocol::open_enum::OpenEnum;
pub use pocketbook_protocol::sources::{SeededSources, Sources, SystemSources};
pub use pocketbook_protocol::{Entity, Mutation, MutationKind};
pub use store::{activate_sqlcipher, Provisioning, StoreKey, UnreadableRecord};
pub use sync::{ConflictChoice, RejectedChange, SyncPhase, SyncProgress, SyncReport, SyncStatus};

use model::{AuditEvent, Establishment, Officer, Team};
use store::Store;

/// How to open a store.
#[derive(Debug)]
pub struct OpenConfig {
    /// The database file (created if absent).
    pub db_path: PathBuf,
    /// Its key.
    pub key: StoreKey,
    /// A name for this device, shown to the force's IT team (e.g. "PC 1234's phone").
    pub device_name: String,
}

/// The officer's session on this device.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Session {
    /// The officer using the device.
    pub officer: Officer,
    /// Their teams.
    pub teams: Vec<Team>,
    /// This device's id (made when the store was created).
    pub device_id: Uuid,
    /// This device's name.
    pub device_name: String,
    /// The server it is enrolled with (none before enrolment).
    pub server_url: Option<String>,
    /// The server's id.
    pub server_id: Option<Uuid>,
    /// When it last synced.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// When its lease runs out without a sync (or ran out: the earlier of that and when the
    /// server said it had lapsed).
    pub lease_expires_at: Option<DateTime<Utc>>,
}

/// An open Pocketbook: the device store and the operations of DESIGN §7.
pub struct Pocketbook {
    store: Store,
    sources: Arc<dyn Sources>,
    events: events::Events,
    /// The simulation's transport, when set; `None` in apps: sync speaks HTTP.
    transport: Option<Arc<dyn transport::Transport>>,
}

impl Pocketbook {
    /// Opens the store at `config.db_path`, creating it (with a new device id) if absent, and
    /// migrating it if it was made by an older version. A wrong key gives [`Error::WrongKey`].
    pub fn open(config: OpenConfig) -> Result<Self> {
        Self::open_with_sources(config, Arc::new(SystemSources))
    }

    /// [`Pocketbook::open`] with the wall time, ids and random bytes taken from `sources`
    /// instead of the system's: a test or the fault simulation passes seeded ones so a run
    /// replays exactly. Apps use [`Pocketbook::open`].
    pub fn open_with_sources(config: OpenConfig, sources: Arc<dyn Sources>) -> Result<Self> {
        let store = Store::open(
            &config.db_path,
            &config.key,
            &config.device_name,
            sources.as_ref(),
        )?;
        Ok(Pocketbook {
            store,
            sources,
            events: events::Events::default(),
            transport: None,
        })
    }

    /// Sends every later enrolment and sync through `transport` instead of HTTP (the seeded
    /// fault simulation calls the server in-process this way). Only with the `simulation`
    /// feature; never in an app.
    #[cfg(feature = "simulation")]
    #[doc(hidden)]
    pub fn set_transport(&mut self, transport: Arc<dyn transport::Transport>) {
        self.transport = Some(transport);
    }

    /// The current wall time, from this Pocketbook's sources.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.sources.now()
    }

    /// The database file this Pocketbook uses.
    pub fn db_path(&self) -> &Path {
        self.store.path()
    }

    /// This device's id.
    pub fn device_id(&self) -> Result<Uuid> {
        self.store
            .read(|c| Ok(store::DeviceState::load(c)?.device_id))
    }

    /// Installs reference data and the officer's session from provisioning data (the shape
    /// the server sends at enrolment). Replaces earlier reference data; refuses another
    /// officer's data on a store that already has a session. Observers hear
    /// `DataChanged(Local)` once it has committed.
    pub fn provision(&self, provisioning: &Provisioning) -> Result<()> {
        self.store
            .write(|tx| store::reference_install(tx, provisioning, self.now()))?;
        self.events.data_changed(ChangeOrigin::Local);
        Ok(())
    }

    /// The session, or [`Error::NotEnrolled`].
    pub fn session(&self) -> Result<Session> {
        self.store.read(|c| {
            let officer = store::session_officer(c)?.ok_or(Error::NotEnrolled)?;
            let device = store::DeviceState::load(c)?;
            let teams = store::reference_all::<Team>(c, "team")?
                .into_iter()
                .filter(|t| officer.team_ids.contains(&t.id))
                .collect();
            let enrolled = store::enrolled(c)?;
            Ok(Session {
                officer,
                teams,
                device_id: device.device_id,
                device_name: device.device_name,
                server_url: enrolled.as_ref().map(|e| e.server_url.clone()),
                server_id: enrolled.as_ref().map(|e| e.server_id),
                last_sync_at: enrolled.as_ref().and_then(|e| e.last_sync_at),
                lease_expires_at: enrolled.as_ref().map(|e| {
                    let end = e.lease_expires_at();
                    e.lapsed_at.map_or(end, |lapsed| lapsed.min(end))
                }),
            })
        })
    }

    /// Establishments known to this device, by name.
    pub fn establishments(&self) -> Result<Vec<Establishment>> {
        let mut list: Vec<Establishment> = self
            .store
            .read(|c| store::reference_all(c, "establishment"))?;
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    /// Officers known to this device, by name.
    pub fn officers(&self) -> Result<Vec<Officer>> {
        let mut list: Vec<Officer> = self.store.read(|c| store::reference_all(c, "officer"))?;
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    /// The mutations waiting to be pushed, oldest first.
    /// While the lease has lapsed this is [`Error::LeaseExpired`]: the outbox holds older
    /// records' content.
    pub fn pending_changes(&self) -> Result<Vec<Mutation>> {
        lease::refuse_if_lapsed(self.lapse()?)?;
        self.store.read(store::outbox)
    }

    /// The version of each field of a record, tombstones included (for diagnostics and sync
    /// tooling; the versions decide merges on the server).
    pub fn field_versions(
        &self,
        entity: Entity,
        id: Uuid,
    ) -> Result<std::collections::BTreeMap<String, pocketbook_protocol::Version>> {
        self.store.read(|c| store::versions_of(c, entity, id))
    }

    /// Records this device holds but cannot read — a newer app's kind or shape of record, or a
    /// stored row that no longer decodes — to show the officer as "update the app to read
    /// this", with kind, date and risk where readable. They are read again every time the
    /// store is opened, so an upgraded app shows them as ordinary records. While the lease
    /// has lapsed this is [`Error::LeaseExpired`].
    pub fn unreadable_records(&self) -> Result<Vec<UnreadableRecord>> {
        lease::refuse_if_lapsed(self.lapse()?)?;
        self.store.read(store::unreadable_records)
    }

    /// This device's audit trail, oldest first. While the lease has lapsed this is
    /// [`Error::LeaseExpired`] (its justifications say why records were consulted).
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>> {
        lease::refuse_if_lapsed(self.lapse()?)?;
        self.store.read(store::audit_events)
    }

    /// The audit events about one record, oldest first ([`Error::LeaseExpired`] while the
    /// lease has lapsed).
    pub fn audit_events_for(&self, record_id: Uuid) -> Result<Vec<AuditEvent>> {
        lease::refuse_if_lapsed(self.lapse()?)?;
        self.store.read(|c| store::audit_events_for(c, record_id))
    }

    /// Verifies the audit chain; returns how many events it holds, or where it breaks.
    pub fn verify_audit_chain(&self) -> Result<u64> {
        self.store.read(store::audit_verify)
    }

    /// Closes the store and deletes the database file with its WAL and shared-memory files;
    /// every later call fails with `DeviceRevoked`. The app should then delete the key.
    pub fn wipe(&self) -> Result<()> {
        self.store.close_and_delete()
    }
}

impl Pocketbook {
    /// The lease's lapse, if it has lapsed (see the `lease` module): the device has not synced
    /// within the lease, judged by the later of the wall clock and its own clock's last
    /// reading (so setting the phone's clock back does not help), or the server said so.
    /// Devices never enrolled have no lease.
    pub(crate) fn lapse(&self) -> Result<Option<lease::Lapse>> {
        self.store.read(|c| lease::lapse(c, self.now()))
    }
}
