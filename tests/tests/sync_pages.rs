//! A first sync larger than one pull page: the device asks for the next page while it applies
//! the current one, and ends holding every record, each readable as a visit, with progress
//! reported page by page. Into an empty store it is a bulk load: the table of records by kind
//! and time is left empty while the pages land (its entries staged by record) and filled by
//! one ordered insert at the end, and the chronology
//! links are staged in arrival order and merged by young person at the end — also when the
//! signal is lost part way.

use std::sync::{Arc, Mutex};

use pocketbook_core::{Error, SyncPhase, SyncReport};
use pocketbook_protocol::Role;
use pocketbook_tests::bench_data::{visit_template, VisitMaker};
use pocketbook_tests::http_transport::{AfterThem, HttpTransport};
use pocketbook_tests::raw_connection;
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::store_fixture::{officer, phone};

const RECORDS: usize = 2_600;

/// The definition of the schema's trigger that keeps the table of records by kind and time, in
/// the store at `path`, if it is in place (a bulk load swaps it for a staging one).
fn schema_trigger(path: &std::path::Path) -> Option<String> {
    raw_connection(path)
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'records_timed'",
            [],
            |r| r.get(0),
        )
        .ok()
}

/// The entries in `records_by_time` in the store at `path`.
fn entries(path: &std::path::Path) -> u64 {
    raw_connection(path)
        .query_row("SELECT count(*) FROM records_by_time", [], |r| r.get(0))
        .expect("entries")
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
    )
    .young_people(40);
    for _ in 0..RECORDS / 200 {
        let batch = (0..200).map(|_| maker.next_visit()).collect();
        writer.push(&server.store, batch).await;
    }
    let reader = server
        .officer("Reader", Role::Officer, &[server.team_a])
        .await;
    (server, reader.id)
}

/// (links in `record_people`, links staged) in the store at `path`.
fn links(path: &std::path::Path) -> (u64, u64) {
    raw_connection(path)
        .query_row(
            "SELECT (SELECT count(*) FROM record_people),
                    (SELECT count(*) FROM record_people_staged)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("links")
}

/// After each pull page a sync applied: how far it was, of how many, whether the schema's
/// triggers of the table of records by kind and time were in place at that moment, its
/// entries and the links (indexed, staged).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Page {
    done: u64,
    total: u64,
    indexed: bool,
    entries: u64,
    links: (u64, u64),
}

/// Syncs `device`, noting each pull page as it lands.
async fn sync_watching(device: &TestDevice) -> (pocketbook_core::Result<SyncReport>, Vec<Page>) {
    let pages = Arc::new(Mutex::new(Vec::new()));
    let result = {
        let (pages, path) = (pages.clone(), device.path.clone());
        device
            .book
            .sync_with_progress(move |p| {
                if p.phase == SyncPhase::Pull {
                    pages.lock().expect("progress").push(Page {
                        done: p.done,
                        total: p.total,
                        indexed: schema_trigger(&path).is_some(),
                        entries: entries(&path),
                        links: links(&path),
                    });
                }
            })
            .await
    };
    let pages = pages.lock().expect("progress").clone();
    (result, pages)
}

