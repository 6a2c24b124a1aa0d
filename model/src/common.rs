//! What every record shares: its metadata, the `Record` trait the store is generic over, and
//! the small text checks every draft uses.

use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;
pub use pocketbook_protocol::Marking;

use crate::error::ValidationError;

/// Longest free text the store accepts in one narrative field (characters).
pub const MAX_NARRATIVE: usize = 20_000;
/// Longest short text (names, places, recipients) the store accepts (characters).
pub const MAX_SHORT: usize = 500;

/// The metadata every record carries besides its own fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordMeta {
    /// The team whose bucket holds the record.
    pub team_id: Uuid,
    /// The officer who created it.
    pub created_by: Uuid,
    /// When it was created (device time).
    pub created_at: DateTime<Utc>,
    /// Its protective marking.
    pub marking: Marking,
    /// When it is next due for MoPI review.
    pub review_due: NaiveDate,
}

/// A record kind the store can keep: it knows its entity name, when it happened (for
/// chronologies) and which young people it concerns.
pub trait Record: Serialize + DeserializeOwned + Clone {
    /// The entity name on the wire and in storage.
    const ENTITY: Entity;
    /// The record's id.
    fn id(&self) -> Uuid;
    /// Its shared metadata.
    fn meta(&self) -> &RecordMeta;
    /// When the thing it records happened; orders chronologies.
    fn happened_at(&self) -> DateTime<Utc>;
    /// The young people it is about (empty for records that name no child).
    fn young_people(&self) -> Vec<Uuid>;
}

/// Checks a required text: not blank and not longer than `max` characters.
pub fn check_text(field: &'static str, text: &str, max: usize) -> Result<(), ValidationError> {
    if text.trim().is_empty() {
        return Err(ValidationError::Empty { field });
    }
    check_len(field, text, max)
}

/// Most entries in one list or set field of a record (the wire's bound, `MAX_SET_ELEMENTS`).
pub const MAX_ENTRIES: usize = pocketbook_protocol::limits::MAX_SET_ELEMENTS;

/// Checks that a list or set field holds at most [`MAX_ENTRIES`] entries.
pub fn check_count(field: &'static str, len: usize) -> Result<(), ValidationError> {
    if len > MAX_ENTRIES {
        return Err(ValidationError::TooMany {
            field,
            max: MAX_ENTRIES,
        });
    }
    Ok(())
}

/// Checks an optional text's length.
pub fn check_len(field: &'static str, text: &str, max: usize) -> Result<(), ValidationError> {
    if text.chars().count() > max {
        return Err(ValidationError::TooLong { field, max });
    }
    Ok(())
}
