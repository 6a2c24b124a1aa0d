//! The embedded SQLite backend: one file, WAL, one writer (a mutex around one connection, and
//! `BEGIN IMMEDIATE`), so sequence numbers are handed out and committed in order by
//! construction. Runs on the blocking pool.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::{params, Connection, ToSql, Transaction, TransactionBehavior};
use uuid::Uuid;

use super::sql::{Cell, Db, Param, Row};
use super::sql_store::{Backend, SqlStore};
use crate::error::StoreError;

/// The store over SQLite.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// Forward-only schema migrations; the database's `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters VALUES ('change', 0);
    CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE officers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE establishments (urn TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
    CREATE TABLE enrol_codes (
        code_hash  TEXT PRIMARY KEY,
        officer_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
    );
    CREATE TABLE enrol_attempts (client TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX enrol_attempts_by_client ON enrol_attempts (client, at);
    CREATE TABLE devices (
        device_id    TEXT PRIMARY KEY,
        officer_id   TEXT NOT NULL,
        name         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TEXT NOT NULL,
        last_sync_at TEXT,
        revoked_at   TEXT,
        high_water   INTEGER NOT NULL DEFAULT 0,
        audit_seq    INTEGER NOT NULL DEFAULT 0,
        audit_head   TEXT NOT NULL
    );
    CREATE TABLE records (
        id         TEXT PRIMARY KEY,
        entity     TEXT NOT NULL,
        team_id    TEXT NOT NULL,
        marking    TEXT NOT NULL,
        created_by TEXT NOT NULL,
        fields     TEXT NOT NULL,
        versions   TEXT NOT NULL,
        deleted    INTEGER NOT NULL
    );
    CREATE TABLE conflicts (
        id        TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        data      TEXT NOT NULL,
        resolved  INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conflicts_by_record ON conflicts (record_id);
    CREATE TABLE bucket_entries (
        bucket TEXT NOT NULL,
        item   TEXT NOT NULL,
        kind   TEXT NOT NULL,
        entity TEXT NOT NULL,
        seq    INTEGER NOT NULL,
        PRIMARY KEY (bucket, item)
    );
    CREATE INDEX bucket_entries_by_seq ON bucket_entries (bucket, seq);
    CREATE TABLE quarantine (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        code      TEXT NOT NULL,
        mutation  TEXT NOT NULL
    );
    CREATE TABLE device_audit (
        device_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        event     TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
    );
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        operation TEXT NOT NULL,
        officer_id TEXT,
        device_id TEXT,
        detail    TEXT NOT NULL
    );
"#,
    // Looking a record's entries up by item (which buckets hold it) must not scan.
    "CREATE INDEX bucket_entries_by_item ON bucket_entries (item);",
];

/// One SQLite connection, used by one transaction at a time.
pub struct SqliteBackend {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -65536;",
        )?;
        let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StoreError::Invalid(
                "the database was made by a newer server".into(),
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as u32)?;
            tx.commit()?;
        }
        let tx = conn.transaction()?;
        for key in ["server_id", "epoch"] {
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, Uuid::now_v7().to_string()],
            )?;
        }
        tx.commit()?;
        Ok(SqlStore::new(SqliteBackend {
            conn: Mutex::new(conn),
        }))
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
