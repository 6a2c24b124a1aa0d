//! FFI mirrors of sync: the changes waiting to be pushed, what one sync did and how far it
//! has got, where sync stands with the changes the server refused, and conflicts with how to
//! resolve them.

use uuid::Uuid;

use super::Timestamp;

mirror_open_enum!(
    /// The kinds of record that sync. A kind added by a newer app or server reads as
    /// `Unknown`.
    Entity = pocketbook_core::Entity {
        /// A child or young person the officer works with.
        YoungPerson,
        /// A visit (welfare check, food parcel delivery, online-safety support…).
        Visit,
        /// A safeguarding concern.
        Concern,
        /// A dated addendum to a concern.
        Addendum,
        /// A referral or information-sharing action.
        Action,
        /// A school engagement (assembly, lesson, weapons sweep…).
        Engagement
    }
);

mirror_enum!(
    /// What a change does to its record.
    MutationKind = pocketbook_core::MutationKind {
        /// It makes a new record (and carries every field).
        Create,
        /// It changes some fields (and carries only those).
        Update,
        /// It deletes the record (which syncs as a tombstone).
        Delete,
        /// After the server was restored from a backup: it gives the server back this
        /// device's acknowledged state of the record.
        Restore
    }
);

mirror_enum!(
    /// Which half of a sync is running.
    SyncPhase = pocketbook_core::SyncPhase {
        /// Sending this device's changes.
        Push,
        /// Receiving the server's.
        Pull
    }
);

/// A change recorded on this device and waiting to be pushed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingChange {
    /// Its sequence number on this device (changes are pushed in this order).
    pub seq: u64,
    /// The kind of record it changes.
    pub entity: Entity,
    /// The record it changes.
    pub record_id: Uuid,
    /// Whether it creates, updates or deletes the record.
    pub kind: MutationKind,
    /// The names of the fields it sets.
    pub fields: Vec<String>,
}

impl From<pocketbook_core::Mutation> for PendingChange {
    fn from(m: pocketbook_core::Mutation) -> Self {
        PendingChange {
            seq: m.seq,
            entity: m.entity.into(),
            record_id: m.record_id,
            kind: m.kind.into(),
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
    /// Mutations waiting for the server's upgrade (`server_too_old`), resent later.
    pub held: u64,
    /// Snapshots received.
    pub pulled: u64,
    /// Records removed (left scope).
    pub removed: u64,
    /// Conflicts received.
    pub conflicts: u64,
    /// Records received that this app cannot read (see `unreadable_records`).
    pub unreadable: u64,
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
            held: r.held,
            pulled: r.pulled,
            removed: r.removed,
            conflicts: r.conflicts,
            unreadable: r.unreadable,
            bytes_sent: r.bytes_sent,
            bytes_received: r.bytes_received,
            duration_ms: r.duration_ms,
        }
    }
}

/// A change the server refused. It is kept in the server's quarantine, never applied and
/// never resent as it was; the officer corrects and resubmits it (`resubmit_refused`) or
/// discards it (`discard_refused`). Also a change waiting for the server's upgrade.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RejectedChange {
    /// Its sequence number on this device (the handle to resubmit or discard it).
    pub seq: u64,
    /// Create, update or delete (`None` when refused before this app kept it).
    pub kind: Option<MutationKind>,
    /// The fields the change set, as a JSON object.
    pub fields_json: String,
    /// The kind of record it changed.
    pub entity: Entity,
    /// The record it changed.
    pub record_id: Uuid,
    /// Why, as the server's machine code (e.g. `forbidden`, `account_immutable`).
    pub code: String,
    /// Why, as the server's sentence (no personal data).
    pub message: String,
}

impl From<pocketbook_core::RejectedChange> for RejectedChange {
    fn from(r: pocketbook_core::RejectedChange) -> Self {
        RejectedChange {
            seq: r.seq,
            kind: r.kind.map(Into::into),
            fields_json: serde_json::to_string(&r.fields).unwrap_or_else(|_| "{}".into()),
            entity: pocketbook_core::Entity::from_wire(&r.entity).into(),
            record_id: r.record_id,
            code: r.code,
            message: r.message,
        }
    }
}

/// Where sync stands, for a status screen.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncStatus {
    /// The server this device is enrolled with.
    pub server_url: String,
    /// When the device last synced, if it ever has.
    pub last_sync_at: Option<Timestamp>,
    /// When the lease runs out without a sync (records are then hidden until
    /// `reauthenticate`).
    pub lease_expires_at: Timestamp,
    /// How many changes wait to be pushed.
    pub pending: u64,
    /// How many conflicts are not yet resolved.
    pub open_conflicts: u64,
    /// The changes the server refused, oldest first.
    pub rejected: Vec<RejectedChange>,
    /// The changes waiting for the server's upgrade: nothing to fix, resent by a later sync.
    pub waiting_for_server: Vec<RejectedChange>,
}

impl From<pocketbook_core::SyncStatus> for SyncStatus {
    fn from(s: pocketbook_core::SyncStatus) -> Self {
        SyncStatus {
            server_url: s.server_url,
            last_sync_at: s.last_sync_at,
            lease_expires_at: s.lease_expires_at,
            pending: s.pending,
            open_conflicts: s.open_conflicts,
            rejected: super::list(s.rejected),
            waiting_for_server: super::list(s.waiting_for_server),
        }
    }
}

/// A conflict: a value that lost a concurrent edit of the same field on another device. The
/// winning value is already in the record; the officer may keep it or put the losing one back.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Conflict {
    /// The conflict's id (the same loss always has the same id), for `resolve_conflict`.
    pub id: String,
    /// The kind of record.
    pub entity: Entity,
    /// The record.
    pub record_id: Uuid,
    /// The field both edits set.
    pub field: String,
    /// The value kept, as JSON.
    pub winning_value: String,
    /// The value that lost, as JSON.
    pub losing_value: String,
}

impl From<pocketbook_core::Conflict> for Conflict {
    fn from(c: pocketbook_core::Conflict) -> Self {
        Conflict {
            id: c.id,
            entity: c.entity.into(),
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

/// A record this app cannot read (made by a newer app): show it as "update the app to read
/// this". An upgraded app reads it as an ordinary record.
#[derive(Debug, Clone, uniffi::Record)]
pub struct UnreadableRecord {
    /// The record's id.
    pub id: Uuid,
    /// Its kind as the server named it.
    pub entity: String,
    /// When it happened (or was created), where readable (RFC 3339).
    pub date: Option<String>,
    /// Its risk, where readable.
    pub risk: Option<String>,
    /// When this device set it aside (RFC 3339).
    pub held_at: String,
}

impl From<pocketbook_core::UnreadableRecord> for UnreadableRecord {
    fn from(r: pocketbook_core::UnreadableRecord) -> Self {
        UnreadableRecord {
            id: r.id,
            entity: r.entity,
            date: r.date,
            risk: r.risk,
            held_at: r.held_at,
        }
    }
}
