//! The server's own audit log is a hash chain (issue 11): syncs and admin actions (with the
//! admin who acted) verify; an edited row is named by `audit verify`; a head kept elsewhere
//! that is not the chain's fails; two servers writing to one PostgreSQL at once keep one chain.

use pocketbook_protocol::Role;
use pocketbook_sync_server::serve_cli::{verify_audit, Verdict};
use pocketbook_sync_server::store::{PostgresOptions, PostgresStore, Store};
use pocketbook_tests::pg::{pg_store, with_client};
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{person_draft, visit_draft};

/// Asserts the chain holds; its head.
async fn holds<S: Store>(store: &S) -> String {
    match verify_audit(store, None).await.expect("verify") {
        Verdict::Holds(report) => {
            assert!(report.checked > 0);
            report.head
        }
        Verdict::Broken(why) => panic!("the chain should hold: {why}"),
    }
}

/// Asserts the chain is broken; the message.
async fn broken<S: Store>(store: &S, head: Option<&str>) -> String {
    match verify_audit(store, head).await.expect("verify") {
        Verdict::Broken(why) => why,
        Verdict::Holds(_) => panic!("the chain should not hold"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_an_edited_row_and_a_wrong_head_are_caught() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let phone = server.device(alice.id).await;
    let mut draft = person_draft();
    draft.establishment_id = Some(server.school);
    let child = phone.book.add_young_person(draft).expect("child").id;
    phone
        .book
        .record_visit(visit_draft(child, 1))
        .expect("visit");
    phone.book.sync().await.expect("sync");
    let admin = server.store.clone().acting_as(Some("sgt-jones"));
    admin.add_team("Team C".into()).await.expect("team");
    phone.book.sync().await.expect("sync again");

    let head = holds(&server.store).await;
    assert_eq!(head, server.store.audit_head().await.expect("head"));
    assert_eq!(
        verify_audit(&server.store, Some(&head))
            .await
            .expect("verify"),
        Verdict::Holds(server.store.verify_audit().await.expect("report"))
    );
    let lines = server.store.audit_lines().await.expect("audit");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("admin_add_team") && l.contains("\"actor\":\"sgt-jones\"")),
        "the admin who acted is recorded"
    );

    let why = broken(&server.store, Some(&"0".repeat(64))).await;
    assert!(why.contains("head"), "{why}");

    // Someone with the database file edits one row's detail.
    let db = rusqlite::Connection::open(server.dir().join("server.db")).expect("open");
    let id: i64 = db
        .query_row(
            "SELECT id FROM audit WHERE operation = 'admin_add_team' AND actor = 'sgt-jones'",
            [],
            |r| r.get(0),
        )
        .expect("row");
    db.execute(
        "UPDATE audit SET detail = '{}' WHERE id = ?1",
        rusqlite::params![id],
    )
    .expect("edit");
    let why = broken(&server.store, None).await;
    assert!(why.contains(&format!("row {id} ")), "{why}");
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_two_servers_writing_at_once_keep_one_chain_and_an_edit_is_caught() {
    let (first, url) = pg_store(PostgresOptions::default()).await;
    let at = url.clone();
    let second = tokio::task::spawn_blocking(move || {
        PostgresStore::connect(&at, PostgresOptions::default())
    })
    .await
    .expect("connect task")
    .expect("second server");
    let mut writers = Vec::new();
    for (n, store) in [first.clone(), second.clone()].into_iter().enumerate() {
        writers.push(tokio::spawn(async move {
            let store = store.acting_as(Some("admin"));
            for i in 0..15 {
                store.add_team(format!("Team {n}-{i}")).await.expect("team");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let head = holds(&first).await;
    assert_eq!(holds(&second).await, head, "one chain, one head");

    let id = with_client(&url, |c| {
        let row = c
            .query_one(
                "SELECT id FROM audit ORDER BY id DESC OFFSET 3 LIMIT 1",
                &[],
            )
            .expect("row");
        let id: i64 = row.get(0);
        c.execute(
            "UPDATE audit SET detail = '{\"team_id\":\"x\"}' WHERE id = $1",
            &[&id],
        )
        .expect("edit");
        id
    })
    .await;
    let why = broken(&first, None).await;
    assert!(why.contains(&format!("row {id} ")), "{why}");
}
