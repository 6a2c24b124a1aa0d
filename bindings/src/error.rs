//! The one error type foreign callers branch on, mapped from the core's errors in one place.
//! Messages name fields and kinds, never personal data.

use pocketbook_core::Error as CoreError;

/// What a call can fail with.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PocketbookError {
    /// The input was refused; nothing was written.
    #[error("invalid input: {field}: {reason}")]
    InvalidInput {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
    /// No such record.
    #[error("not found")]
    NotFound,
    /// The device has no officer session yet: enrol (or provision) first.
    #[error("not enrolled")]
    NotEnrolled,
    /// The key does not open this store.
    #[error("wrong key")]
    WrongKey,
    /// The store failed (disk full, damaged file, a newer schema).
    #[error("storage: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// The server could not be reached or answered with an error.
    #[error("network: {reason}")]
    Network {
        /// What failed.
        reason: String,
    },
    /// The server does not accept this device's credentials.
    #[error("unauthorized")]
    Unauthorized,
    /// The server revoked this device; its data has been erased. Delete the key.
    #[error("device revoked")]
    DeviceRevoked,
    /// The server refused (an unknown or used enrolment code, another officer's store).
    #[error("forbidden: {reason}")]
    Forbidden {
        /// Why.
        reason: String,
    },
    /// The lease lapsed without a sync: reauthenticate with a new code.
    #[error("lease expired")]
    LeaseExpired,
    /// The server needs a newer app.
    #[error("upgrade required")]
    UpgradeRequired,
    /// This store is a copy of another device's: it has a new device id and keeps every
    /// change; reauthenticate with a new code, then sync.
    #[error("device forked")]
    DeviceForked,
}

impl From<CoreError> for PocketbookError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid(v) => PocketbookError::InvalidInput {
                field: v.field(),
                reason: v.to_string(),
            },
            CoreError::NotFound { .. }
            | CoreError::ConflictNotFound
            | CoreError::RefusalNotFound => PocketbookError::NotFound,
            CoreError::NotEnrolled => PocketbookError::NotEnrolled,
            CoreError::WrongKey | CoreError::KeyRequired => PocketbookError::WrongKey,
            CoreError::Network { reason } => PocketbookError::Network { reason },
            CoreError::Server { code, message } => PocketbookError::Network {
                reason: format!("{code}: {message}"),
            },
            CoreError::SequenceGap { message } => PocketbookError::Network {
                reason: format!("seq_gap: {message}"),
            },
            CoreError::InsecureServer => PocketbookError::InvalidInput {
                field: "server_url".into(),
                reason: CoreError::InsecureServer.to_string(),
            },
            CoreError::Unauthorized => PocketbookError::Unauthorized,
            CoreError::DeviceRevoked => PocketbookError::DeviceRevoked,
            CoreError::Forbidden { message } => PocketbookError::Forbidden { reason: message },
            CoreError::OtherOfficer => PocketbookError::Forbidden {
                reason: "this store belongs to another officer".into(),
            },
            CoreError::LeaseExpired => PocketbookError::LeaseExpired,
            CoreError::UpgradeRequired => PocketbookError::UpgradeRequired,
            CoreError::DeviceForked => PocketbookError::DeviceForked,
            CoreError::Provisioning(p) => PocketbookError::InvalidInput {
                field: "provisioning".into(),
                reason: p.to_string(),
            },
            other @ (CoreError::SchemaTooNew { .. }
            | CoreError::AuditChainBroken { .. }
            | CoreError::Clock(_)
            | CoreError::Corrupt { .. }
            | CoreError::Storage(_)
            | CoreError::Io(_)) => PocketbookError::Storage {
                reason: other.to_string(),
            },
        }
    }
}

/// The bindings' result type.
pub type Result<T, E = PocketbookError> = std::result::Result<T, E>;
