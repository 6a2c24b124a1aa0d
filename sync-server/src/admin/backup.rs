//! Backup and restore of the server's store (issue 12). `backup FILE` makes an online,
//! consistent copy of the SQLite store while `serve` runs (`VACUUM INTO`: one read
//! transaction, so writers go on); it never overwrites a file. `restore FILE` (the server
//! stopped) checks FILE is a Pocketbook store, migrates a copy of it forward, gives the copy a
//! new epoch and puts it in place with a rename. `new-epoch` (either backend; after
//! `pg_restore` for PostgreSQL) gives the store a new epoch: devices then reconcile, and every
//! enrolment code not yet used stops working. Blocking file IO runs on the blocking pool.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use rusqlite::{Connection, OpenFlags};

use super::AdminError;
use crate::error::StoreError;
use crate::store::{Epochs, SqliteStore};

/// What to tell an admin who asks a PostgreSQL store for a file backup.
pub const POSTGRES_WAY: &str = "backup and restore copy a SQLite store; for PostgreSQL use \
    pg_dump (and pg_restore to restore), then run `pocketbook-server new-epoch`";

/// The backup commands, flattened into `pocketbook-server`'s own.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Copy the SQLite store to FILE, consistently, while the server runs. Never overwrites.
    Backup {
        /// The copy to make (must not exist).
        file: PathBuf,
    },
    /// Restore the SQLite store from a backup FILE. Stop the server first. The restored store
    /// gets a new epoch: devices reconcile at their next sync, and enrolment codes issued
    /// before the backup no longer work.
    Restore {
        /// The backup to restore from.
        file: PathBuf,
    },
    /// Give the store a new epoch (after restoring PostgreSQL with pg_restore): devices
    /// reconcile at their next sync; unused enrolment codes stop working.
    NewEpoch,
}

/// Whether `db` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

fn usage(message: impl Into<String>) -> AdminError {
    AdminError::Store(StoreError::Invalid(message.into()))
}

/// Runs `backup` or `restore` on the SQLite store at `db` (PostgreSQL is refused with the way
/// to do it); returns the line to print. `new-epoch` runs over any store: [`new_epoch`].
/// `actor` is the admin acting, named in the restored store's `new_epoch` audit row.
pub async fn run_file(
    db: &str,
    command: &BackupCommand,
    actor: Option<String>,
) -> Result<String, AdminError> {
    if is_postgres(db) {
        return Err(usage(POSTGRES_WAY));
    }
    let db = PathBuf::from(db);
    match command {
        BackupCommand::Backup { file } => {
            let file = file.clone();
            blocking(move || backup(&db, &file)).await
        }
        BackupCommand::Restore { file } => restore(&db, file, actor).await,
        BackupCommand::NewEpoch => Err(usage("new-epoch runs over the store itself")),
    }
}

/// Runs `backup` or `restore` from the command line (`None` for `new-epoch`, which runs over
/// the opened store): after a restore, with `--admin-journal`, replays the admin actions the
/// journal holds after the backup and so settles the restore (else the server waits for
/// `replay-journal` or `confirm-restore`). Returns the lines to print.
pub async fn run_file_command(
    db: &str,
    command: &BackupCommand,
    actor: Option<String>,
    journal: Option<PathBuf>,
) -> Result<Option<String>, AdminError> {
    if matches!(command, BackupCommand::NewEpoch) {
        return Ok(None);
    }
    let mut done = run_file(db, command, actor).await?;
    if let (BackupCommand::Restore { .. }, Some(path)) = (command, journal) {
        let store = crate::store::SqliteStore::open(Path::new(db))?;
        let replayed = super::journal::run(
            &store,
            super::journal::JournalCommand::ReplayJournal,
            Some(path),
        )
        .await?;
        done = format!("{done}\n{replayed}");
    }
    Ok(Some(done))
}

/// Gives the store a new epoch; returns the line to print.
pub async fn new_epoch<S: Epochs>(store: &S) -> Result<String, AdminError> {
    let epoch = store.new_epoch().await?;
    Ok(format!(
        "new epoch {epoch}: devices reconcile at their next sync; unused enrolment codes no \
         longer work"
    ))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AdminError> + Send + 'static,
) -> Result<T, AdminError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| AdminError::Store(StoreError::Task))?
}

