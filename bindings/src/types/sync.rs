//! FFI mirrors of sync: the changes waiting to be pushed, what one sync did, where sync
//! stands with the changes the server refused, and conflicts with how to resolve them.

use uuid::Uuid;

use super::Timestamp;

/// A change waiting to be pushed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingChange {
    /// Sequence number.
    pub seq: u64,
    /// Entity name.
    pub entity: String,
    /// Record id.
    pub record_id: Uuid,
    /// create, update or delete.
    pub kind: String,
    /// The fields it changes.
    pub fields: Vec<String>,
}

impl From<pocketbook_core::Mutation> for PendingChange {
    fn from(m: pocketbook_core::Mutation) -> Self {
        PendingChange {
            seq: m.seq,
            entity: m.entity.to_string(),
            record_id: m.record_id,
            kind: match m.kind {
                pocketbook_core::MutationKind::Create => "create",
                pocketbook_core::MutationKind::Update => "update",
                pocketbook_core::MutationKind::Delete => "delete",
            }
            .to_string(),
            fields: m.fields.into_keys().collect(),
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReport {
    /// Mutations the server took.
    pub pushed: u64,
    /// Of which merged with concurrent edits.
    pub merged: u64,
    /// Mutations refused.
    pub rejected: u64,
    /// Snapshots received.
    pub pulled: u64,
    /// Records removed (left scope).
    pub removed: u64,
    /// Conflicts received.
    pub conflicts: u64,
    /// Bytes sent on the wire.
    pub bytes_sent: u64,
    /// Bytes received on the wire.
    pub bytes_received: u64,
    /// Duration in milliseconds.
    pub duration_ms: u64,
}

impl From<pocketbook_core::SyncReport> for SyncReport {
    fn from(r: pocketbook_core::SyncReport) -> Self {
        SyncReport {
            pushed: r.pushed,
            merged: r.merged,
            rejected: r.rejected,
            pulled: r.pulled,
            removed: r.removed,
            conflicts: r.conflicts,
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
            duration_ms: r.duration_ms,
        }
    }
}

/// A refused mutation.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RejectedChange {
    /// Its sequence number.
    pub seq: u64,
    /// Entity.
    pub entity: String,
    /// Record id.
    pub record_id: Uuid,
    /// The server's code.
    pub code: String,
    /// The server's reason.
    pub message: String,
}

/// Where sync stands.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncStatus {
    /// Server.
    pub server_url: String,
    /// Last sync.
    pub last_sync_at: Option<Timestamp>,
    /// Lease expiry.
    pub lease_expires_at: Timestamp,
    /// Pending mutations.
    pub pending: u64,
    /// Open conflicts.
    pub open_conflicts: u64,
    /// Refused mutations.
    pub rejected: Vec<RejectedChange>,
}

impl From<pocketbook_core::SyncStatus> for SyncStatus {
    fn from(s: pocketbook_core::SyncStatus) -> Self {
        SyncStatus {
            server_url: s.server_url,
            last_sync_at: s.last_sync_at,
            lease_expires_at: s.lease_expires_at,
            pending: s.pending,
            open_conflicts: s.open_conflicts,
            rejected: s
                .rejected
                .into_iter()
                .map(|r| RejectedChange {
                    seq: r.seq,
                    entity: r.entity,
                    record_id: r.record_id,
                    code: r.code,
                    message: r.message,
                })
                .collect(),
        }
    }
}

/// A conflict: a value that lost a concurrent edit.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Conflict {
    /// Id.
    pub id: String,
    /// Entity.
    pub entity: String,
    /// Record.
    pub record_id: Uuid,
    /// Field.
    pub field: String,
    /// The value kept (JSON).
    pub winning_value: String,
    /// The value that lost (JSON).
    pub losing_value: String,
}

impl From<pocketbook_core::Conflict> for Conflict {
    fn from(c: pocketbook_core::Conflict) -> Self {
        Conflict {
            id: c.id,
            entity: c.entity.to_string(),
            record_id: c.record_id,
            field: c.field,
            winning_value: c.winning_value.to_string(),
            losing_value: c.losing_value.to_string(),
        }
    }
}

/// How to resolve a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConflictChoice {
    /// Keep the current value.
    KeepCurrent,
    /// Put the losing value back.
    TakeLosing,
}

impl From<ConflictChoice> for pocketbook_core::ConflictChoice {
    fn from(c: ConflictChoice) -> Self {
        match c {
            ConflictChoice::KeepCurrent => pocketbook_core::ConflictChoice::KeepCurrent,
            ConflictChoice::TakeLosing => pocketbook_core::ConflictChoice::TakeLosing,
        }
    }
}
