//! Pocketbook's wire contract shared by device and server: the hybrid logical clock, record
//! versions and the mutation format of the outbox. Does no IO; safe on any thread.

pub mod clock;
pub mod mutation;

pub use clock::{Clock, ClockError, Hlc, Version, VersionParseError};
pub use mutation::{Entity, Marking, Mutation, MutationKind, UnknownName};

/// The sync protocol version this crate speaks (DESIGN §5 "Versioning").
pub const PROTOCOL_VERSION: u32 = 1;
