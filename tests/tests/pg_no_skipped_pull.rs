//! A pull never skips a change on PostgreSQL (DESIGN §5), even when two pushes commit out of
//! sequence order. The deterministic case holds the first push inside its transaction after it
//! took its sequence number (a row lock it needs next is held by the test), lets a second push
//! run, pulls, then lets the first commit. With a naive `bigserial`-style sequence the pull in
//! between moves the cursor past the late change, which is then never served: the test shows
//! that hazard first, then that the advisory-lock sequencing the server uses does not skip.
//! A load test follows: 8 pushers and 8 pullers, thousands of changes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use pocketbook_protocol::{Entity, Marking, Role};
use pocketbook_sync_server::store::{PostgresOptions, PostgresStore, Sequencing, Store};
use pocketbook_tests::pg::{pg_store, with_client};
use pocketbook_tests::store_fixture::{all_applied, officer, phone, Replica};
use serde_json::json;
use uuid::Uuid;

/// Sessions of this test's database waiting for a lock right now.
async fn waiting_locks(url: &str) -> i64 {
    with_client(url, |c| {
        c.query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
            &[],
        )
        .expect("pg_locks")
        .get::<_, i64>(0)
    })
    .await
}

/// Polls until at least `n` lock waits are seen (the transactions under test are blocked).
async fn until_waiting(url: &str, n: i64) {
    for _ in 0..500 {
        if waiting_locks(url).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no transaction came to wait on a lock");
}

/// Holds a row lock on a record's bucket entries in its own transaction until told to let go.
fn hold_entry_lock(url: &str, item: Uuid) -> (mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let url = url.to_string();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let mut tx = client.transaction().expect("begin");
        tx.query(
            "SELECT 1 FROM bucket_entries WHERE item = $1 FOR UPDATE",
            &[&item.to_string()],
        )
        .expect("lock entries");
        locked_tx.send(()).expect("signal");
        let _ = release_rx.recv();
        tx.commit().expect("commit");
    });
    (locked_rx, release_tx)
}

/// What a reader who pulled between the two commits ends with.
struct Outcome {
    /// It has the second push's record.
    saw_second: bool,
    /// It has the first push's (late-committed) change.
    saw_late_change: bool,
}

async fn late_commit(sequencing: Sequencing) -> Outcome {
    let (store, url) = pg_store(PostgresOptions {
        pool_size: 8,
        sequencing,
    })
    .await;
    if sequencing == Sequencing::NaiveSequence {
        // The plain sequence the naive mode draws from exists only for this test.
        with_client(&url, |c| c.batch_execute("CREATE SEQUENCE change_seq"))
            .await
            .expect("create the naive sequence");
    }
    let team = store.add_team("T".into()).await.expect("team").id;
    let (o1, o2, o3) = (
        officer(&store, Role::Officer, &[team]).await,
        officer(&store, Role::Officer, &[team]).await,
        officer(&store, Role::Officer, &[team]).await,
    );
    let (mut first, mut second, reader) = (
        phone(&store, &o1).await,
        phone(&store, &o2).await,
        phone(&store, &o3).await,
    );
    let visit = first.create(
        Entity::Visit,
        team,
        Marking::Official,
        json!({"narrative": "start"}),
    );
    first.push(&store, vec![visit.clone()]).await;
    let mut view = Replica::default();
    view.pull_all(&store, &reader.device, 100).await;
    assert_eq!(view.records.len(), 1);

    // T1 takes its sequence number, then waits for the entry row the test holds.
    let (locked, release) = hold_entry_lock(&url, visit.record_id);
    locked.recv().expect("lock held");
    let late = first.update(&visit, json!({"narrative": "late"}), Some(visit.version));
    let t1 = tokio::spawn({
        let store = store.clone();
        let device = first.device.clone();
        async move { push_one(&store, device, late).await }
    });
    until_waiting(&url, 1).await;

    // T2 pushes a new record; with a naive sequence it commits number n+1 at once.
    let other = second.create(
        Entity::Visit,
        team,
        Marking::Official,
        json!({"narrative": "other"}),
    );
    let other_id = other.record_id;
    let t2 = tokio::spawn({
        let store = store.clone();
        let device = second.device.clone();
        async move { push_one(&store, device, other).await }
    });
    match sequencing {
        Sequencing::NaiveSequence => assert!(t2.is_finished() || wait(&t2).await),
        Sequencing::AdvisoryLock => until_waiting(&url, 2).await,
    }

    // A pull runs between the commits; then T1 commits; then the next pull.
    view.pull_all(&store, &reader.device, 100).await;
    release.send(()).expect("release");
    assert!(t1.await.expect("t1"), "the late change was applied");
    assert!(t2.await.expect("t2"), "the second push was applied");
    view.pull_all(&store, &reader.device, 100).await;
    Outcome {
        saw_second: view.records.contains_key(&other_id),
        saw_late_change: view.records[&visit.record_id].0["narrative"] == json!("late"),
    }
}

