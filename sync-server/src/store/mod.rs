//! The server's storage, behind one trait so the backend is chosen once in `main` and all
//! above it is generic. One implementation of the trait ([`SqlStore`]) runs the same logic over
//! two backends: embedded SQLite and PostgreSQL. Every method is one transaction: it lands
//! whole or not at all.

mod caps;
mod cascade;
mod clock;
mod compact;
mod conflicts;
mod decode;
mod enrol;
mod epoch;
mod erase;
mod fork;
mod identity;
mod journal;
mod journal_apply;
mod meta;
pub mod migrations;
mod pg_tls;
mod postgres;
mod pull;
mod push;
mod record_guard;
mod record_rows;
mod record_scan;
mod reference;
mod restore_apply;
mod restore_lost;
mod restore_places;
mod served_page;
pub mod sql;
mod sql_store;
mod sqlite;

use std::future::Future;
use std::sync::Arc;

use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::{PullRequest, PullResponse, PushRequest, PushResponse};
use pocketbook_protocol::{Establishment, Officer, Provisioning, Role, Team};
use serde::Serialize;
use uuid::Uuid;

pub use compact::{CompactReport, Compaction};
pub use epoch::Epochs;
pub use erase::RecordErasure;
pub use journal::{server_id, JournalStore};
pub use meta::{
    journal_seq, restore_pending, set_journal_seq, set_restore_pending, BrokenRow, ChainReport,
};
pub use postgres::{PostgresBackend, PostgresOptions, PostgresStore, Sequencing};
pub use served_page::{ServedEntry, ServedPage};
pub use sql_store::{Backend, SqlStore};
pub use sqlite::{SqliteBackend, SqliteStore};

use crate::error::{PushRefusal, StoreError};
use crate::gias::GiasEstablishment;

/// A device that presented a valid token.
#[derive(Debug, Clone)]
pub struct Device {
    /// Its id.
    pub device_id: Uuid,
    /// The officer it belongs to (as the server knows them now).
    pub officer: Officer,
}

/// What a token turned out to be.
#[derive(Debug, Clone)]
pub enum TokenCheck {
    /// A live device.
    Valid(Device),
    /// A device that was revoked.
    Revoked,
    /// A device suspended past a per-device cap, until an admin lifts it.
    Suspended,
    /// No device has this token.
    Unknown,
    /// A device past its lease: it may push within the grace period, nothing else.
    Lapsed {
        /// The device.
        device: Device,
        /// When its lease ended (ms since the epoch).
        lease_until_ms: i64,
    },
}

/// What `validate-store` found: counts only, never a record's content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StoreCheck {
    /// Live records checked.
    pub checked: u64,
    /// Records the model refused, now quarantined and removed from their buckets.
    pub quarantined: u64,
}

/// The outcome of an enrolment attempt.
#[derive(Debug, Clone)]
pub enum Enrolment {
    /// Enrolled: the reference data for the device.
    Enrolled(Provisioning),
    /// The code is unknown, used or expired.
    BadCode,
    /// Too many attempts recently.
    RateLimited,
    /// The device id is held by the server and the request did not prove possession of its
    /// token (or names another officer's device): nothing changed.
    Taken,
    /// The device id is held by a revoked device: it stays revoked.
    Revoked,
}

/// An enrolment attempt (issue 11): a code, the device it names and, when that device is one
/// the server holds, the proof of possession of its token.
#[derive(Debug, Clone)]
pub struct EnrolAttempt {
    /// SHA-256 of the one-time code.
    pub code_hash: String,
    /// The device's id.
    pub device_id: Uuid,
    /// The device's name.
    pub device_name: String,
    /// SHA-256 of the token it will be given.
    pub token_hash: String,
    /// The client address the attempt counts against.
    pub client: String,
    /// SHA-256 of the token presented as proof of possession (`EnrollRequest.token`).
    pub proof_hash: Option<String>,
    /// The lease the device gets (ms since the epoch).
    pub lease_until_ms: Option<i64>,
}

/// A device as listed to admins.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    /// Device id.
    pub device_id: Uuid,
    /// Device name.
    pub name: String,
    /// Its officer.
    pub officer_id: Uuid,
    /// When it enrolled.
    pub enrolled_at: String,
    /// When it last synced.
    pub last_sync_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// When it was suspended past a per-device cap (`None`: not suspended).
    pub suspended_at: Option<String>,
}

/// A refused mutation kept for supervisors.
#[derive(Debug, Clone, Serialize)]
pub struct QuarantineEntry {
    /// When it was refused.
    pub at: String,
    /// The device that sent it.
    pub device_id: Uuid,
    /// Its sequence number on that device.
    pub seq: u64,
    /// Why.
    pub code: String,
    /// The mutation as sent.
    pub mutation: serde_json::Value,
}

