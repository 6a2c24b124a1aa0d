//! PostgreSQL for tests: a fresh, empty database per test on the throwaway cluster that
//! `scripts/with-postgres` starts (the test command runs every test under it). Tests that need
//! PostgreSQL fail, naming the script, when it is not there: they never pass by skipping.

use pocketbook_sync_server::store::{PostgresOptions, PostgresStore};
use uuid::Uuid;

/// The variable holding the throwaway cluster's admin URL.
pub const PG_ENV: &str = "POCKETBOOK_TEST_PG";

/// The admin URL of the test cluster.
pub fn admin_url() -> String {
    std::env::var(PG_ENV).unwrap_or_else(|_| {
        panic!(
            "{PG_ENV} is not set: run the tests through scripts/test, or wrap the command in \
             scripts/with-postgres (it starts a throwaway PostgreSQL)"
        )
    })
}

/// Creates an empty database on the test cluster; its URL.
pub async fn pg_database() -> String {
    let admin = admin_url();
    tokio::task::spawn_blocking(move || {
        let mut client =
            postgres::Client::connect(&admin, postgres::NoTls).expect("connect to test cluster");
        let name = format!("pb_{}", Uuid::now_v7().simple());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        format!("{base}/{name}")
    })
    .await
    .expect("create database task")
}

/// A migrated store on a fresh database.
pub async fn pg_store(options: PostgresOptions) -> (PostgresStore, String) {
    let url = pg_database().await;
    let at = url.clone();
    let store = tokio::task::spawn_blocking(move || PostgresStore::connect(&at, options))
        .await
        .expect("connect task")
        .expect("postgres store");
    (store, url)
}

/// Runs blocking SQL on a database (for tests that reach below the store).
pub async fn with_client<T: Send + 'static>(
    url: &str,
    f: impl FnOnce(&mut postgres::Client) -> T + Send + 'static,
) -> T {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        f(&mut client)
    })
    .await
    .expect("sql task")
}
