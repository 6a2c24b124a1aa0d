//! The bounds both sides keep (README "Limits"): how large a request, a record, a field or a
//! page may be. Spelled once, here, so the device never makes what the server would refuse.
//! Raising a bound is free; lowering one is a tightened rule and raises
//! [`MIN_PROTOCOL_VERSION`](crate::MIN_PROTOCOL_VERSION).

/// Largest request body the server reads, after decompression (bytes). A compressed body that
/// would inflate past it is refused while it inflates, in bounded memory.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Most mutations in one push (the server answers `413 too_large` beyond; the device splits).
pub const MAX_MUTATIONS_PER_PUSH: usize = 1_000;

/// Most audit events in one push.
pub const MAX_AUDIT_EVENTS_PER_PUSH: usize = 5_000;

/// Most conflict resolutions in one push.
pub const MAX_RESOLVED_PER_PUSH: usize = 10_000;

/// Largest serialised record (its fields as JSON, bytes) the server stores.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// Most elements in one set field of a record (young people of a visit, flags, topics, ...).
pub const MAX_SET_ELEMENTS: usize = 1_000;

/// Largest pull page the server sends (bytes of snapshots, before compression); a page ends
/// early rather than pass it. A single record larger than this still goes alone.
pub const MAX_PULL_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// Highest clock counter a version may carry (a device's counter resets every millisecond; a
/// reading beyond this was not made by an honest clock).
pub const MAX_VERSION_COUNTER: u32 = 1 << 20;

/// Longest name of an open enumeration's value (an entity or an audit operation) in a request.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest free text of an audit event (its justification or recipient), in characters.
pub const MAX_AUDIT_TEXT_CHARS: usize = 20_000;

/// Longest hash text of an audit event (SHA-256 as hex is 64).
pub const MAX_HASH_CHARS: usize = 64;

/// Most refused (quarantined) mutations a device may have before it is suspended.
pub const MAX_QUARANTINED_PER_DEVICE: usize = 1_000;

/// Most audit events the server keeps for one device before the device is suspended.
pub const MAX_AUDIT_ROWS_PER_DEVICE: u64 = 1_000_000;

/// Most open conflicts one `restore` mutation may carry back (one record's).
pub const MAX_CONFLICTS_PER_RESTORE: usize = 256;
