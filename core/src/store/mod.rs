//! The encrypted device store: one SQLCipher file, opened with a raw key, migrated on open.
//! Every call is synchronous and may touch the disk: never call it on a UI thread.

mod audit;
mod bulk_load;
mod conflicts;
mod device;
mod enrolment;
mod fields_text;
mod fork;
mod key;
mod left_scope;
mod overlay;
mod pull;
mod push;
mod records;
mod reference;
mod refused;
pub(crate) mod restore;
pub(crate) mod resync;
pub(crate) mod schema;
mod unreadable;
mod versions;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction};

pub(crate) use audit::{
    append as append_audit, events as audit_events, events_after as audit_events_after,
    events_for as audit_events_for, verify as audit_verify, AuditDraft,
};
pub(crate) use bulk_load::{begin as bulk_load_begin, finish as bulk_load_finish};
pub(crate) use conflicts::{mark_resolved, open_conflicts, reopen_conflicts, resolutions_to_push};
pub(crate) use device::DeviceState;
pub(crate) use enrolment::{enrolled, mark_lapsed, mark_synced, save_enrolment, trust, trusted};
pub(crate) use fork::{acked_position, become_new_device, note_acked, refuse_while_forked};
pub use key::StoreKey;
pub(crate) use left_scope::settle as settle_left_scope;
pub(crate) use pull::{apply as apply_pull, cursors, noted_buckets, Pulled};
pub(crate) use push::{apply as apply_push, restamp};
pub use refused::RejectedChange;
pub(crate) use refused::{
    forget as forget_refused, held, list as rejected_changes, pending_edits,
    refused as refused_change,
};

pub(crate) use records::{
    capture, decode_fields, exists, get, list, load, outbox, versions_of, Scope, Stored, WriteKind,
};
pub use reference::Provisioning;
pub(crate) use reference::{
    all as reference_all, install as reference_install, known as reference_known,
    officer as session_officer,
};
pub(crate) use unreadable::list as unreadable_records;
pub use unreadable::UnreadableRecord;
#[cfg(test)]
pub(crate) use versions::encode as encode_versions;

use crate::error::{Error, Result};
use pocketbook_protocol::sources::Sources;

/// An open device store. After [`Store::close_and_delete`] every call fails with
/// [`Error::DeviceRevoked`]: the files are gone.
pub(crate) struct Store {
    conn: Mutex<Option<Connection>>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if absent) the store at `path`, checks the key and migrates it.
    pub(crate) fn open(
        path: &Path,
        key: &StoreKey,
        device_name: &str,
        sources: &dyn Sources,
    ) -> Result<Self> {
        let mut conn = open_connection(path, key)?;
        schema::migrate_to(&mut conn, schema::CURRENT_VERSION)?;
        // A first sync the app died during left its index to build.
        bulk_load::finish(&conn)?;
        device::ensure(&mut conn, device_name, sources)?;
        // Records an older build set aside may be readable by this one.
        let tx = conn.transaction()?;
        unreadable::retry(&tx)?;
        tx.commit()?;
        Ok(Store {
            conn: Mutex::new(Some(conn)),
            path: path.to_path_buf(),
        })
    }

    /// The path of the database file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one immediate transaction: all of its writes land or none do.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut guard = self.lock();
        let conn = guard.as_mut().ok_or(Error::DeviceRevoked)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` against a consistent read snapshot.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let guard = self.lock();
        let conn = guard.as_ref().ok_or(Error::DeviceRevoked)?;
        f(conn)
    }

    /// Closes the connection and deletes the database with its WAL and shared-memory files.
    pub(crate) fn close_and_delete(&self) -> Result<()> {
        let mut guard = self.lock();
        if let Some(conn) = guard.take() {
            // Closing can only fail while statements are live; none are outside a call.
            drop(conn.close());
        }
        delete_files(&self.path)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Connection>> {
        // A panic while holding the lock cannot leave a half-done transaction behind (it rolls
        // back on drop), so a poisoned lock is still safe to use.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Serialises applying keys across the process (see `open_connection`).
static KEYING: Mutex<()> = Mutex::new(());

/// Activates SQLCipher's crypto provider once, before any other keyed connection exists in
/// the process. `Pocketbook::open` does this itself; a process that also opens SQLCipher
/// connections of its own (tests, tools) calls it first.
pub fn activate_sqlcipher() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _keying = KEYING.lock().unwrap_or_else(|p| p.into_inner());
        if let Ok(conn) = Connection::open_in_memory() {
            // The key and query only warm the provider up; an error here resurfaces, with
            // its context, at the real open.
            let _ = conn.execute_batch("PRAGMA cipher_log_level = 'NONE'; PRAGMA key = 'warm-up';");
            let _ = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            });
        }
    });
}

/// Opens the SQLite connection, applies the key and the pragmas, and proves the key is right.
pub(crate) fn open_connection(path: &Path, key: &StoreKey) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    activate_sqlcipher();
    create_owner_only(path)?;
    let conn = Connection::open_with_flags(path, flags)?;
    // SQLCipher activates its crypto provider on the first keyed use in a process, and that
    // activation races when two threads key their first connections at once ("An error
    // occurred with PRAGMA key"). Keying is rare and fast, so it is serialised process-wide.
    let _keying = KEYING.lock().unwrap_or_else(|p| p.into_inner());
    match key {
        StoreKey::Raw(bytes) => {
            conn.execute_batch("PRAGMA cipher_log_level = 'NONE';")?;
            let hex = zeroize::Zeroizing::new(hex::encode(bytes.as_slice()));
            let statement = zeroize::Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", *hex));
            conn.execute_batch(&statement)?;
        }
        #[cfg(feature = "insecure-plaintext")]
        StoreKey::Plaintext => {}
    }
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => Error::WrongKey,
        _ => Error::Storage(e),
    })?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Storage(rusqlite::Error::InvalidQuery));
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -16384;",
    )?;
    Ok(conn)
}

/// Creates a missing database file readable by its owner only; SQLite gives its WAL and
/// shared-memory files the same permissions.
fn create_owner_only(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::Io(e)),
    }
}

/// Deletes a store's database file and its WAL and shared-memory files.
pub(crate) fn delete_files(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(PathBuf::from(name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io(e)),
        }
    }
    Ok(())
}

#[cfg(all(test, feature = "insecure-plaintext"))]
mod plaintext_tests {
    use super::*;

    #[test]
    fn plaintext_stores_open_only_with_the_feature_and_really_are_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.db");
        drop(
            Store::open(
                &path,
                &StoreKey::Plaintext,
                "test",
                &pocketbook_protocol::sources::SystemSources,
            )
            .unwrap(),
        );
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"SQLite format 3\0"));
        // An encrypted key does not open a plaintext store, and vice versa.
        let key = StoreKey::from_bytes(&[1u8; 32]).unwrap();
        assert!(matches!(
            Store::open(
                &path,
                &key,
                "t",
                &pocketbook_protocol::sources::SystemSources
            ),
            Err(Error::WrongKey)
        ));
        let enc = dir.path().join("enc.db");
        drop(
            Store::open(
                &enc,
                &key,
                "t",
                &pocketbook_protocol::sources::SystemSources,
            )
            .unwrap(),
        );
        assert!(matches!(
            Store::open(
                &enc,
                &StoreKey::Plaintext,
                "t",
                &pocketbook_protocol::sources::SystemSources
            ),
            Err(Error::WrongKey)
        ));
    }
}
