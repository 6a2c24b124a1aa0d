//! PostgreSQL over TLS (issue 11), against the throwaway cluster `scripts/with-postgres`
//! starts with a certificate its own throwaway CA signed: `sslmode=verify-full` with that CA
//! connects (and the session is encrypted), `verify-ca` too; the CA of nobody here is refused;
//! `sslmode=require` is refused before connecting, with a message saying why. Fails, never
//! skips, when the cluster or its CA is absent.

use pocketbook_sync_server::error::StoreError;
use pocketbook_sync_server::store::{PostgresOptions, PostgresStore, Store};
use pocketbook_tests::pg::{admin_url, pg_database, with_client};

fn ca(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the tests under scripts/with-postgres (it makes the CA)")
    })
}

async fn connect(url: String) -> Result<PostgresStore, StoreError> {
    tokio::task::spawn_blocking(move || {
        PostgresStore::connect(
            &url,
            PostgresOptions {
                pool_size: 2,
                ..Default::default()
            },
        )
    })
    .await
    .expect("connect task")
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_full_connects_over_tls_and_a_wrong_ca_or_require_is_refused() {
    let url = pg_database().await;
    let good = ca("POCKETBOOK_TEST_PG_CA");
    let store = connect(format!("{url}?sslmode=verify-full&sslrootcert={good}"))
        .await
        .expect("verify-full with the cluster's CA connects");
    store
        .add_team("Over TLS".into())
        .await
        .expect("a write over TLS");
    assert_eq!(store.teams().await.expect("teams").len(), 1);
    // The pooled connection the store keeps is encrypted, as the server sees it.
    let database = url
        .rsplit_once('/')
        .map(|(_, db)| db.to_string())
        .expect("db name");
    let encrypted: i64 = with_client(&admin_url(), move |c| {
        c.query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.datname = $1 AND s.ssl",
            &[&database],
        )
        .expect("pg_stat_ssl")
        .get(0)
    })
    .await;
    assert!(encrypted > 0, "the store's connections use TLS");
    drop(store);

    let store = connect(format!("{url}?sslmode=verify-ca&sslrootcert={good}"))
        .await
        .expect("verify-ca with the cluster's CA connects");
    assert_eq!(store.teams().await.expect("teams").len(), 1);
    drop(store);

    let wrong = ca("POCKETBOOK_TEST_PG_WRONG_CA");
    let refused = connect(format!("{url}?sslmode=verify-full&sslrootcert={wrong}")).await;
    assert!(
        refused.is_err(),
        "a certificate no trusted CA signed is refused"
    );

    let refused = connect(format!("{url}?sslmode=require")).await;
    match refused {
        Err(StoreError::Invalid(message)) => {
            assert!(message.contains("sslmode=require"), "{message}");
            assert!(message.contains("without verifying"), "{message}");
        }
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(_) => panic!("sslmode=require must be refused"),
    }
}
