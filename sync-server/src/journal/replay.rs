//! Making a restored server whole: verify the journal (refuse a broken or foreign one, naming
//! the line, before anything changes), apply every entry after the database's `journal_seq`
//! in order, each in its own transaction with its own `replayed` audit row, then clear
//! `restore_pending`. Idempotent: a second replay finds nothing after `journal_seq`, and an
//! entry the database already reflects applies as a no-op.

use std::path::Path;

use serde::Serialize;

use super::read::read_verified_after;
use super::JournalError;
use crate::store::{JournalStore, Store};

/// What a replay did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    /// The database's `journal_seq` before.
    pub from: u64,
    /// The journal's last entry (now the database's `journal_seq`).
    pub to: u64,
    /// Entries after `from` that changed the database.
    pub applied: u64,
    /// Entries after `from` the database already reflected (no-ops).
    pub unchanged: u64,
    /// A partial last line (a crash mid-append) was ignored.
    pub partial_tail: bool,
    /// A pending restore was cleared.
    pub cleared_restore: bool,
}

/// Replays the journal at `path` into `store` and clears a pending restore.
pub async fn replay<S: Store + JournalStore>(
    store: &S,
    path: &Path,
) -> Result<ReplayReport, JournalError> {
    let (server, _) = store.identity().await?;
    let from = store.journal_seq().await?;
    let owned = path.to_path_buf();
    let journal = tokio::task::spawn_blocking(move || read_verified_after(&owned, server, from))
        .await
        .map_err(|_| crate::error::StoreError::Task)??;
    if journal.last() < from {
        return Err(JournalError::Behind {
            journal: journal.last(),
            database: from,
        });
    }
    let mut report = ReplayReport {
        from,
        to: journal.last(),
        partial_tail: journal.partial_tail,
        ..ReplayReport::default()
    };
    for (entry, action) in journal.entries {
        if store.apply_journal_entry(entry.n, entry.at, action).await? {
            report.applied += 1;
        } else {
            report.unchanged += 1;
        }
    }
    report.cleared_restore = store.finish_restore("replayed_journal").await?;
    tracing::info!(
        from = report.from,
        to = report.to,
        applied = report.applied,
        unchanged = report.unchanged,
        "admin journal replayed"
    );
    Ok(report)
}
