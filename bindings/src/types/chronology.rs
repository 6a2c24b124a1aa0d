//! FFI mirror of a young person's chronology: one line per visit, concern, addendum or action.

use uuid::Uuid;

use super::Timestamp;

/// Kind of chronology entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChronologyKind {
    /// Visit.
    Visit,
    /// Concern.
    Concern,
    /// Addendum.
    Addendum,
    /// Action.
    Action,
}

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
        use pocketbook_core::ChronologyKind as K;
        ChronologyEntry {
            happened_at: e.happened_at,
            kind: match e.kind {
                K::Visit => ChronologyKind::Visit,
                K::Concern => ChronologyKind::Concern,
                K::Addendum => ChronologyKind::Addendum,
                K::Action => ChronologyKind::Action,
            },
            record_id: e.record_id,
            title: e.title,
            detail: e.detail,
        }
    }
}
