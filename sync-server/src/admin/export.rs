//! Exports for supervisors and auditors: the quarantine of refused mutations and the server's
//! audit log, oldest first.

use super::AdminError;
use crate::store::{QuarantineEntry, Store};

/// Every refused mutation.
pub async fn quarantine<S: Store>(store: &S) -> Result<Vec<QuarantineEntry>, AdminError> {
    Ok(store.quarantine().await?)
}

/// The server audit log as JSON lines.
pub async fn audit_lines<S: Store>(store: &S) -> Result<Vec<String>, AdminError> {
    Ok(store.audit_lines().await?)
}
