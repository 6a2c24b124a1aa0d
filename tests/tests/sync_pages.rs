//! A first sync larger than one pull page: the device asks for the next page while it applies
//! the current one, and ends holding every record, each readable as a visit, with progress
//! reported page by page.

use std::sync::{Arc, Mutex};

use pocketbook_core::SyncPhase;
use pocketbook_protocol::Role;
use pocketbook_tests::bench_data::{visit_template, VisitMaker};
use pocketbook_tests::server::TestServer;
use pocketbook_tests::store_fixture::{officer, phone};

#[tokio::test(flavor = "multi_thread")]
async fn a_first_sync_of_several_pages_brings_every_record() {
    const RECORDS: usize = 2_600;
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
    let device = server.device(reader.id).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let report = {
        let seen = seen.clone();
        device
            .book
            .sync_with_progress(move |p| {
                if p.phase == SyncPhase::Pull {
                    seen.lock().expect("progress").push((p.done, p.total));
                }
            })
            .await
            .expect("sync")
    };
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
