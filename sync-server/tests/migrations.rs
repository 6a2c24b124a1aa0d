//! The server's schema migrations on both backends: a database left at any older version and
//! then opened ends with exactly a fresh database's schema; databases made by the server at
//! 7162c29 (`tests/fixtures/`) are adopted at their version with nothing lost; a database from
//! a newer server is refused; and SQLite and PostgreSQL end with the same tables, columns and
//! indexes. The PostgreSQL cases use a fresh database on the throwaway cluster that
//! `scripts/with-postgres` starts (`POCKETBOOK_TEST_PG`) and fail when it is absent: they never
//! pass by skipping.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::Path;

use pocketbook_sync_server::error::StoreError;
use pocketbook_sync_server::store::migrations::{current_version, latest, migrate_to};
use pocketbook_sync_server::store::{PostgresOptions, PostgresStore, SqliteStore, Store};
use postgres::{Client, NoTls};
use rusqlite::Connection;

/// The SQLite database the server at 7162c29 made: a team, an officer and a code.
const SQLITE_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/server-7162c29.db"
);
/// The same made on PostgreSQL, as a plain-SQL `pg_dump`.
const POSTGRES_FIXTURE: &str = include_str!("fixtures/server-7162c29.pg.sql");
/// The team and officer both fixtures hold.
const TEAM: &str = "Northfield Safer Schools Team";
const OFFICER: (&str, &str) = ("PC Sam Okafor", "4172");

/// One table as both dialects can describe it: names, nullability and keys (types differ).
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// (name, NOT NULL, has a default), in column order.
    columns: Vec<(String, bool, bool)>,
    /// The primary key's columns, in key order.
    primary_key: Vec<String>,
    /// Each UNIQUE constraint's columns.
    unique: BTreeSet<Vec<String>>,
    /// Each named index: its columns and whether it is unique.
    indexes: BTreeMap<String, (Vec<String>, bool)>,
}

/// A schema, table by table.
type Shape = BTreeMap<String, Table>;

fn block_on<T>(future: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(future)
}

// ----- SQLite -----

fn sqlite_strings(conn: &Connection, sql: &str, args: impl rusqlite::Params) -> Vec<String> {
    let mut stmt = conn.prepare(sql).expect("prepare");
    let rows = stmt
        .query_map(args, |r| r.get::<_, String>(0))
        .expect("query");
    rows.collect::<Result<_, _>>().expect("rows")
}

/// A SQLite value as text.
fn sqlite_text(value: rusqlite::types::ValueRef<'_>) -> String {
    use rusqlite::types::ValueRef;
    match value {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(v) => v.to_string(),
        ValueRef::Real(v) => v.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => format!("blob of {} bytes", b.len()),
    }
}

/// Everything `sqlite_master` says, one line per object, with the database's version.
fn sqlite_catalogue(conn: &Connection) -> (u32, Vec<String>) {
    let version = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("user_version");
    let objects = sqlite_strings(
        conn,
        "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '')
         FROM sqlite_master ORDER BY type, name",
        [],
    );
    (version, objects)
}

fn sqlite_shape(conn: &Connection) -> Shape {
    let tables = sqlite_strings(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'",
        [],
    );
    let mut shape = Shape::new();
    for name in tables {
        let mut table = Table {
            primary_key: sqlite_strings(
                conn,
                "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk",
                [&name],
            ),
            ..Table::default()
        };
        // An INTEGER PRIMARY KEY or any key column may hold no NULL, as in PostgreSQL.
        let mut stmt = conn
            .prepare(
                "SELECT name, \"notnull\" OR pk > 0, dflt_value IS NOT NULL
                 FROM pragma_table_info(?1) ORDER BY cid",
            )
            .expect("table_info");
        table.columns = stmt
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("columns")
            .collect::<Result<_, _>>()
            .expect("column");
        let mut stmt = conn
            .prepare("SELECT name, \"unique\", origin FROM pragma_index_list(?1)")
            .expect("index_list");
        let indexes = stmt
            .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("indexes");
        for index in indexes {
            let (index, unique, origin): (String, bool, String) = index.expect("index");
            let sql = "SELECT name FROM pragma_index_info(?1) ORDER BY seqno";
            let columns = sqlite_strings(conn, sql, [&index]);
            // The primary key's own index is the table's key; a UNIQUE one, a constraint.
            if origin == "u" {
                table.unique.insert(columns);
            } else if origin != "pk" {
                table.indexes.insert(index, (columns, unique));
            }
        }
        shape.insert(name, table);
    }
    shape
}