fn visits_held(device: &TestDevice) -> usize {
    device
        .book
        .visits(&Default::default())
        .expect("visits")
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_sync_of_several_pages_brings_every_record() {
    let (server, reader) = server_with_visits().await;
    let device = server.device(reader).await;
    let schema_trigger_sql = schema_trigger(&device.path).expect("a fresh store has it");
    let (report, pages) = sync_watching(&device).await;
    let report = report.expect("sync");
    assert_eq!(
        pages.iter().map(|p| p.indexed).collect::<Vec<_>>(),
        [false, false, false],
        "three pages, landing without the triggers: {pages:?}"
    );
    assert_eq!(
        schema_trigger(&device.path),
        Some(schema_trigger_sql),
        "put back at the end, as the schema defines it"
    );
    assert!(
        pages.iter().all(|p| p.entries == 0),
        "the table left empty while the pages land: {pages:?}"
    );
    assert_eq!(entries(&device.path), RECORDS as u64, "filled at the end");
    assert!(
        pages.iter().all(|p| p.links == (0, p.done)),
        "every link staged while the pages land: {pages:?}"
    );
    assert_eq!(
        links(&device.path),
        (RECORDS as u64, 0),
        "merged into the chronology's index at the end"
    );
    assert_eq!(report.pulled, RECORDS as u64);
    assert_eq!(visits_held(&device), RECORDS);
    assert!(
        pages.windows(2).all(|w| w[0].done < w[1].done),
        "progress only grows: {pages:?}"
    );
    let last = pages.last().map(|p| (p.done, p.total));
    assert_eq!(last, Some((RECORDS as u64, RECORDS as u64)));
    let again = device.book.sync().await.expect("second sync");
    assert_eq!(again.pulled, 0, "nothing is pulled twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_sync_that_loses_its_signal_part_way_leaves_the_table_whole() {
    let (server, reader) = server_with_visits().await;
    let mut device: TestDevice = server.device(reader).await;
    device.book.set_transport(Arc::new(
        HttpTransport::new(&server.url).losing_pulls_after(2),
    ));
    let (lost, pages) = sync_watching(&device).await;
    assert!(matches!(lost, Err(Error::Network { .. })), "{lost:?}");
    assert_eq!(
        pages.len(),
        2,
        "two pages applied before the signal went: {pages:?}"
    );
    let applied = pages.last().map_or(0, |p| p.done);
    assert!((1_000..RECORDS as u64).contains(&applied), "{applied}");
    assert!(
        schema_trigger(&device.path).is_some(),
        "a failed bulk load still puts the schema's triggers back"
    );
    assert_eq!(entries(&device.path), applied, "and fills the table");
    assert_eq!(
        links(&device.path),
        (applied, 0),
        "and merges the links it staged"
    );
    assert_eq!(
        visits_held(&device) as u64,
        applied,
        "the pages applied stay"
    );

    // Signal back: the store holds records, so the rest is pulled with the triggers kept.
    device
        .book
        .set_transport(Arc::new(HttpTransport::new(&server.url)));
    let (report, pages) = sync_watching(&device).await;
    let report = report.expect("sync with signal");
    assert_eq!(report.pulled, RECORDS as u64 - applied);
    assert!(
        !pages.is_empty() && pages.iter().all(|p| p.indexed),
        "no bulk load into a store holding records: {pages:?}"
    );
    assert!(
        pages.iter().all(|p| p.entries > applied),
        "each page's records entered as they land: {pages:?}"
    );
    assert_eq!(entries(&device.path), RECORDS as u64);
    assert_eq!(visits_held(&device), RECORDS);
    assert!(
        pages.iter().all(|p| p.links.1 == 0),
        "nothing staged: {pages:?}"
    );
    assert_eq!(links(&device.path), (RECORDS as u64, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_page_that_arrives_spoiled_fails_the_sync_and_keeps_what_was_applied() {
    // A page fetched while the one before is applied is decompressed and decoded only when
    // its turn comes: a damaged one must still fail the sync cleanly, not half-apply.
    let (server, reader) = server_with_visits().await;
    for how in [AfterThem::CutShort, AfterThem::HalfJson] {
        let mut device: TestDevice = server.device(reader).await;
        device.book.set_transport(Arc::new(
            HttpTransport::new(&server.url).spoiling_pulls_after(1, how),
        ));
        let (spoiled, pages) = sync_watching(&device).await;
        match &spoiled {
            Err(Error::Network { reason }) => assert!(
                reason.contains("could not be read") || reason.contains("unreadable answer"),
                "{how:?}: {reason}"
            ),
            other => panic!("{how:?}: {other:?}"),
        }
        assert_eq!(
            pages.len(),
            1,
            "{how:?}: the first page applied, nothing of the spoiled one: {pages:?}"
        );
        let applied = pages[0].done;
        assert!((900..=1_000).contains(&applied), "{how:?}: {applied}");
        assert_eq!(visits_held(&device) as u64, applied, "{how:?}");
        assert!(
            schema_trigger(&device.path).is_some(),
            "{how:?}: the bulk load's triggers are put back"
        );
        assert_eq!(entries(&device.path), applied, "{how:?}");

        device
            .book
            .set_transport(Arc::new(HttpTransport::new(&server.url)));
        let report = device.book.sync().await.expect("sync, answers whole");
        assert_eq!(report.pulled, RECORDS as u64 - applied, "{how:?}");
        assert_eq!(visits_held(&device), RECORDS, "{how:?}");
    }
}
