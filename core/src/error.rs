//! The core's error types: what a caller can branch on. Messages name fields and kinds, never
//! the personal data that was in them.

use uuid::Uuid;

use pocketbook_protocol::{Entity, ErrorCode};

pub use pocketbook_model::ValidationError;

/// Everything the core can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input was refused; nothing was written.
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationError),
    /// No such record (or it was deleted).
    #[error("{entity} {id} not found")]
    NotFound {
        /// The kind of record asked for.
        entity: Entity,
        /// The id asked for.
        id: Uuid,
    },
    /// No open conflict has that id (it was resolved already, or never reached this device).
    #[error("no open conflict with that id")]
    ConflictNotFound,
    /// No refused change has that sequence number (resubmitted or discarded already).
    #[error("no refused change with that number")]
    RefusalNotFound,
    /// Recording needs an enrolled (or provisioned) officer on this device.
    #[error("this device is not enrolled: load a provisioning file or enrol first")]
    NotEnrolled,
    /// The key does not open this store (or the file is not a Pocketbook store).
    #[error("the key does not open this store")]
    WrongKey,
    /// A store needs a key; plaintext stores exist only in test builds.
    #[error("a 32-byte key is required to open a store")]
    KeyRequired,
    /// The store file was made by a newer version of Pocketbook.
    #[error("store schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// The version on disk.
        found: u32,
        /// The newest this build knows.
        supported: u32,
    },
    /// Provisioning data could not be read or does not hang together.
    #[error("{0}")]
    Provisioning(#[from] pocketbook_protocol::ProvisioningError),
    /// The store already belongs to another officer.
    #[error("this store belongs to another officer")]
    OtherOfficer,
    /// The audit trail does not verify.
    #[error("audit chain broken at event {seq}: {reason}")]
    AuditChainBroken {
        /// The first event that does not verify.
        seq: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The device clock could not be advanced.
    #[error("device clock: {0}")]
    Clock(#[from] pocketbook_protocol::ClockError),
    /// Stored data could not be decoded (a bug or a damaged store).
    #[error("stored {what} could not be decoded")]
    Corrupt {
        /// What was being decoded.
        what: &'static str,
    },
    /// The server could not be reached or answered nonsense.
    #[error("network: {reason}")]
    Network {
        /// What went wrong (no personal data).
        reason: String,
    },
    /// The server address is plain `http://` to another machine: a device talks to its
    /// server over TLS (`https://`), or plain HTTP only to itself (loopback, for tests).
    #[error("the server address must start with https:// (http:// only to this device itself)")]
    InsecureServer,
    /// The server does not accept this device's token (re-enrol).
    #[error("the server did not accept this device's credentials")]
    Unauthorized,
    /// The server revoked this device; its data has been erased.
    #[error("this device was revoked; its data has been erased")]
    DeviceRevoked,
    /// The server refused the request (e.g. an unknown or used enrolment code).
    #[error("refused by the server: {message}")]
    Forbidden {
        /// The server's reason.
        message: String,
    },
    /// The device has not synced within its lease; reauthenticate with a new code.
    #[error("the device has not synced within its lease; reauthenticate to continue")]
    LeaseExpired,
    /// The server speaks a newer protocol; update the app.
    #[error("the server needs a newer version of the app")]
    UpgradeRequired,
    /// The server's count of this device's changes does not follow on from what the device
    /// sent (`seq_gap`): a change was lost between them. Nothing was applied; tell support.
    #[error("the server is missing some of this device's changes: {message}")]
    SequenceGap {
        /// The server's message (the sequence numbers involved).
        message: String,
    },
    /// The server found this store is a copy of another device's (`device_forked`): it now
    /// has a new device id, its unsent changes re-stamped under it, and waits for that id to
    /// be enrolled (`reauthenticate` with a new code), after which a sync sends them. Nothing
    /// was lost; every record stays visible.
    #[error("this store is a copy of another device's; re-enrol it with a new code to sync")]
    DeviceForked,
    /// The server answered with an error this client does not act on itself.
    #[error("server error {code}: {message}")]
    Server {
        /// The server's code.
        code: ErrorCode,
        /// The server's message.
        message: String,
    },
    /// SQLite or SQLCipher failed.
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    /// A file next to the store could not be read or removed.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
