//! The PostgreSQL backend, for a force that runs several server processes in front of one
//! database. Connections come from an r2d2 pool and keep their prepared statements; each
//! operation is one transaction on the blocking pool, retried after a deadlock or
//! serialization failure. Writers of changes take one transaction-level advisory lock, so
//! change numbers commit in the order they were handed out and a pull never skips one
//! (DESIGN §5). Migrations run under a session advisory lock, so servers starting together
//! migrate once. Every piece of server state, enrolment rate limits included, is in the
//! database.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use pocketbook_protocol::sources::{Sources, SystemSources};
use postgres::error::SqlState;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::migrations::{self, Migrate, Migration};
use super::pg_tls::{split_url, PgTls};
use super::sql::{dollar_placeholders, Cell, Db, Param, Row};
use super::sql_store::{Backend, SqlStore};
use crate::error::StoreError;

/// The store over PostgreSQL.
pub type PostgresStore = SqlStore<PostgresBackend>;

/// Advisory lock key held by every transaction that writes changes ("pbwrites").
const WRITERS_LOCK: i64 = 0x7062_7772_6974_6573;
/// Advisory lock key held while migrating ("pbmigrat").
const MIGRATION_LOCK: i64 = 0x7062_6d69_6772_6174;
/// Times an operation is tried when PostgreSQL reports a deadlock or serialization failure.
const ATTEMPTS: u32 = 5;

/// How change sequence numbers are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sequencing {
    /// Under a transaction-level advisory lock: numbers commit in order. The only mode a
    /// server uses.
    AdvisoryLock,
    /// From a plain sequence with no lock, as a `bigserial` would: two pushes can commit out of
    /// order and a pull between them skips a change. Exists so a test can show the hazard; the
    /// sequence, `change_seq`, is not in the schema: that test creates it.
    NaiveSequence,
}

/// Options of a PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Most connections this process opens.
    pub pool_size: u32,
    /// How change numbers are handed out.
    pub sequencing: Sequencing,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 16,
            sequencing: Sequencing::AdvisoryLock,
        }
    }
}