/// The server's storage.
pub trait Store: Clone + Send + Sync + 'static {
    /// Where this store takes wall time, ids and random bytes from (tokens and enrolment codes
    /// included): the system's in production, seeded ones in tests.
    fn sources(&self) -> &Arc<dyn Sources>;
    /// The server's own id and epoch.
    fn identity(&self) -> impl Future<Output = Result<(Uuid, String), StoreError>> + Send;
    /// Exchanges an enrolment code (by its hash) for a device registration with `token_hash`.
    fn enroll(
        &self,
        code_hash: String,
        device_id: Uuid,
        device_name: String,
        token_hash: String,
        client: String,
    ) -> impl Future<Output = Result<Enrolment, StoreError>> + Send;
    /// Looks a token (by its hash) up.
    fn check_token(
        &self,
        token_hash: String,
    ) -> impl Future<Output = Result<TokenCheck, StoreError>> + Send;
    /// Applies a push in one transaction.
    fn push(
        &self,
        device: Device,
        request: PushRequest,
    ) -> impl Future<Output = Result<Result<PushResponse, PushRefusal>, StoreError>> + Send;
    /// `Some(409 epoch_changed)` when a request names an epoch (`Some`) other than the
    /// server's, with what the server holds of the device.
    fn epoch_refusal(
        &self,
        device_id: Uuid,
        named: Option<String>,
    ) -> impl Future<Output = Result<Option<PushRefusal>, StoreError>> + Send;
    /// Serves one page of a pull, ready to send.
    fn serve_pull(
        &self,
        device: Device,
        request: PullRequest,
    ) -> impl Future<Output = Result<ServedPage, StoreError>> + Send;
    /// Serves one page of a pull, decoded into the protocol's types (from the JSON a device
    /// would receive).
    fn pull(
        &self,
        device: Device,
        request: PullRequest,
    ) -> impl Future<Output = Result<PullResponse, StoreError>> + Send;

    /// Adds a team.
    fn add_team(&self, name: String) -> impl Future<Output = Result<Team, StoreError>> + Send;
    /// All teams.
    fn teams(&self) -> impl Future<Output = Result<Vec<Team>, StoreError>> + Send;
    /// Adds an officer.
    fn add_officer(
        &self,
        name: String,
        shoulder_number: String,
        role: Role,
        team_ids: Vec<Uuid>,
    ) -> impl Future<Output = Result<Officer, StoreError>> + Send;
    /// Moves an officer to other teams or another role.
    fn update_officer(
        &self,
        officer: Officer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// All officers.
    fn officers(&self) -> impl Future<Output = Result<Vec<Officer>, StoreError>> + Send;
    /// Inserts or updates establishments by URN; returns (added, updated). Each is offered to
    /// devices unless `closed`.
    fn put_establishments(
        &self,
        list: Vec<Establishment>,
    ) -> impl Future<Output = Result<(usize, usize), StoreError>> + Send;
    /// Inserts or updates establishments from a GIAS extract by URN, keeping each one's GIAS
    /// status, which decides whether devices are offered it; returns (added, updated).
    fn put_gias_establishments(
        &self,
        list: Vec<GiasEstablishment>,
    ) -> impl Future<Output = Result<(usize, usize), StoreError>> + Send;
    /// All establishments, closed and not yet open ones included.
    fn establishments(&self)
        -> impl Future<Output = Result<Vec<Establishment>, StoreError>> + Send;
    /// Stores a one-time code (by its hash) for an officer, valid for `ttl_seconds`.
    fn add_code(
        &self,
        officer_id: Uuid,
        code_hash: String,
        ttl_seconds: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// All devices.
    fn devices(&self) -> impl Future<Output = Result<Vec<DeviceInfo>, StoreError>> + Send;
    /// Revokes a device; false if unknown.
    fn revoke(&self, device_id: Uuid) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Lifts a suspended device's suspension (audited); false when it was not suspended.
    fn lift_suspension(
        &self,
        device_id: Uuid,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Checks every stored record with the model; quarantines and removes from its buckets
    /// each one the model refuses. Returns how many records were checked and quarantined.
    fn validate_store(&self) -> impl Future<Output = Result<StoreCheck, StoreError>> + Send;
    /// Conflicts, the open ones only unless `all`.
    fn conflicts(
        &self,
        all: bool,
    ) -> impl Future<Output = Result<Vec<(Conflict, bool)>, StoreError>> + Send;
    /// Resolves a conflict (as an admin); false if unknown or already resolved.
    fn resolve_conflict(&self, id: String)
        -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The quarantine.
    fn quarantine(&self) -> impl Future<Output = Result<Vec<QuarantineEntry>, StoreError>> + Send;
    /// The server audit log, oldest first, as JSON lines.
    fn audit_lines(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Enrols a device, or re-authenticates one the server holds when the attempt proves
    /// possession of its token; counts the attempt per client address and per code.
    fn enroll_device(
        &self,
        attempt: EnrolAttempt,
    ) -> impl Future<Output = Result<Enrolment, StoreError>> + Send;
    /// Sets a device's lease end (ms since the epoch).
    fn renew_lease(
        &self,
        device_id: Uuid,
        lease_until_ms: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The server audit chain's head: its last row's hash.
    fn audit_head(&self) -> impl Future<Output = Result<String, StoreError>> + Send;
    /// Walks the server audit chain; reports the first row that does not hold.
    fn verify_audit(&self) -> impl Future<Output = Result<ChainReport, StoreError>> + Send;
}