/// Copies the store at `db` into the new file `file` in one read transaction.
pub fn backup(db: &Path, file: &Path) -> Result<String, AdminError> {
    if !db.is_file() {
        return Err(usage("no SQLite store at the --db path"));
    }
    // Made here, owner-only and new: an existing file is never overwritten (VACUUM INTO
    // writes into an empty file).
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => usage("the backup file exists already"),
        _ => AdminError::Io(e),
    })?;
    let copied = (|| -> Result<(), StoreError> {
        let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        let target = file
            .to_str()
            .ok_or_else(|| StoreError::Invalid("the backup path is not UTF-8".into()))?;
        conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(file);
        return Err(e.into());
    }
    let bytes = std::fs::metadata(file)?.len();
    Ok(format!("backed up to {} ({bytes} bytes)", file.display()))
}

/// Fails when a process (a running server) holds the store at `db` open.
fn ensure_stopped(db: &Path) -> Result<(), AdminError> {
    if !db.exists() {
        return Ok(());
    }
    let conn = Connection::open(db).map_err(StoreError::from)?;
    // Asked once, not waited on: a serving process holds its connections open.
    conn.busy_timeout(std::time::Duration::ZERO)
        .map_err(StoreError::from)?;
    let locked = conn
        .execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;")
        .is_err();
    drop(conn);
    if locked {
        return Err(usage(
            "the store is in use: stop the server before restoring",
        ));
    }
    Ok(())
}

/// The path beside `db` with `suffix` appended to its name.
fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    db.with_file_name(name)
}

/// Removes `path` if it exists.
fn remove_if_there(path: &Path) -> Result<(), AdminError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// Whether `file` is a Pocketbook server store (SQLite with the server's meta rows).
fn is_pocketbook_store(file: &Path) -> Result<bool, AdminError> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| usage("the backup file cannot be opened as SQLite"))?;
    let found: Result<String, _> =
        conn.query_row("SELECT value FROM meta WHERE key = 'server_id'", [], |r| {
            r.get(0)
        });
    Ok(found.is_ok())
}

/// Restores the store at `db` from `file` (see the module doc); returns the line to print.
async fn restore(db: &Path, file: &Path, actor: Option<String>) -> Result<String, AdminError> {
    let (db, file) = (db.to_path_buf(), file.to_path_buf());
    let temp = beside(&db, ".restoring");
    {
        let (db, file, temp) = (db.clone(), file.clone(), temp.clone());
        blocking(move || {
            ensure_stopped(&db)?;
            if !file.is_file() || !is_pocketbook_store(&file)? {
                return Err(usage("the backup file is not a Pocketbook server store"));
            }
            for stale in [&temp, &beside(&temp, "-wal"), &beside(&temp, "-shm")] {
                remove_if_there(stale)?;
            }
            std::fs::copy(&file, &temp)?;
            Ok(())
        })
        .await?;
    }
    // Migrated forward and given its new epoch before it takes the store's place.
    let epoch = {
        let path = temp.clone();
        let store = blocking(move || Ok(SqliteStore::open(&path)?)).await?;
        let store = store.acting_as(actor.as_deref());
        let epoch = store.new_epoch().await?;
        drop(store);
        epoch
    };
    blocking(move || {
        let conn = Connection::open(&temp).map_err(StoreError::from)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(StoreError::from)?;
        drop(conn);
        ensure_stopped(&db)?;
        // A WAL left beside the new file would be replayed into it.
        remove_if_there(&beside(&db, "-wal"))?;
        remove_if_there(&beside(&db, "-shm"))?;
        std::fs::rename(&temp, &db)?;
        remove_if_there(&beside(&temp, "-wal"))?;
        remove_if_there(&beside(&temp, "-shm"))?;
        Ok(format!(
            "restored {} from {} with new epoch {epoch}: devices reconcile at their next sync",
            db.display(),
            file.display()
        ))
    })
    .await
}