/// Each table's columns, in order.
fn sqlite_columns(conn: &Connection) -> BTreeMap<String, Vec<String>> {
    sqlite_strings(
        conn,
        "SELECT name FROM sqlite_master WHERE type = 'table'",
        [],
    )
    .into_iter()
    .map(|table| {
        let columns = sqlite_strings(
            conn,
            "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
            [&table],
        );
        (table, columns)
    })
    .collect()
}

/// The rows of the tables and columns `shape` names (a later step's tables and columns are
/// not the old rows' business).
fn sqlite_rows_of(
    conn: &Connection,
    shape: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    shape
        .iter()
        .map(|(table, columns)| {
            let list = columns
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let mut stmt = conn
                .prepare(&format!("SELECT {list} FROM {table}"))
                .expect("select");
            let width = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    (0..width)
                        .map(|i| Ok(sqlite_text(r.get_ref(i)?)))
                        .collect::<Result<Vec<_>, rusqlite::Error>>()
                })
                .expect("rows")
                .map(|row| row.expect("row").join(" | "))
                .collect();
            (table.clone(), rows)
        })
        .collect()
}

/// A fresh SQLite database opened by the server; its connection for inspection.
fn fresh_sqlite(dir: &Path) -> Connection {
    let path = dir.join("fresh.db");
    drop(SqliteStore::open(&path).expect("fresh store"));
    Connection::open(&path).expect("open fresh")
}

#[test]
fn sqlite_every_upgrade_path_ends_with_the_fresh_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fresh = sqlite_catalogue(&fresh_sqlite(dir.path()));
    let latest = latest::<Connection>();
    assert_eq!(fresh.0, latest);
    for k in 0..=latest {
        let path = dir.path().join(format!("from-{k}.db"));
        let mut conn = Connection::open(&path).expect("open");
        assert_eq!(migrate_to(&mut conn, k).expect("migrate_to"), k);
        assert_eq!(current_version(&mut conn).expect("version"), k);
        drop(conn);
        drop(SqliteStore::open(&path).expect("upgrade"));
        let upgraded = sqlite_catalogue(&Connection::open(&path).expect("reopen"));
        assert_eq!(upgraded, fresh, "upgrading from version {k}");
    }
}

#[test]
fn sqlite_database_of_7162c29_is_adopted_with_nothing_lost() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("server.db");
    std::fs::copy(SQLITE_FIXTURE, &path).expect("copy fixture");
    let conn = Connection::open(&path).expect("open fixture");
    let (version, _) = sqlite_catalogue(&conn);
    assert_eq!(version, 2, "7162c29 left SQLite at user_version 2");
    let shape = sqlite_columns(&conn);
    let before = sqlite_rows_of(&conn, &shape);
    drop(conn);

    let store = SqliteStore::open(&path).expect("adopt");
    assert_stores_the_fixture(&store, &before["meta"]);
    drop(store);

    let conn = Connection::open(&path).expect("reopen");
    assert_eq!(
        sqlite_catalogue(&conn),
        sqlite_catalogue(&fresh_sqlite(dir.path()))
    );
    assert_eq!(
        sqlite_rows_of(&conn, &shape),
        before,
        "every row is kept unchanged"
    );
    assert_officers_linked_to_their_teams(
        &sqlite_strings(&conn, "SELECT data FROM officers", []),
        sqlite_strings(
            &conn,
            "SELECT officer_id || ' ' || team_id FROM officer_teams",
            [],
        ),
    );
}

/// Migration 13 linked every officer the database held to each of their teams, and nothing
/// else (reference data is read through these links).
fn assert_officers_linked_to_their_teams(officers: &[String], mut links: Vec<String>) {
    let mut expected: Vec<String> = officers
        .iter()
        .flat_map(|data| {
            let o: pocketbook_protocol::Officer = serde_json::from_str(data).expect("officer");
            o.team_ids
                .iter()
                .map(|t| format!("{} {t}", o.id))
                .collect::<Vec<_>>()
        })
        .collect();
    expected.sort();
    links.sort();
    assert!(!expected.is_empty(), "the fixture has an officer in a team");
    assert_eq!(links, expected);
}

#[test]
fn sqlite_database_of_a_newer_server_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("server.db");
    drop(SqliteStore::open(&path).expect("fresh store"));
    let conn = Connection::open(&path).expect("open");
    conn.pragma_update(None, "user_version", latest::<Connection>() + 1)
        .expect("set version");
    drop(conn);
    assert_newer_refused(SqliteStore::open(&path).err());
}

