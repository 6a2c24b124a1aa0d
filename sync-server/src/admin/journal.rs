//! Settling a restored server (issue 12): replaying the admin journal kept outside the
//! database, or confirming as an admin that no admin acted since the backup. Either clears
//! `restore_pending`, audited, and `serve` serves again.

use std::path::{Path, PathBuf};

use super::AdminError;
use crate::journal::{self, ReplayReport};
use crate::store::{JournalStore, Store};

/// Replays the journal at `path` (verified whole first) and clears a pending restore.
pub async fn replay_journal<S: Store + JournalStore>(
    store: &S,
    path: &Path,
) -> Result<ReplayReport, AdminError> {
    Ok(journal::replay(store, path).await?)
}

/// Clears a pending restore on an admin's word that no admin acted since the backup (audited);
/// false when none was pending.
pub async fn confirm_restore<S: JournalStore>(store: &S) -> Result<bool, AdminError> {
    Ok(store.finish_restore("confirmed_no_admin_actions").await?)
}

/// The restore-settling commands, flattened into `pocketbook-server`'s own.
#[derive(Debug, clap::Subcommand)]
pub enum JournalCommand {
    /// After a restore: apply the admin journal's entries the database lacks (needs
    /// --admin-journal; a broken or foreign journal is refused, naming the line, and nothing
    /// changes), then serve again. Idempotent.
    ReplayJournal,
    /// After a restore: serve again on an admin's word that no admin acted since the backup.
    ConfirmRestore {
        /// Confirms that no admin action (enrolment, revocation, officer change, erasure,
        /// code) happened since the backup.
        #[arg(long)]
        no_admin_actions: bool,
    },
}

/// Runs a restore-settling command with the journal given (`--admin-journal`); the line to
/// print.
pub async fn run<S: Store + JournalStore>(
    store: &S,
    command: JournalCommand,
    journal: Option<PathBuf>,
) -> Result<String, AdminError> {
    let usage = |reason: &str| AdminError::InvalidChoice {
        flag: "admin-journal",
        reason: reason.into(),
    };
    let settled = |cleared| match cleared {
        true => "; the restore is settled: serving again",
        false => "",
    };
    match command {
        JournalCommand::ReplayJournal => {
            let path = journal.ok_or_else(|| usage("replay-journal needs the journal's path"))?;
            let done = replay_journal(store, &path).await?;
            Ok(format!(
                "replayed the admin journal after entry {} up to {}: {} changed the database, \
                 {} it already held{}",
                done.from,
                done.to,
                done.applied,
                done.unchanged,
                settled(done.cleared_restore)
            ))
        }
        JournalCommand::ConfirmRestore { no_admin_actions } => {
            if !no_admin_actions {
                return Err(AdminError::InvalidChoice {
                    flag: "no-admin-actions",
                    reason: "confirm it, or run replay-journal".into(),
                });
            }
            Ok(match confirm_restore(store).await? {
                true => "the restore is settled: serving again".to_string(),
                false => "no restore was pending".to_string(),
            })
        }
    }
}
