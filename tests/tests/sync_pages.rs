//! A first sync larger than one pull page: the device asks for the next page while it applies
//! the current one, and ends holding every record, each readable as a visit, with progress
//! reported page by page. Into an empty store it is a bulk load: the index of records by kind
//! and time is left out while the pages land and built once at the end — also when the signal
//! is lost part way.

use std::sync::{Arc, Mutex};

use pocketbook_core::{Error, SyncPhase};
use pocketbook_protocol::Role;
use pocketbook_tests::bench_data::{visit_template, VisitMaker};
use pocketbook_tests::http_transport::HttpTransport;
use pocketbook_tests::raw_connection;
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::store_fixture::{officer, phone};

const RECORDS: usize = 2_600;

/// The definition of the index of records by kind and time in the store at `path`, if any.
fn records_index(path: &std::path::Path) -> Option<String> {
    raw_connection(path)
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'records_by_entity'",
            [],
            |r| r.get(0),
        )
        .ok()
}

/// A server holding `RECORDS` visits of team A, and an officer of that team to pull them.
async fn server_with_visits() -> (TestServer, uuid::Uuid) {
    let server = TestServer::start().await;
    let author = officer(&server.store, Role::Officer, &[server.team_a]).await;
    let writer = phone(&server.store, &author).await;
    let mut maker = VisitMaker::new(
        visit_template(),
        3,
        author.id,
        server.team_a,
        writer.device.device_id,
    );
    for _ in 0..RECORDS / 200 {
        let batch = (0..200).map(|_| maker.next_visit()).collect();
        writer.push(&server.store, batch).await;
    }
    let reader = server
        .officer("Reader", Role::Officer, &[server.team_a])
        .await;
    (server, reader.id)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_sync_of_several_pages_brings_every_record() {
    let (server, reader) = server_with_visits().await;
    let device = server.device(reader).await;
    let schema_index = records_index(&device.path).expect("a fresh store has the index");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let indexed = Arc::new(Mutex::new(Vec::new()));
    let report = {
        let (seen, indexed, path) = (seen.clone(), indexed.clone(), device.path.clone());
        device
            .book
            .sync_with_progress(move |p| {
                if p.phase == SyncPhase::Pull {
                    seen.lock().expect("progress").push((p.done, p.total));
                    indexed
                        .lock()
                        .expect("progress")
                        .push(records_index(&path).is_some());
                }
            })
            .await
            .expect("sync")
    };
    assert_eq!(
        *indexed.lock().expect("progress"),
        [false, false, false],
        "the pages land without the index"
    );
    assert_eq!(
        records_index(&device.path),
        Some(schema_index),
        "built at the end, as the schema defines it"
    );
    assert_eq!(report.pulled, RECORDS as u64);
    assert_eq!(
        device
            .book
            .visits(&Default::default())
            .expect("visits")
            .len(),
        RECORDS
    );
    let seen = seen.lock().expect("progress").clone();
    assert_eq!(seen.len(), 3, "three pages: {seen:?}");
    assert!(
        seen.windows(2).all(|w| w[0].0 < w[1].0),
        "progress only grows: {seen:?}"
    );
    assert_eq!(seen.last().copied(), Some((RECORDS as u64, RECORDS as u64)));
    let again = device.book.sync().await.expect("second sync");
    assert_eq!(again.pulled, 0, "nothing is pulled twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_sync_that_loses_its_signal_part_way_leaves_the_index_built() {
    let (server, reader) = server_with_visits().await;
    let mut device: TestDevice = server.device(reader).await;
    device.book.set_transport(Arc::new(
        HttpTransport::new(&server.url).losing_pulls_after(2),
    ));
    let applied = Arc::new(Mutex::new(0));
    let lost = {
        let applied = applied.clone();
        device
            .book
            .sync_with_progress(move |p| {
                if p.phase == SyncPhase::Pull {
                    *applied.lock().expect("progress") = p.done;
                }
            })
            .await
    };
    assert!(matches!(lost, Err(Error::Network { .. })), "{lost:?}");
    let applied = *applied.lock().expect("progress");
    assert!((1_000..RECORDS as u64).contains(&applied), "{applied}");
    assert!(
        records_index(&device.path).is_some(),
        "a failed bulk load still builds its index"
    );
    assert_eq!(
        device
            .book
            .visits(&Default::default())
            .expect("visits")
            .len() as u64,
        applied,
        "the pages applied stay"
    );

    // Signal back: the store holds records, so the rest is pulled with the index kept.
    let transport = Arc::new(HttpTransport::new(&server.url));
    device.book.set_transport(transport.clone());
    let indexed = Arc::new(Mutex::new(Vec::new()));
    let report = {
        let (indexed, path) = (indexed.clone(), device.path.clone());
        device
            .book
            .sync_with_progress(move |p| {
                if p.phase == SyncPhase::Pull {
                    indexed
                        .lock()
                        .expect("progress")
                        .push(records_index(&path).is_some());
                }
            })
            .await
            .expect("sync with signal")
    };
    assert_eq!(report.pulled, RECORDS as u64 - applied);
    assert!(
        indexed.lock().expect("progress").iter().all(|i| *i),
        "no bulk load into a store holding records"
    );
    assert_eq!(
        device
            .book
            .visits(&Default::default())
            .expect("visits")
            .len(),
        RECORDS
    );
}
