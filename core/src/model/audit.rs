//! Audit events (DPA 2018 s62 logging): what was done to which record, by whom, when and why.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;

/// The processing operations DPA 2018 s62 requires to be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOperation {
    /// A record was created.
    Collect,
    /// A record was changed.
    Alter,
    /// Records were looked at.
    Consult,
    /// Records were sent to someone.
    Disclose,
    /// Records were combined.
    Combine,
    /// A record was erased.
    Erase,
}

/// One audit event, hash-chained to the previous event of the same device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in this device's chain, from 1.
    pub seq: u64,
    /// The operation.
    pub operation: AuditOperation,
    /// The officer who did it.
    pub officer_id: Uuid,
    /// The device it was done on.
    pub device_id: Uuid,
    /// When.
    pub at: DateTime<Utc>,
    /// The kind of record (absent for events about many records).
    pub entity: Option<Entity>,
    /// The record (for a consult of a chronology: the young person).
    pub record_id: Option<Uuid>,
    /// Why (required for a consult or disclosure).
    pub justification: Option<String>,
    /// Who received it (for a disclosure).
    pub recipient: Option<String>,
    /// Hash of the previous event (hex), or 64 zeros for the first.
    pub prev_hash: String,
    /// SHA-256 (hex) of this event's other fields.
    pub hash: String,
}
