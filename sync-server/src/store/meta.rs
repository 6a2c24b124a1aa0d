//! The server's own facts in the `meta` table (its id and epoch) and its audit log of every
//! push, pull and admin action. Runs inside the caller's transaction; the audit log names
//! operations, officers, devices and record ids, never personal data.

use pocketbook_protocol::sources::Sources;
use serde_json::Value;
use uuid::Uuid;

use super::clock::now_text;
use super::sql::{args, Db};
use crate::error::StoreError;

/// A value of the `meta` table.
pub fn meta(db: &mut dyn Db, key: &str) -> Result<String, StoreError> {
    db.query_one("SELECT value FROM meta WHERE key = ?1", args![key])?
        .text(0)
}

/// Appends to the server audit log, stamped with the sources' time.
pub fn audit(
    db: &mut dyn Db,
    sources: &dyn Sources,
    operation: &str,
    officer: Option<Uuid>,
    device: Option<Uuid>,
    detail: Value,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO audit (at, operation, officer_id, device_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![
            now_text(sources),
            operation,
            officer.map(|o| o.to_string()),
            device.map(|d| d.to_string()),
            detail.to_string()
        ],
    )?;
    Ok(())
}
