//! The store's side of the admin journal (issue 12): the restore flag, how far the journal
//! the database reflects goes, and applying one journal entry in its own transaction with its
//! own `replayed` audit row. Beside [`super::Store`], so the trait stays as it is.

use std::future::Future;

use serde_json::json;

use super::journal_apply::apply;
use super::meta::{audit, journal_seq, restore_pending, set_journal_seq, set_restore_pending};
use super::sql_store::{Backend, SqlStore};
use crate::error::StoreError;
use crate::journal::{writing_to, Action};

/// The restore flag and the journal's replay over a store.
pub trait JournalStore {
    /// When the pending restore was made, or `None`: the server may serve.
    fn restore_pending(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Sets the restore flag to `at` (RFC 3339) or clears it, unaudited: the restore and
    /// `new-epoch` call it in their own transaction; tests call this.
    fn set_restore_pending(
        &self,
        at: Option<String>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The last journal entry the database reflects (0: none).
    fn journal_seq(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Applies journal entry `n` (made at `at`), audited as `replayed`, and records it as
    /// reflected; whether it changed anything (false: the database already reflected it).
    fn apply_journal_entry(
        &self,
        n: u64,
        at: String,
        action: Action,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Clears a pending restore, audited with `how` (`replayed_journal`,
    /// `confirmed_no_admin_actions`); false when none was pending.
    fn finish_restore(
        &self,
        how: &'static str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl<B: Backend> JournalStore for SqlStore<B> {
    async fn restore_pending(&self) -> Result<Option<String>, StoreError> {
        self.run_read(|db, _| restore_pending(db)).await
    }

    async fn set_restore_pending(&self, at: Option<String>) -> Result<(), StoreError> {
        self.run(move |db, _| set_restore_pending(db, at.as_deref()).map(|_| ()))
            .await
    }

    async fn journal_seq(&self) -> Result<u64, StoreError> {
        self.run_read(|db, _| journal_seq(db)).await
    }

    async fn apply_journal_entry(
        &self,
        n: u64,
        at: String,
        action: Action,
    ) -> Result<bool, StoreError> {
        self.run(move |db, sources| {
            // A replay does not journal what it replays.
            writing_to(None, || {
                db.serialize_writers()?;
                if journal_seq(db)? >= n {
                    return Ok(false);
                }
                let changed = apply(db, sources, &at, &action)?;
                audit(
                    db,
                    sources,
                    "replayed",
                    None,
                    None,
                    json!({ "journal_entry": n, "action": action.kind(), "changed": changed }),
                )?;
                set_journal_seq(db, n)?;
                Ok(changed)
            })
        })
        .await
    }

    async fn finish_restore(&self, how: &'static str) -> Result<bool, StoreError> {
        self.run(move |db, sources| {
            let pending = restore_pending(db)?;
            let Some(since) = pending else {
                return Ok(false);
            };
            set_restore_pending(db, None)?;
            audit(
                db,
                sources,
                "restore_settled",
                None,
                None,
                json!({ "how": how, "pending_since": since }),
            )?;
            Ok(true)
        })
        .await
    }
}

/// This server's id (the meta key `server_id`), which every journal entry names.
pub fn server_id(db: &mut dyn super::sql::Db) -> Result<uuid::Uuid, StoreError> {
    super::decode::parse_id(&super::meta::meta(db, "server_id")?)
}