/// A pooled connection and the statements it has prepared.
pub struct Connection {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

/// Opens pooled connections.
struct Manager {
    config: postgres::Config,
    tls: PgTls,
}

/// Opens one connection, over TLS when the URL asked for it.
fn connect(config: &postgres::Config, tls: &PgTls) -> Result<Client, postgres::Error> {
    match tls {
        PgTls::Plain => config.connect(NoTls),
        PgTls::Verified(rustls) => config.connect(rustls.clone()),
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: connect(&self.config, &self.tls)?,
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        conn.client.is_closed()
    }
}

/// A pool of connections to one PostgreSQL database.
pub struct PostgresBackend {
    /// Always `Some` until dropped.
    pool: Option<r2d2::Pool<Manager>>,
    sequencing: Sequencing,
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        // A `postgres::Client` blocks on its own runtime while closing, which panics inside an
        // async context (a store dropped by async code): close the connections on a thread.
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::Builder::new()
                .name("pocketbook-pg-close".into())
                .spawn(move || drop(pool));
        }
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`; over TLS with
    /// `?sslmode=verify-full&sslrootcert=<CA file>` or `verify-ca`), creating and
    /// migrating its schema under an advisory lock. Blocking: call before serving, or from the
    /// blocking pool. Runs on the system's clock and random source.
    pub fn connect(url: &str, options: PostgresOptions) -> Result<Self, StoreError> {
        Self::connect_with_sources(url, options, Arc::new(SystemSources))
    }

    /// [`PostgresStore::connect`], taking wall time, ids and random bytes from `sources`.
    pub fn connect_with_sources(
        url: &str,
        options: PostgresOptions,
        sources: Arc<dyn Sources>,
    ) -> Result<Self, StoreError> {
        let (url, tls) = split_url(url)?;
        let config = postgres::Config::from_str(&url)
            .map_err(|_| StoreError::Invalid("the PostgreSQL URL is not valid".into()))?;
        let mut first = connect(&config, &tls)?;
        migrations::migrate_with(&mut first, sources.as_ref())?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .build(Manager { config, tls })?;
        Ok(SqlStore::with_sources(
            PostgresBackend {
                pool: Some(pool),
                sequencing: options.sequencing,
            },
            sources,
        ))
    }
}

/// PostgreSQL's migration glue: a run holds the session advisory lock `MIGRATION_LOCK`, so
/// servers starting together migrate once; `schema_migrations` holds a row per applied step.
impl Migrate for Client {
    const STEPS: &'static [Migration] = migrations::POSTGRES;

    fn begin(&mut self) -> Result<(), StoreError> {
        self.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
        let fresh: bool = self
            .query_one("SELECT to_regclass('schema_migrations') IS NULL", &[])?
            .get(0);
        if fresh {
            self.batch_execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)")?;
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), StoreError> {
        self.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])?;
        Ok(())
    }

    fn version(&mut self) -> Result<u32, StoreError> {
        let absent: bool = self
            .query_one("SELECT to_regclass('schema_migrations') IS NULL", &[])?
            .get(0);
        if absent {
            return Ok(0);
        }
        let found: i32 = self
            .query_one(
                "SELECT coalesce(max(version), 0) FROM schema_migrations",
                &[],
            )?
            .get(0);
        u32::try_from(found).map_err(|_| StoreError::Corrupt("schema version"))
    }

    fn apply(&mut self, step: &Migration) -> Result<(), StoreError> {
        let version = i32::try_from(step.version)
            .map_err(|_| StoreError::Invalid("a migration version is out of range".into()))?;
        let mut tx = self.transaction()?;
        tx.batch_execute(step.sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn finish(&mut self, sources: &dyn Sources) -> Result<(), StoreError> {
        for key in ["server_id", "epoch"] {
            self.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&key, &sources.new_id().to_string()],
            )?;
        }
        Ok(())
    }
}

/// Whether PostgreSQL asks for the transaction to be tried again.
fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Postgres(e) => matches!(
            e.code(),
            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
        ),
        _ => false,
    }
}

impl Backend for PostgresBackend {
    fn transaction<T>(
        &self,
        f: &mut dyn FnMut(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pool = self.pool.as_ref().ok_or(StoreError::Task)?;
        let mut conn = pool.get()?;
        let Connection { client, statements } = &mut *conn;
        let mut attempt = 1;
        loop {
            let mut tx = client.transaction()?;
            let result = f(&mut PostgresTx {
                tx: &mut tx,
                statements,
                sequencing: self.sequencing,
                writing: false,
            });
            let result = match result {
                Ok(value) => tx.commit().map(|()| value).map_err(StoreError::from),
                Err(e) => Err(e),
            };
            match result {
                Err(e) if attempt < ATTEMPTS && retryable(&e) => attempt += 1,
                other => return other,
            }
        }
    }
}

/// An open PostgreSQL transaction seen through [`Db`].
struct PostgresTx<'a, 'c> {
    tx: &'a mut postgres::Transaction<'c>,
    statements: &'a mut HashMap<&'static str, Statement>,
    sequencing: Sequencing,
    writing: bool,
}

impl PostgresTx<'_, '_> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.tx.prepare(&dollar_placeholders(sql))?;
        self.statements.insert(sql, prepared.clone());
        Ok(prepared)
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Param::Text(s) => s.to_sql(ty, out),
            Param::Int(v) if *ty == Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
            Param::Int(v) => v.to_sql(ty, out),
            Param::Bool(v) => v.to_sql(ty, out),
            Param::Null => Ok(IsNull::Yes),
        }
    }

    fn accepts(ty: &Type) -> bool {
        <String as ToSql>::accepts(ty)
            || <i64 as ToSql>::accepts(ty)
            || <i32 as ToSql>::accepts(ty)
            || <bool as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

fn params(args: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    args.iter().map(|a| a as &(dyn ToSql + Sync)).collect()
}

fn read_row(row: &postgres::Row) -> Result<Row, StoreError> {
    let cells = row
        .columns()
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let ty = column.type_();
            Ok(if *ty == Type::INT8 {
                row.try_get::<_, Option<i64>>(i)?
                    .map_or(Cell::Null, Cell::Int)
            } else if *ty == Type::INT4 {
                row.try_get::<_, Option<i32>>(i)?
                    .map_or(Cell::Null, |v| Cell::Int(v.into()))
            } else if *ty == Type::BOOL {
                row.try_get::<_, Option<bool>>(i)?
                    .map_or(Cell::Null, Cell::Bool)
            } else if <String as postgres::types::FromSql>::accepts(ty) {
                row.try_get::<_, Option<String>>(i)?
                    .map_or(Cell::Null, Cell::Text)
            } else {
                return Err(StoreError::Corrupt("column type"));
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Row(cells))
}

impl Db for PostgresTx<'_, '_> {
    fn execute(&mut self, sql: &'static str, args: &[Param]) -> Result<u64, StoreError> {
        let statement = self.statement(sql)?;
        Ok(self.tx.execute(&statement, &params(args))?)
    }

    fn query(&mut self, sql: &'static str, args: &[Param]) -> Result<Vec<Row>, StoreError> {
        let statement = self.statement(sql)?;
        self.tx
            .query(&statement, &params(args))?
            .iter()
            .map(read_row)
            .collect()
    }

    fn serialize_writers(&mut self) -> Result<(), StoreError> {
        if self.sequencing == Sequencing::AdvisoryLock && !self.writing {
            self.execute(
                "SELECT pg_advisory_xact_lock(?1)",
                &[Param::Int(WRITERS_LOCK)],
            )?;
            self.writing = true;
        }
        Ok(())
    }

    fn next_seq(&mut self) -> Result<i64, StoreError> {
        match self.sequencing {
            Sequencing::AdvisoryLock => {
                self.serialize_writers()?;
                self.query_one(
                    "UPDATE counters SET value = value + 1 WHERE name = 'change' RETURNING value",
                    &[],
                )?
                .int(0)
            }
            Sequencing::NaiveSequence => {
                self.query_one("SELECT nextval('change_seq')", &[])?.int(0)
            }
        }
    }
}
