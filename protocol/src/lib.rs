//! Pocketbook's wire contract shared by device and server: the hybrid logical clock, record
//! versions, the mutation format of the outbox and the reference data sent at enrolment.
//! Does no IO; safe on any thread.

pub mod audit;
pub mod clock;
pub mod codes;
pub mod digest;
pub mod limits;
pub mod merge;
pub mod merge_restore;
pub mod mutation;
pub mod open_enum;
pub mod reference;
pub mod sources;
pub mod wire;
pub mod wire_numbers;

pub use audit::{AuditEvent, AuditOperation, ChainError, GENESIS_HASH};
pub use clock::{unix_millis, Clock, ClockError, Hlc, Version, VersionParseError};
pub use codes::{ErrorCode, RejectCode};
pub use mutation::{Entity, Marking, Mutation, MutationKind, SetDelta, UnknownName};
pub use reference::{
    Establishment, EstablishmentKind, Officer, Provisioning, ProvisioningError, Role, Team,
};

/// The sync protocol version this build speaks when it sends (DESIGN §5 "Versioning").
///
/// The policy: a field added with `#[serde(default)]`, a new value of an open enumeration or a
/// new optional answer field does not change the version. A change an older peer would
/// misread does, and says so in its commit; a server that must refuse older apps (a rule they
/// do not know was tightened) raises [`MIN_PROTOCOL_VERSION`].
pub const PROTOCOL_VERSION: u32 = 1;

/// The oldest protocol version this build still accepts from a peer.
pub const MIN_PROTOCOL_VERSION: u32 = 1;

/// Whether a peer speaking `version` can be served by this build.
pub fn protocol_supported(version: u32) -> bool {
    (MIN_PROTOCOL_VERSION..=PROTOCOL_VERSION).contains(&version)
}
