//! Pocketbook's wire contract shared by device and server: the hybrid logical clock, record
//! versions, the mutation format of the outbox and the reference data sent at enrolment.
//! Does no IO; safe on any thread.

pub mod audit;
pub mod clock;
pub mod merge;
pub mod mutation;
pub mod reference;
pub mod wire;

pub use audit::{AuditEvent, AuditOperation, ChainError, GENESIS_HASH};
pub use clock::{Clock, ClockError, Hlc, Version, VersionParseError};
pub use mutation::{Entity, Marking, Mutation, MutationKind, SetDelta, UnknownName};
pub use reference::{
    Establishment, EstablishmentKind, Officer, Provisioning, ProvisioningError, Role, Team,
};

/// The sync protocol version this crate speaks (DESIGN §5 "Versioning").
pub const PROTOCOL_VERSION: u32 = 1;
