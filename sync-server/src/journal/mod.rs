//! The admin journal (issue 12): every admin action — enrolments (through the API too),
//! revocations, officers and their roles and teams, erasures, codes issued, suspensions
//! lifted — is also appended to a file OUTSIDE the database (`--admin-journal PATH`), so a
//! server restored from a backup can be made whole again by replaying what happened since.
//!
//! One JSON line per action, numbered from 1 (`n`) and hash-chained (`prev`, `hash`: SHA-256
//! over the previous hash and the entry's canonical content), naming the server it belongs to.
//! It holds no secrets: a code or a token appears only as its SHA-256.
//!
//! **Crash order.** The line is written and fsynced inside the action's database transaction,
//! after the action's own writes and just before the commit, and the transaction sets the meta
//! key `journal_seq` to the line's number. A crash before the fsync leaves neither; a crash
//! between the fsync and the commit leaves the journal one entry ahead of the database, never
//! the database ahead of the journal. Replaying an entry the database already reflects is a
//! no-op. The live server appends past such an orphan entry (numbers stay in commit order); a
//! replay after a restore applies it, as the admin meant it. Several processes (a `serve` and an admin command) may append: each append holds an
//! exclusive advisory lock on the file, and every journaled transaction first holds the audit
//! chain's row lock (the server's one writer lock), so entries are numbered in commit order.
//!
//! IO: [`write`] and [`read`] do blocking file IO; call them from the blocking pool (the store
//! does, inside its transactions).

pub mod gate;
pub mod read;
pub mod replay;
pub mod write;

use std::cell::RefCell;
use std::sync::Arc;

use pocketbook_protocol::sources::Sources;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use gate::RestoreGate;
pub use read::{read_verified, Verified};
pub use replay::{replay, ReplayReport};
pub use write::Journal;

use crate::error::StoreError;
use crate::store::sql::Db;

/// One admin action as the journal keeps it: what replaying it needs, and nothing secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// A team was added.
    AddTeam {
        /// Its id.
        team_id: Uuid,
        /// Its name.
        name: String,
    },
    /// An officer was added.
    AddOfficer {
        /// The officer as stored.
        officer: pocketbook_protocol::Officer,
    },
    /// An officer was moved to other teams or another role.
    UpdateOfficer {
        /// The officer as updated.
        officer: pocketbook_protocol::Officer,
    },
    /// A one-time enrolment code was issued (by its hash; never the code).
    IssueCode {
        /// SHA-256 of the code.
        code_hash: String,
        /// The officer it is for.
        officer_id: Uuid,
        /// When it expires (ms since the epoch).
        expires_at_ms: i64,
    },
    /// A device enrolled or re-authenticated with a code (by the token's hash; never the
    /// token).
    Enrol {
        /// The device.
        device_id: Uuid,
        /// Its officer.
        officer_id: Uuid,
        /// The device's name.
        device_name: String,
        /// SHA-256 of its new token.
        token_hash: String,
        /// SHA-256 of the code it used.
        code_hash: String,
        /// Its lease end (ms since the epoch), if one was set.
        lease_until_ms: Option<i64>,
    },
    /// A device was revoked.
    Revoke {
        /// The device.
        device_id: Uuid,
    },
    /// A device's suspension was lifted.
    LiftSuspension {
        /// The device.
        device_id: Uuid,
    },
    /// A record was erased: what its minimal tombstone needs if the restored database lacks
    /// the record (ids, kind and marking; no content).
    Erase {
        /// The record.
        record_id: Uuid,
        /// Its kind.
        entity: String,
        /// Its team.
        team_id: Uuid,
        /// Its marking.
        marking: String,
        /// Its author.
        created_by: Uuid,
        /// The reason given (as the audit log keeps it).
        reason: String,
    },
    /// The kept content of deleted records past their review date was dropped.
    PurgeReviewed {
        /// The records.
        record_ids: Vec<Uuid>,
    },
}