async fn wait(task: &tokio::task::JoinHandle<bool>) -> bool {
    for _ in 0..500 {
        if task.is_finished() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

async fn push_one(
    store: &PostgresStore,
    device: pocketbook_sync_server::store::Device,
    m: pocketbook_protocol::Mutation,
) -> bool {
    let response = store
        .push(
            device,
            pocketbook_protocol::wire::PushRequest {
                mutations: vec![m],
                audit: Vec::new(),
                resolved: Vec::new(),
                epoch: None,
                acked: None,
                refused: Vec::new(),
            },
        )
        .await
        .expect("push")
        .expect("accepted");
    all_applied(&response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_naive_bigserial_cursor_skips_a_late_commit() {
    let outcome = late_commit(Sequencing::NaiveSequence).await;
    assert!(outcome.saw_second);
    assert!(
        !outcome.saw_late_change,
        "the hazard this test exists to catch did not occur: the scenario no longer tests it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pull_never_skips_a_late_commit() {
    let outcome = late_commit(Sequencing::AdvisoryLock).await;
    assert!(outcome.saw_second);
    assert!(outcome.saw_late_change, "a pull skipped a change");
}

/// 8 officers push batches of creates and edits while 8 others pull continuously; at the end
/// every puller holds exactly what a fresh full pull returns, and that is everything pushed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_pushers_and_eight_pullers_all_end_with_the_full_set() {
    const PUSHERS: usize = 8;
    const BATCHES: usize = 30;
    const PER_BATCH: usize = 10;
    let (store, _url) = pg_store(PostgresOptions {
        pool_size: 24,
        ..Default::default()
    })
    .await;
    let team = store.add_team("T".into()).await.expect("team").id;
    let done = Arc::new(AtomicBool::new(false));
    let mut pushers = Vec::new();
    for _ in 0..PUSHERS {
        let o = officer(&store, Role::Officer, &[team]).await;
        let mut p = phone(&store, &o).await;
        let store = store.clone();
        pushers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for batch in 0..BATCHES {
                let mut mutations = Vec::new();
                for i in 0..PER_BATCH {
                    // Every other change edits one of this officer's earlier records.
                    if i % 2 == 1 && !mine.is_empty() {
                        let (of, version): &(pocketbook_protocol::Mutation, _) =
                            &mine[(batch * 7 + i) % mine.len()];
                        let edit = p.update(
                            of,
                            json!({"narrative": format!("edit {batch}.{i}")}),
                            Some(*version),
                        );
                        let at = (batch * 7 + i) % mine.len();
                        mine[at].1 = edit.version;
                        mutations.push(edit);
                    } else {
                        let m = p.create(
                            Entity::Visit,
                            team,
                            Marking::Official,
                            json!({"narrative": format!("visit {batch}.{i}")}),
                        );
                        mine.push((m.clone(), m.version));
                        mutations.push(m);
                    }
                }
                let response = p.push(&store, mutations).await;
                assert!(all_applied(&response), "{response:?}");
            }
            mine.len()
        }));
    }
    let mut pullers = Vec::new();
    for _ in 0..8 {
        let o = officer(&store, Role::Officer, &[team]).await;
        let p = phone(&store, &o).await;
        let store = store.clone();
        let done = done.clone();
        pullers.push(tokio::spawn(async move {
            let mut view = Replica::default();
            while !done.load(Ordering::SeqCst) {
                view.pull_all(&store, &p.device, 37).await;
            }
            view.pull_all(&store, &p.device, 37).await;
            view
        }));
    }
    let mut created = 0;
    for p in pushers {
        created += p.await.expect("pusher");
    }
    done.store(true, Ordering::SeqCst);
    let fresh_officer = officer(&store, Role::Officer, &[team]).await;
    let fresh = phone(&store, &fresh_officer).await;
    let mut truth = Replica::default();
    truth.pull_all(&store, &fresh.device, 500).await;
    assert_eq!(truth.records.len(), created);
    for puller in pullers {
        let view = puller.await.expect("puller");
        assert!(view.pages > 1, "the puller pulled while pushes ran");
        assert_eq!(
            view.records, truth.records,
            "a puller ended without the full set"
        );
    }
}
