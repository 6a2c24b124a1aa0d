//! Decoding what the database holds — ids and JSON documents — into typed values, with every
//! failure mapped to [`StoreError::Corrupt`] naming what was being read, never its content.
//! Runs inside the caller's transaction.

use uuid::Uuid;

use super::sql::Db;
use crate::error::StoreError;

/// Maps a JSON decoding failure of stored data to [`StoreError::Corrupt`].
pub fn corrupt(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |_| StoreError::Corrupt(what)
}

/// Parses a stored id.
pub fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt("id"))
}

/// Every row of a one-column query of JSON documents, decoded.
pub fn all_json<T: serde::de::DeserializeOwned>(
    db: &mut dyn Db,
    sql: &'static str,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    db.query(sql, &[])?
        .iter()
        .map(|row| serde_json::from_str(&row.text(0)?).map_err(corrupt(what)))
        .collect()
}

/// A protocol counter (sequence number, cursor) as the database's signed integer; counters
/// never come near `i64::MAX`, and one that did would saturate rather than wrap.
pub fn db_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored integer as a protocol counter; the database holds none below zero, and one that
/// was would read as 0 rather than wrap.
pub fn counter(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
