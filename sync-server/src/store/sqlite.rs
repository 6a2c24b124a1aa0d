//! The embedded SQLite backend: one file, WAL, one writer (a mutex around one connection, and
//! `BEGIN IMMEDIATE`), so sequence numbers are handed out and committed in order by
//! construction. Runs on the blocking pool.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use pocketbook_protocol::sources::{Sources, SystemSources};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection, ToSql, Transaction, TransactionBehavior};

use super::migrations::{self, Migrate, Migration};
use super::sql::{Cell, Db, Param, Row};
use super::sql_store::{Backend, SqlStore};
use crate::error::StoreError;

/// The store over SQLite.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// One SQLite connection for transactions, used by one at a time, and one read-only
/// connection for the reads that must not wait behind a writer (WAL lets it read while the
/// writer writes).
pub struct SqliteBackend {
    conn: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`, on the system's clock and random
    /// source.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_sources(path, Arc::new(SystemSources))
    }

    /// Opens (creating and migrating) the database at `path`, taking wall time, ids and random
    /// bytes from `sources`.
    pub fn open_with_sources(path: &Path, sources: Arc<dyn Sources>) -> Result<Self, StoreError> {
        create_owner_only(path)?;
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;",
        )?;
        migrations::migrate_with(&mut conn, sources.as_ref())?;
        let reader = Connection::open(path)?;
        reader.busy_timeout(std::time::Duration::from_secs(10))?;
        reader.execute_batch("PRAGMA query_only = ON;")?;
        Ok(SqlStore::with_sources(
            SqliteBackend {
                conn: Mutex::new(conn),
                reader: Mutex::new(reader),
            },
            sources,
        ))
    }
}

/// Creates the database file readable and writable by its owner only (0600) when it does not
/// exist yet; SQLite gives its `-wal` and `-shm` files the database file's permissions.
fn create_owner_only(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // A file that exists is opened as it is; a path that cannot be created fails in SQLite's
    // own open, with its own error.
    let _ = options.open(path);
    Ok(())
}

/// SQLite's migration glue: the version is `PRAGMA user_version`, each step runs in
/// `BEGIN IMMEDIATE` (SQLite's one writer lock) and sets it.
impl Migrate for Connection {
    const STEPS: &'static [Migration] = migrations::SQLITE;

    fn version(&mut self) -> Result<u32, StoreError> {
        Ok(self.query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn apply(&mut self, step: &Migration) -> Result<(), StoreError> {
        let tx = self.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let at: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if at < step.version {
            tx.execute_batch(step.sql)?;
            tx.pragma_update(None, "user_version", step.version)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn finish(&mut self, sources: &dyn Sources) -> Result<(), StoreError> {
        let tx = self.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for key in ["server_id", "epoch"] {
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, sources.new_id().to_string()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

impl Backend for SqliteBackend {
    fn transaction<T>(
        &self,
        f: &mut dyn FnMut(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&mut SqliteTx(&tx))?;
        tx.commit()?;
        Ok(value)
    }

    fn read<T>(
        &self,
        f: &mut dyn FnMut(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.reader.lock().unwrap_or_else(PoisonError::into_inner);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let value = f(&mut SqliteTx(&tx))?;
        tx.commit()?;
        Ok(value)
    }
}

/// An open SQLite transaction seen through [`Db`].
struct SqliteTx<'a>(&'a Transaction<'a>);

impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Param::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Param::Bool(v) => ToSqlOutput::Owned(Value::Integer(i64::from(*v))),
            Param::Null => ToSqlOutput::Owned(Value::Null),
        })
    }
}

fn cell(value: ValueRef<'_>) -> Result<Cell, StoreError> {
    Ok(match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) => Cell::Int(v),
        ValueRef::Text(t) => Cell::Text(
            std::str::from_utf8(t)
                .map_err(|_| StoreError::Corrupt("text"))?
                .to_string(),
        ),
        ValueRef::Real(_) | ValueRef::Blob(_) => return Err(StoreError::Corrupt("column type")),
    })
}

impl Db for SqliteTx<'_> {
    fn execute(&mut self, sql: &'static str, args: &[Param]) -> Result<u64, StoreError> {
        let n = self
            .0
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(args))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &'static str, args: &[Param]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let cells = (0..width)
                .map(|i| cell(row.get_ref(i)?))
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.push(Row(cells));
        }
        Ok(out)
    }

    fn serialize_writers(&mut self) -> Result<(), StoreError> {
        // BEGIN IMMEDIATE already holds SQLite's one writer lock.
        Ok(())
    }

    fn next_seq(&mut self) -> Result<i64, StoreError> {
        self.query_one(
            "UPDATE counters SET value = value + 1 WHERE name = 'change' RETURNING value",
            &[],
        )?
        .int(0)
    }
}
