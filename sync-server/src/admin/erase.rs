//! Erasure as an admin (issue 11): `erase RECORD_ID --reason TEXT` turns any record, concerns
//! and addenda included, into a minimal tombstone with the reason audited; `purge-reviewed`
//! drops the content the server kept of deleted records whose review date has passed (run it
//! daily, e.g. from cron: `serve` does not run it itself).

use clap::Subcommand;
use uuid::Uuid;

use super::AdminError;
use crate::store::RecordErasure;

/// The erasure commands, flattened into `pocketbook-server`'s own.
#[derive(Debug, Subcommand)]
pub enum ErasureCommand {
    /// Erase a record (any kind): devices receive a minimal tombstone; its content, the values
    /// its conflicts hold and its quarantined changes are dropped. The reason is audited.
    Erase {
        /// The record's id.
        record_id: Uuid,
        /// Why it is erased (kept in the server's audit log).
        #[arg(long)]
        reason: String,
    },
    /// Drop the kept content of records devices deleted whose review date has passed.
    PurgeReviewed,
}

/// Runs an erasure command; returns the line to print.
pub async fn run<S: RecordErasure>(
    store: &S,
    command: ErasureCommand,
) -> Result<String, AdminError> {
    match command {
        ErasureCommand::Erase { record_id, reason } => {
            if reason.trim().is_empty() {
                return Err(AdminError::InvalidChoice {
                    flag: "reason",
                    reason: "an erasure needs a reason".into(),
                });
            }
            if store.erase_record(record_id, reason).await? {
                Ok(format!("erased {record_id}"))
            } else {
                Err(AdminError::UnknownRecord)
            }
        }
        ErasureCommand::PurgeReviewed => {
            let purged = store.purge_reviewed().await?;
            Ok(format!(
                "purged the kept content of {} records",
                purged.len()
            ))
        }
    }
}
