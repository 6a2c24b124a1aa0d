//! Audit events (DPA 2018 s62 logging): what was done to which record, by whom, when and why,
//! and the hash chain that links each device's events. Shared so device and server compute and
//! verify hashes identically.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::mutation::Entity;

/// The hash that precedes the first event of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The processing operations DPA 2018 s62 requires to be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// The first event of a device id minted after a fork (issue 12): the store was a copy of
    /// another device's; `justification` names the old device id.
    ForkedFrom,
}

/// One audit event, hash-chained to the previous event of the same device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    /// Position in this device's chain, from 1.
    #[serde(deserialize_with = "crate::wire_numbers::sequence")]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::wire_numbers::sequence_schema)
    )]
    pub seq: u64,
    /// The operation.
    pub operation: AuditOperation,
    /// The officer who did it.
    pub officer_id: Uuid,
    /// The device it was done on.
    pub device_id: Uuid,
    /// When it was done (device time, microsecond precision in the hash).
    pub at: DateTime<Utc>,
    /// The kind of record (absent for events about many records).
    pub entity: Option<Entity>,
    /// The record (for a consult of a chronology: the young person).
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::wire_numbers::optional_uuid_schema)
    )]
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

/// The canonical text of an event time: RFC 3339, microseconds, `Z` (fixed width, sorts).
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The fields an event's hash covers, in a fixed order.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    operation: AuditOperation,
    officer_id: Uuid,
    device_id: Uuid,
    at: &'a str,
    entity: Option<&'a Entity>,
    record_id: Option<Uuid>,
    justification: Option<&'a str>,
    recipient: Option<&'a str>,
    prev_hash: &'a str,
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at event {seq}: {reason}")]
pub struct ChainError {
    /// The first event that does not verify.
    pub seq: u64,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl AuditEvent {
    /// SHA-256 (hex) over every field but `hash` (time at microsecond precision).
    pub fn compute_hash(&self) -> String {
        let at = time_text(self.at);
        let hashed = Hashed {
            seq: self.seq,
            operation: self.operation,
            officer_id: self.officer_id,
            device_id: self.device_id,
            at: &at,
            entity: self.entity.as_ref(),
            record_id: self.record_id,
            justification: self.justification.as_deref(),
            recipient: self.recipient.as_deref(),
            prev_hash: &self.prev_hash,
        };
        // Serialising plain fields to a Vec cannot fail.
        let bytes = serde_json::to_vec(&hashed).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Verifies a run of one device's events: numbered on from `after_seq`, each linked to the
/// previous hash (`after_hash` before the first), each hash over its own fields. Returns the
/// last event's sequence number and hash.
pub fn verify_chain<'a>(
    events: impl IntoIterator<Item = &'a AuditEvent>,
    after_seq: u64,
    after_hash: &str,
) -> Result<(u64, String), ChainError> {
    let mut seq = after_seq;
    let mut prev = after_hash.to_string();
    for event in events {
        let expected = seq + 1;
        let broken = |reason| ChainError {
            seq: expected,
            reason,
        };
        if event.seq != expected {
            return Err(broken("an event is missing"));
        }
        if event.prev_hash != prev {
            return Err(broken("does not link to the previous event"));
        }
        if event.compute_hash() != event.hash {
            return Err(broken("its content was altered"));
        }
        seq = expected;
        prev = event.hash.clone();
    }
    Ok((seq, prev))
}