/// The adopted store still holds the fixture's team, officer and identity (`meta` rows).
fn assert_stores_the_fixture(store: &impl Store, meta_before: &BTreeSet<String>) {
    let (teams, officers, (server_id, epoch)) = block_on(async {
        (
            store.teams().await.expect("teams"),
            store.officers().await.expect("officers"),
            store.identity().await.expect("identity"),
        )
    });
    let [team] = &teams[..] else {
        panic!("one team expected, found {}", teams.len())
    };
    assert_eq!(team.name, TEAM);
    let [officer] = &officers[..] else {
        panic!("one officer expected, found {}", officers.len())
    };
    assert_eq!((&*officer.name, &*officer.shoulder_number), OFFICER);
    assert_eq!(officer.team_ids, vec![team.id]);
    for value in [server_id.to_string(), epoch] {
        assert!(
            meta_before.iter().any(|row| row.contains(&value)),
            "identity kept"
        );
    }
}

fn assert_newer_refused(error: Option<StoreError>) {
    match error {
        Some(StoreError::Invalid(message)) => assert!(message.contains("newer server")),
        other => panic!("a newer database was not refused: {other:?}"),
    }
}

// ----- PostgreSQL -----

/// A new, empty database on the test cluster; its URL.
fn pg_database() -> String {
    let admin = std::env::var("POCKETBOOK_TEST_PG").unwrap_or_else(|_| {
        panic!(
            "POCKETBOOK_TEST_PG is not set: run the tests through scripts/test, or wrap the \
             command in scripts/with-postgres (it starts a throwaway PostgreSQL)"
        )
    });
    let mut client = Client::connect(&admin, NoTls).expect("connect to test cluster");
    let name = format!("pb_mig_{}", uuid::Uuid::now_v7().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

fn pg_connect(url: &str) -> Client {
    Client::connect(url, NoTls).expect("connect")
}

fn pg_strings(client: &mut Client, sql: &str) -> Vec<String> {
    client
        .query(sql, &[])
        .expect("query")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Columns, constraints, indexes and sequences from the catalogues, one line each.
fn pg_catalogue(client: &mut Client) -> (u32, Vec<String>) {
    let version = current_version(client).expect("version");
    let mut lines = pg_strings(
        client,
        "SELECT concat_ws(' ', table_name, ordinal_position, column_name, data_type,
                is_nullable, column_default, is_identity)
         FROM information_schema.columns WHERE table_schema = 'public'",
    );
    lines.extend(pg_strings(
        client,
        "SELECT concat_ws(' ', conrelid::regclass::text, conname, pg_get_constraintdef(oid))
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    ));
    lines.extend(pg_strings(
        client,
        "SELECT concat_ws(' ', tablename, indexname, indexdef)
         FROM pg_indexes WHERE schemaname = 'public'",
    ));
    lines.extend(pg_strings(
        client,
        "SELECT 'sequence ' || relname FROM pg_class
         WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace",
    ));
    lines.sort();
    (version, lines)
}

fn pg_shape(client: &mut Client) -> Shape {
    let tables = pg_strings(
        client,
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
           AND table_name <> 'schema_migrations'",
    );
    let mut shape = Shape::new();
    for name in tables {
        let mut table = Table::default();
        for row in client
            .query(
                "SELECT column_name::text, is_nullable = 'NO', column_default IS NOT NULL
                 FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                &[&name],
            )
            .expect("columns")
        {
            table.columns.push((row.get(0), row.get(1), row.get(2)));
        }
        let mut constraints: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for row in client
            .query(
                "SELECT tc.constraint_name::text, tc.constraint_type::text, kcu.column_name::text
                 FROM information_schema.table_constraints tc
                 JOIN information_schema.key_column_usage kcu
                   ON kcu.constraint_schema = tc.constraint_schema
                  AND kcu.constraint_name = tc.constraint_name
                 WHERE tc.table_schema = 'public' AND tc.table_name = $1
                   AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
                 ORDER BY tc.constraint_name, kcu.ordinal_position",
                &[&name],
            )
            .expect("constraints")
        {
            constraints
                .entry((row.get(0), row.get(1)))
                .or_default()
                .push(row.get(2));
        }
        for ((_, kind), columns) in &constraints {
            if kind == "PRIMARY KEY" {
                table.primary_key = columns.clone();
            } else {
                table.unique.insert(columns.clone());
            }
        }
        for row in client
            .query(
                "SELECT indexname::text, indexdef FROM pg_indexes
                 WHERE schemaname = 'public' AND tablename = $1",
                &[&name],
            )
            .expect("indexes")
        {
            let (index, def): (String, String) = (row.get(0), row.get(1));
            if constraints
                .keys()
                .any(|(constraint, _)| *constraint == index)
            {
                continue;
            }
            let inside = def
                .rsplit_once('(')
                .and_then(|(_, rest)| rest.strip_suffix(')'))
                .expect("index columns");
            let columns = inside.split(", ").map(str::to_string).collect();
            let unique = def.starts_with("CREATE UNIQUE INDEX");
            table.indexes.insert(index, (columns, unique));
        }
        shape.insert(name, table);
    }
    shape
}

/// Each table's columns but the version table's, in order.
fn pg_columns(client: &mut Client) -> BTreeMap<String, Vec<String>> {
    let tables = pg_strings(
        client,
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> 'schema_migrations'",
    );
    tables
        .into_iter()
        .map(|table| {
            let sql = format!(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = '{table}'
                 ORDER BY ordinal_position"
            );
            let columns = pg_strings(client, &sql);
            (table, columns)
        })
        .collect()
}

/// The rows of the tables and columns `shape` names (a later step's tables and columns are
/// not the old rows' business).
fn pg_rows_of(
    client: &mut Client,
    shape: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, BTreeSet<String>> {
    shape
        .iter()
        .map(|(table, columns)| {
            let list = columns
                .iter()
                .map(|c| format!("t.\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT ROW({list})::text FROM public.{table} t");
            let rows = pg_strings(client, &sql).into_iter().collect();
            (table.clone(), rows)
        })
        .collect()
}

fn pg_open(url: &str) -> PostgresStore {
    PostgresStore::connect(url, PostgresOptions::default()).expect("postgres store")
}

/// A fresh PostgreSQL database opened by the server; its URL.
fn fresh_pg() -> String {
    let url = pg_database();
    drop(pg_open(&url));
    url
}

#[test]
fn postgres_every_upgrade_path_ends_with_the_fresh_schema() {
    let fresh = pg_catalogue(&mut pg_connect(&fresh_pg()));
    let latest = latest::<Client>();
    assert_eq!(fresh.0, latest);
    for k in 0..=latest {
        let url = pg_database();
        let mut client = pg_connect(&url);
        assert_eq!(migrate_to(&mut client, k).expect("migrate_to"), k);
        assert_eq!(current_version(&mut client).expect("version"), k);
        drop(client);
        drop(pg_open(&url));
        let upgraded = pg_catalogue(&mut pg_connect(&url));
        assert_eq!(upgraded, fresh, "upgrading from version {k}");
    }
}

#[test]
fn postgres_database_of_7162c29_is_adopted_with_nothing_lost() {
    let url = pg_database();
    // The dump sets an empty search_path for its session: restore on a connection of its own.
    // Its psql meta-commands (`\restrict`) are not SQL.
    let sql: Vec<&str> = POSTGRES_FIXTURE
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .collect();
    pg_connect(&url)
        .batch_execute(&sql.join("\n"))
        .expect("restore the dump");
    let mut client = pg_connect(&url);
    assert_eq!(
        current_version(&mut client).expect("version"),
        1,
        "7162c29 left PostgreSQL at version 1"
    );
    let shape = pg_columns(&mut client);
    let before = pg_rows_of(&mut client, &shape);
    drop(client);

    let store = pg_open(&url);
    assert_stores_the_fixture(&store, &before["meta"]);
    drop(store);

    let mut client = pg_connect(&url);
    let fresh = pg_catalogue(&mut pg_connect(&fresh_pg()));
    assert_eq!(pg_catalogue(&mut client), fresh);
    assert_eq!(
        pg_rows_of(&mut client, &shape),
        before,
        "every row is kept unchanged"
    );
    let officers = pg_strings(&mut client, "SELECT data FROM officers");
    let links = pg_strings(
        &mut client,
        "SELECT officer_id || ' ' || team_id FROM officer_teams",
    );
    assert_officers_linked_to_their_teams(&officers, links);
}

#[test]
fn postgres_database_of_a_newer_server_is_refused() {
    let url = fresh_pg();
    pg_connect(&url)
        .execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&i32::try_from(latest::<Client>() + 1).expect("small")],
        )
        .expect("set version");
    assert_newer_refused(PostgresStore::connect(&url, PostgresOptions::default()).err());
}

// ----- both -----

#[test]
fn both_backends_end_with_the_same_tables_columns_and_indexes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = sqlite_shape(&fresh_sqlite(dir.path()));
    let postgres = pg_shape(&mut pg_connect(&fresh_pg()));
    assert!(sqlite.len() >= 14, "the schema was read: {sqlite:?}");
    let names = |shape: &Shape| shape.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&sqlite), names(&postgres), "tables");
    for (name, table) in &sqlite {
        assert_eq!(Some(table), postgres.get(name), "table {name}");
    }
}
