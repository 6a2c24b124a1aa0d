//! Real processes killed (issue 12 item 5): a device process syncing in a loop is SIGKILLed at
//! random instants, and the server process is SIGKILLed in the middle of a push; after every
//! restart and a final sync, nothing is lost and nothing doubled — the device's records and a
//! second device's copy of the server's view are compared, count and content.
//!
//! The test command runs a few kills of each; the soak (RELIABILITY.md) sets
//! `POCKETBOOK_DEVICE_KILLS=100 POCKETBOOK_SERVER_KILLS=50`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use pocketbook_core::model::VisitFilter;
use pocketbook_core::{Error, Pocketbook};
use pocketbook_tests::process_server::{admin, ServerProcess};
use pocketbook_tests::server::TestDevice;
use pocketbook_tests::{open_at, person_draft, visit_draft};
use rand::Rng;
use serde_json::Value;
use uuid::Uuid;

/// How many kills a run makes: the environment's figure, or the test command's.
fn kills(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every visit a store shows, by id, as JSON.
fn visits(book: &Pocketbook) -> BTreeMap<Uuid, Value> {
    book.visits(&VisitFilter::default())
        .expect("list visits")
        .into_iter()
        .map(|v| (v.id, serde_json::to_value(&v).expect("visit as JSON")))
        .collect()
}

/// Syncs until nothing is pending (a sync can fail while the server restarts).
async fn sync_until_quiet(book: &Pocketbook) {
    for _ in 0..20 {
        match book.sync().await {
            Ok(_) if book.pending_changes().expect("pending").is_empty() => return,
            Ok(_) | Err(Error::Network { .. }) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("sync failed: {e}"),
        }
    }
    panic!("the device did not become quiet");
}

/// What a second device of the same officer pulls from the server: the server's view of the
/// bucket, compared with the device's own.
async fn assert_server_holds_exactly(server: &ServerProcess, book: &Pocketbook) {
    let mine = visits(book);
    let other = TestDevice::new();
    other
        .book
        .enroll(&server.url, &server.code())
        .await
        .expect("enrol the checking device");
    other.book.sync().await.expect("pull everything");
    let theirs = visits(&other.book);
    assert_eq!(
        mine.len(),
        theirs.len(),
        "the server holds another number of visits than the device recorded"
    );
    for (id, visit) in &mine {
        assert_eq!(
            theirs.get(id),
            Some(visit),
            "visit {id} differs between the device and the server"
        );
    }
    assert!(
        admin(&server.db, &["audit", "verify"]).contains("audit chain holds"),
        "the server's audit chain does not verify"
    );
    book.verify_audit_chain()
        .expect("the device's audit chain verifies");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_device_killed_at_random_instants_while_syncing_loses_and_doubles_nothing() {
    let rounds = kills("POCKETBOOK_DEVICE_KILLS", 6);
    let server = ServerProcess::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("device.db");
    {
        let book = open_at(&path).expect("open the device store");
        book.enroll(&server.url, &server.code())
            .await
            .expect("enrol");
        book.add_young_person(unschooled()).expect("a child");
    }
    let mut rng = rand::rng();
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sync-loop"))
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the syncing device");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("child stdout"))
            .read_line(&mut line)
            .expect("the device says ready");
        assert_eq!(
            line.trim(),
            "ready",
            "round {round}: the device did not start"
        );
        std::thread::sleep(Duration::from_millis(rng.random_range(20..=600)));
        child.kill().expect("SIGKILL the device");
        let status = child.wait().expect("reap the device");
        assert!(
            !status.success(),
            "round {round}: the device ended by itself"
        );
    }
    let book = open_at(&path).expect("reopen after the last kill");
    sync_until_quiet(&book).await;
    assert!(
        visits(&book).len() > rounds,
        "the device recorded too little for the kills to have met a sync"
    );
    assert_server_holds_exactly(&server, &book).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_killed_mid_push_loses_and_doubles_nothing() {
    let rounds = kills("POCKETBOOK_SERVER_KILLS", 4);
    let mut server = ServerProcess::start();
    let device = TestDevice::new();
    let book = &device.book;
    book.enroll(&server.url, &server.code())
        .await
        .expect("enrol");
    let person = book.add_young_person(unschooled()).expect("a child").id;
    let mut rng = rand::rng();
    let mut interrupted = 0;
    for _ in 0..rounds {
        // Enough for several batches, so the kill lands inside the push.
        for _ in 0..rng.random_range(600..=1_200) {
            book.record_visit(visit_draft(person, 2)).expect("record");
        }
        // The kill lands while the push is in flight: the server dies inside its work.
        let kill_after = Duration::from_millis(rng.random_range(5..=250));
        let (outcome, ()) = tokio::join!(book.sync(), async {
            tokio::time::sleep(kill_after).await;
            server.kill();
        });
        match outcome {
            Ok(_) => {}
            Err(Error::Network { .. }) => interrupted += 1,
            Err(e) => panic!("sync failed otherwise than by the kill: {e}"),
        }
        let half = book.sync().await;
        assert!(
            matches!(half, Err(Error::Network { .. })),
            "a sync against a dead server must fail as a network error"
        );
        server.restart();
        sync_until_quiet(book).await;
    }
    assert!(
        interrupted > 0 || rounds == 0,
        "no kill landed inside a sync"
    );
    assert_server_holds_exactly(&server, book).await;
}

/// A child with no school named (the server here holds no establishments).
fn unschooled() -> pocketbook_core::model::YoungPersonDraft {
    pocketbook_core::model::YoungPersonDraft {
        establishment_id: None,
        ..person_draft()
    }
}
