//! FFI mirror of a young person's chronology: one line per visit, concern, addendum or action.

use uuid::Uuid;

use super::Timestamp;

mirror_enum!(
    /// What kind of record a chronology line stands for.
    ChronologyKind = pocketbook_core::ChronologyKind {
        /// A visit.
        Visit,
        /// A concern.
        Concern,
        /// An addendum to a concern.
        Addendum,
        /// A referral or information share.
        Action
    }
);

/// One chronology line.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ChronologyEntry {
    /// When it happened.
    pub happened_at: Timestamp,
    /// Kind.
    pub kind: ChronologyKind,
    /// Record id.
    pub record_id: Uuid,
    /// Heading.
    pub title: String,
    /// Text.
    pub detail: String,
}

impl From<pocketbook_core::ChronologyEntry> for ChronologyEntry {
    fn from(e: pocketbook_core::ChronologyEntry) -> Self {
        ChronologyEntry {
            happened_at: e.happened_at,
            kind: e.kind.into(),
            record_id: e.record_id,
            title: e.title,
            detail: e.detail,
        }
    }
}
