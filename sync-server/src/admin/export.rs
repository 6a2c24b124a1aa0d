//! Exports and checks for supervisors and auditors: the quarantine of refused mutations, the
//! server's audit log (oldest first), `validate-store`.

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

/// Runs `validate-store` (every stored record put to the record guard, failures quarantined);
/// the line to print.
pub async fn validate_store<S: Store>(store: &S) -> Result<String, AdminError> {
    let report = store.validate_store().await?;
    Ok(format!(
        "validate-store: checked {}, quarantined {}",
        report.checked, report.quarantined
    ))
}