impl Action {
    /// The action's kind, as the journal line names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::AddTeam { .. } => "add_team",
            Action::AddOfficer { .. } => "add_officer",
            Action::UpdateOfficer { .. } => "update_officer",
            Action::IssueCode { .. } => "issue_code",
            Action::Enrol { .. } => "enrol",
            Action::Revoke { .. } => "revoke",
            Action::LiftSuspension { .. } => "lift_suspension",
            Action::Erase { .. } => "erase",
            Action::PurgeReviewed { .. } => "purge_reviewed",
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its number, from 1.
    pub n: u64,
    /// The server (its `server_id`) whose database the action was applied to.
    pub server: Uuid,
    /// When (RFC 3339).
    pub at: String,
    /// What.
    pub action: serde_json::Value,
    /// The previous line's hash (the genesis hash for the first).
    pub prev: String,
    /// SHA-256 over `prev` and the canonical content of `n`, `server`, `at` and `action`.
    pub hash: String,
}

/// The hash of an entry's content after `prev`.
pub fn entry_hash(
    prev: &str,
    n: u64,
    server: Uuid,
    at: &str,
    action: &serde_json::Value,
) -> String {
    use sha2::{Digest, Sha256};
    let content = serde_json::json!([n, server, at, action]);
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(b"\n");
    hasher.update(content.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// Why the journal could not be written, read or replayed. Messages name line numbers and
/// paths, never an entry's content.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be opened, read, locked, written or synced.
    #[error("admin journal {path}: {source}")]
    Io {
        /// The journal's path.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// A line does not hold: it was altered, removed or moved. Nothing was replayed.
    #[error("admin journal line {line} is broken ({reason}); nothing was replayed")]
    Broken {
        /// Its line number, from 1.
        line: u64,
        /// Why it does not hold.
        reason: &'static str,
    },
    /// The journal's end could not be read before an append: the action was not done.
    #[error("the admin journal cannot be appended to: {reason}; the action was not done")]
    Unreadable {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A line names another server: this is not this database's journal.
    #[error("admin journal line {line} belongs to another server: not this database's journal")]
    ForeignServer {
        /// Its line number, from 1.
        line: u64,
    },
    /// The database has applied entries the journal does not hold: the wrong or a truncated
    /// journal.
    #[error(
        "the admin journal ends at entry {journal} but the database has applied up to entry \
         {database}: the wrong journal, or one cut short"
    )]
    Behind {
        /// The journal's last entry.
        journal: u64,
        /// The database's `journal_seq`.
        database: u64,
    },
    /// A store operation failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<JournalError> for StoreError {
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Store(e) => e,
            other => StoreError::Journal(other.to_string()),
        }
    }
}

thread_local! {
    /// The journal the store operation running on this thread appends to, if any.
    static CURRENT: RefCell<Option<Arc<Journal>>> = const { RefCell::new(None) };
}

/// Runs `f` with `journal` as the journal every admin action it performs appends to (`None`:
/// none, as while replaying); the previous one is restored afterwards, even on a panic.
pub fn writing_to<T>(journal: Option<Arc<Journal>>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<Journal>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CURRENT.with(|c| c.replace(journal)));
    f()
}

/// Appends `action` to the current journal (if the store has one) and records its number as
/// the database's `journal_seq`, inside the caller's transaction: call it after the action's
/// own writes and its audit row, so the audit chain's row lock is held. Refused while a
/// restore is pending: the journal then holds entries the database has yet to replay.
pub fn record(db: &mut dyn Db, sources: &dyn Sources, action: Action) -> Result<(), StoreError> {
    let Some(journal) = CURRENT.with(|c| c.borrow().clone()) else {
        return Ok(());
    };
    if crate::store::restore_pending(db)?.is_some() {
        return Err(StoreError::Journal(
            "a restore is pending: run replay-journal (or confirm-restore) first".into(),
        ));
    }
    // Held until the commit: journaled transactions append in commit order.
    db.execute("UPDATE audit_chain SET seq = seq WHERE id = 1", &[])?;
    let server = crate::store::server_id(db)?;
    let applied = crate::store::journal_seq(db)?;
    let action = serde_json::to_value(&action).map_err(|_| StoreError::Corrupt("journal entry"))?;
    let n = journal.append(server, &sources.now().to_rfc3339(), action, applied)?;
    crate::store::set_journal_seq(db, n)
}
