//! The server's own facts in the `meta` table (its id and epoch) and its audit log of every
//! push, pull and admin action. Runs inside the caller's transaction; the audit log names
//! operations, officers, devices and record ids, and keeps the reasons officers and admins give
//! for a change where the authorisation table asks for one (free text, exported only to admins;
//! never written to the tracing log).
//!
//! The log is a hash chain (issue 11): each row carries its place in the chain (`chain_seq`),
//! the previous row's hash and its own, SHA-256 over that previous hash and the row's
//! canonical content. Every writer first updates the one row of `audit_chain`, whose row lock
//! (SQLite: the one writer lock) serialises writers from any number of server processes, so
//! there is one chain. The admin who acted (`--as`) is taken from [`acting_as`], set for the
//! duration of a store operation by the store that carries it.

use std::cell::RefCell;

use pocketbook_protocol::sources::Sources;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::clock::now_text;
use super::sql::{args, Db};
use crate::error::StoreError;

/// A value of the `meta` table.
pub fn meta(db: &mut dyn Db, key: &str) -> Result<String, StoreError> {
    db.query_one("SELECT value FROM meta WHERE key = ?1", args![key])?
        .text(0)
}

thread_local! {
    /// The admin acting in the store operation running on this thread, if any.
    static ACTOR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` with `actor` recorded as the admin acting, in every audit row it writes; the
/// previous actor is restored afterwards, even if `f` panics (blocking threads are reused).
pub fn acting_as<T>(actor: Option<&str>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<String>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            ACTOR.with(|a| *a.borrow_mut() = previous);
        }
    }
    let _restore = Restore(ACTOR.with(|a| a.replace(actor.map(str::to_string))));
    f()
}

/// The canonical content of an audit row that its hash covers, after the previous hash.
pub fn chain_hash(prev_hash: &str, row: &ChainRow) -> String {
    let content = serde_json::json!([
        row.chain_seq,
        row.at,
        row.operation,
        row.officer_id,
        row.device_id,
        row.actor,
        row.detail
    ]);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(content.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// The content of one chained audit row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    /// Its place in the chain, from 1.
    pub chain_seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// What.
    pub operation: String,
    /// The officer concerned.
    pub officer_id: Option<String>,
    /// The device concerned.
    pub device_id: Option<String>,
    /// The admin who acted (admin commands).
    pub actor: Option<String>,
    /// The detail, as stored JSON text.
    pub detail: String,
}

/// Appends to the server audit log, stamped with the sources' time, chained to the head.
pub fn audit(
    db: &mut dyn Db,
    sources: &dyn Sources,
    operation: &str,
    officer: Option<Uuid>,
    device: Option<Uuid>,
    detail: Value,
) -> Result<(), StoreError> {
    // Takes the chain's row lock before reading the head: writers queue here.
    let head = db.query_one(
        "UPDATE audit_chain SET seq = seq + 1 WHERE id = 1 RETURNING seq, head",
        &[],
    )?;
    let row = ChainRow {
        chain_seq: head.int(0)?,
        at: now_text(sources),
        operation: operation.to_string(),
        officer_id: officer.map(|o| o.to_string()),
        device_id: device.map(|d| d.to_string()),
        actor: ACTOR.with(|a| a.borrow().clone()),
        detail: detail.to_string(),
    };
    let prev_hash = head.text(1)?;
    let hash = chain_hash(&prev_hash, &row);
    db.execute(
        "INSERT INTO audit (at, operation, officer_id, device_id, detail, chain_seq, actor,
             prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        args![
            row.at,
            row.operation,
            row.officer_id,
            row.device_id,
            row.detail,
            row.chain_seq,
            row.actor,
            prev_hash,
            &hash
        ],
    )?;
    db.execute(
        "UPDATE audit_chain SET head = ?1 WHERE id = 1",
        args![&hash],
    )?;
    Ok(())
}

/// What [`verify_chain`] found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainReport {
    /// Chained rows checked.
    pub checked: i64,
    /// Rows from before the chain (unchained, written by an older server).
    pub unchained: i64,
    /// The head: the last row's hash (the genesis hash when there is none).
    pub head: String,
    /// The first row that does not hold (`None`: the chain holds).
    pub broken: Option<BrokenRow>,
}

/// A row of the audit log that breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BrokenRow {
    /// Its id in the `audit` table.
    pub id: i64,
    /// Its place in the chain as stored.
    pub chain_seq: Option<i64>,
    /// Why it does not hold.
    pub reason: &'static str,
}

/// Rows read per page while verifying.
const PAGE: i64 = 1_000;

/// Walks the chain from its first row: each row's place follows the last, its previous hash is
/// the last row's hash and its hash is its content's; no unchained row follows a chained one;
/// the head recorded in `audit_chain` is the last row's.
pub fn verify_chain(db: &mut dyn Db) -> Result<ChainReport, StoreError> {
    let mut prev = pocketbook_protocol::GENESIS_HASH.to_string();
    let mut expected_seq = 1;
    let mut after_id = i64::MIN;
    let mut unchained = 0;
    let mut first_chained: Option<i64> = None;
    let broken = |id, chain_seq, reason| {
        Some(BrokenRow {
            id,
            chain_seq,
            reason,
        })
    };
    loop {
        let rows = db.query(
            "SELECT id, at, operation, officer_id, device_id, detail, chain_seq, actor, prev_hash,
                 hash
             FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2",
            args![after_id, PAGE],
        )?;
        let Some(last) = rows.last() else { break };
        after_id = last.int(0)?;
        for r in &rows {
            let id = r.int(0)?;
            let Some(chain_seq) = r.opt_int(6)? else {
                if first_chained.is_some() {
                    return report(
                        expected_seq - 1,
                        unchained,
                        prev,
                        broken(id, None, "an unchained row after the chain began"),
                    );
                }
                unchained += 1;
                continue;
            };
            first_chained.get_or_insert(id);
            if chain_seq != expected_seq {
                return report(
                    expected_seq - 1,
                    unchained,
                    prev,
                    broken(
                        id,
                        Some(chain_seq),
                        "out of place: a row before it is missing or moved",
                    ),
                );
            }
            let row = ChainRow {
                chain_seq,
                at: r.text(1)?,
                operation: r.text(2)?,
                officer_id: r.opt_text(3)?,
                device_id: r.opt_text(4)?,
                actor: r.opt_text(7)?,
                detail: r.text(5)?,
            };
            if r.opt_text(8)?.as_deref() != Some(prev.as_str()) {
                return report(
                    expected_seq - 1,
                    unchained,
                    prev,
                    broken(
                        id,
                        Some(chain_seq),
                        "its previous hash is not the previous row's hash",
                    ),
                );
            }
            let hash = chain_hash(&prev, &row);
            if r.opt_text(9)?.as_deref() != Some(hash.as_str()) {
                return report(
                    expected_seq - 1,
                    unchained,
                    prev,
                    broken(id, Some(chain_seq), "its content does not match its hash"),
                );
            }
            prev = hash;
            expected_seq += 1;
        }
    }
    let recorded = db.query_one("SELECT seq, head FROM audit_chain WHERE id = 1", &[])?;
    let tail = if recorded.int(0)? != expected_seq - 1 || recorded.text(1)? != prev {
        broken(
            after_id,
            None,
            "the recorded head is not the last row's hash: rows were removed from the end",
        )
    } else {
        None
    };
    report(expected_seq - 1, unchained, prev, tail)
}

fn report(
    checked: i64,
    unchained: i64,
    head: String,
    broken: Option<BrokenRow>,
) -> Result<ChainReport, StoreError> {
    Ok(ChainReport {
        checked,
        unchained,
        head,
        broken,
    })
}

/// The chain's head as recorded: the hash of its last row.
pub fn chain_head(db: &mut dyn Db) -> Result<String, StoreError> {
    db.query_one("SELECT head FROM audit_chain WHERE id = 1", &[])?
        .text(0)
}

/// When the pending restore was made (the meta key `restore_pending`, RFC 3339), or `None`
/// when the server may serve (issue 12: a restored database waits for its admin journal).
pub fn restore_pending(db: &mut dyn Db) -> Result<Option<String>, StoreError> {
    Ok(db
        .query_opt("SELECT value FROM meta WHERE key = 'restore_pending'", &[])?
        .map(|r| r.text(0))
        .transpose()?
        .filter(|v| !v.is_empty()))
}

/// Sets `restore_pending` to `at` (RFC 3339), or clears it (`None`), in the caller's
/// transaction; whether it changed. The restore and `new-epoch` set it; the journal's replay
/// and `confirm-restore` clear it.
pub fn set_restore_pending(db: &mut dyn Db, at: Option<&str>) -> Result<bool, StoreError> {
    let n = match at {
        Some(at) => db.execute(
            "INSERT INTO meta (key, value) VALUES ('restore_pending', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            args![at],
        )?,
        None => db.execute("DELETE FROM meta WHERE key = 'restore_pending'", &[])?,
    };
    Ok(n > 0)
}

/// The last admin journal entry this database reflects (the meta key `journal_seq`; 0 when
/// none): a backup of it knows how far its journal goes.
pub fn journal_seq(db: &mut dyn Db) -> Result<u64, StoreError> {
    db.query_opt("SELECT value FROM meta WHERE key = 'journal_seq'", &[])?
        .map_or(Ok(0), |r| {
            r.text(0)?
                .parse()
                .map_err(|_| StoreError::Corrupt("journal_seq"))
        })
}

/// Records `n` as the last admin journal entry this database reflects.
pub fn set_journal_seq(db: &mut dyn Db, n: u64) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('journal_seq', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        args![n.to_string()],
    )?;
    Ok(())
}
