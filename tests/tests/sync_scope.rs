//! Sync under adverse conditions: a push whose response is lost on the way back, an officer
//! moved between teams while holding unsynced work.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pocketbook_core::model::VisitFilter;
use pocketbook_protocol::Role;
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{person_draft, visit_draft};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A loopback proxy that forwards requests whole but, while `cut` is set, drops the server's
/// response and closes the connection: the server has committed, the device never hears.
async fn lossy_proxy(upstream: String, cut: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            let cut = cut.clone();
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                });
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match server_read.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if cut.load(Ordering::SeqCst) {
                                break; // drop the response and hang up
                            }
                            if client_write.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                    }
                }
                up.abort();
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_whose_response_is_lost_is_resent_without_duplicates() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let cut = Arc::new(AtomicBool::new(false));
    let proxy = lossy_proxy(server.url.clone(), cut.clone()).await;
    let device = TestDevice::new();
    device
        .book
        .enroll(&proxy, &server.code(alice.id).await)
        .await
        .unwrap();
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    device.book.record_visit(visit_draft(child, 2)).unwrap();

    cut.store(true, Ordering::SeqCst);
    let lost = device.book.sync().await;
    assert!(
        matches!(lost, Err(pocketbook_core::Error::Network { .. })),
        "{lost:?}"
    );
    assert_eq!(
        device.book.pending_changes().unwrap().len(),
        2,
        "nothing was acknowledged"
    );

    cut.store(false, Ordering::SeqCst);
    let report = device.book.sync().await.unwrap();
    assert_eq!(report.rejected, 0);
    assert!(device.book.pending_changes().unwrap().is_empty());
    // A second device sees exactly one of each.
    let other = server.device(alice.id).await;
    other.book.sync().await.unwrap();
    assert_eq!(other.book.find_young_people("").unwrap().len(), 1);
    assert_eq!(other.book.visits(&VisitFilter::default()).unwrap().len(), 1);
    let audit = server.store.audit_lines().await.unwrap();
    assert_eq!(
        audit.iter().filter(|l| l.contains("\"collect\"")).count(),
        2,
        "applied once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_officer_moved_to_another_team_loses_the_old_teams_records_but_not_their_own_work() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let carol = server
        .officer("Carol", Role::Officer, &[server.team_b])
        .await;
    let a = server.device(alice.id).await;
    let b = server.device(bob.id).await;
    let c = server.device(carol.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let teams_child = b.book.add_young_person(draft.clone()).unwrap().id;
    b.book.record_visit(visit_draft(teams_child, 5)).unwrap();
    b.book.sync().await.unwrap();
    a.book.sync().await.unwrap();
    assert_eq!(a.book.visits(&VisitFilter::default()).unwrap().len(), 1);
    let carols_child = c.book.add_young_person(draft).unwrap().id;
    c.book.sync().await.unwrap();

    // Offline, Alice records a visit; meanwhile she is moved to team B.
    let unsynced = a.book.record_visit(visit_draft(teams_child, 1)).unwrap();
    let mut moved = alice.clone();
    moved.team_ids = vec![server.team_b];
    server.store.update_officer(moved).await.unwrap();

    let report = a.book.sync().await.unwrap();
    // Her visit was written for team A, which she has left: refused, quarantined, listed.
    assert_eq!(report.rejected, 1);
    let status = a.book.sync_status().unwrap();
    assert_eq!(status.rejected.len(), 1);
    assert_eq!(status.rejected[0].record_id, unsynced.id);
    assert_eq!(server.store.quarantine().await.unwrap().len(), 1);
    // Team A's records are gone from her device; team B's have arrived. Her refused visit is
    // no live record any more: its content is kept with the refusal, to resubmit or discard.
    assert!(a.book.visits(&VisitFilter::default()).unwrap().is_empty());
    assert_eq!(
        status.rejected[0].fields["narrative"],
        serde_json::json!(unsynced.narrative)
    );
    let people: Vec<_> = a
        .book
        .find_young_people("")
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(people, vec![carols_child]);
    // Her session now says team B, so what she records next lands there and syncs.
    assert_eq!(
        a.book.session().unwrap().officer.team_ids,
        vec![server.team_b]
    );
    let next = a.book.record_visit(visit_draft(carols_child, 1)).unwrap();
    assert_eq!(next.meta.team_id, server.team_b);
    assert_eq!(a.book.sync().await.unwrap().rejected, 0);
    c.book.sync().await.unwrap();
    assert!(c.book.visit(next.id).is_ok(), "her new team sees it");
}
