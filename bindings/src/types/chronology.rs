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

/// One line of a young person's chronology.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ChronologyEntry {
    /// When it happened (the chronology's order).
    pub happened_at: Timestamp,
    /// What kind of record the line stands for.
    pub kind: ChronologyKind,
    /// The record's id (to open it).
    pub record_id: Uuid,
    /// A one-line heading: the kind with its category, outcome or recipient.
    pub title: String,
    /// The record's text: narrative, account, addendum or justification.
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
