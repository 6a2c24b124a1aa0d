//! Sight at a restore (issue 12, seed 2907): after a server restore, a colleague's phone may
//! raise or move a record before an officer's phone has sent back what it acknowledged of it.
//! The restore is judged on where the record stood when the restore window opened, and then
//! only its content comes back: a stolen phone cannot use it to lower the marking, to write
//! versions from after the restore, or to touch a record its officer never saw. On both
//! backends, through the store.

use pocketbook_protocol::wire::{PushOutcome, PushRequest, PushResponse, MAX_CLOCK_SKEW_MS};
use pocketbook_protocol::{Entity, Hlc, Marking, Mutation, MutationKind, Role, Version};
use pocketbook_sync_server::store::{Epochs, Store};
use pocketbook_tests::store_fixture::{all_applied, officer, phone, Phone, Replica};
use serde_json::{json, Value};

/// A restore of `fields` of `of`, every field at `millis` on `phone`'s node.
fn restore(phone: &mut Phone, of: &Mutation, fields: Value, millis: u64) -> Mutation {
    let mut m = phone.update(of, fields, None);
    m.kind = MutationKind::Restore;
    m.base = Default::default();
    m.version = Version {
        hlc: Hlc { millis, counter: 0 },
        node: phone.device.device_id,
    };
    m.versions = Some(m.fields.keys().map(|k| (k.clone(), m.version)).collect());
    m
}

/// Pushes `mutations` as `phone` in `epoch`; the server's answer.
async fn push<S: Store>(
    store: &S,
    phone: &Phone,
    epoch: &str,
    mutations: Vec<Mutation>,
) -> PushResponse {
    store
        .push(
            phone.device.clone(),
            PushRequest {
                mutations,
                epoch: Some(epoch.to_string()),
                ..PushRequest::default()
            },
        )
        .await
        .expect("push")
        .expect("push taken")
}

/// Each outcome's code and message (`applied` and no message when taken).
fn outcomes(answer: &PushResponse) -> Vec<(String, String)> {
    answer
        .results
        .iter()
        .map(|r| match &r.outcome {
            PushOutcome::Rejected { code, message } => (code.as_str().to_string(), message.clone()),
            other => (format!("{other:?}"), String::new()),
        })
        .collect()
}

fn now_ms() -> u64 {
    pocketbook_protocol::unix_millis(chrono::Utc::now())
}

async fn sight_rules_on<S: Store + Epochs>(store: S) {
    let team = store.add_team("Team A".into()).await.expect("team").id;
    let other = store.add_team("Team B".into()).await.expect("team").id;
    let alice = officer(&store, Role::Officer, &[team]).await;
    let bob = officer(&store, Role::Officer, &[team]).await;
    let carol = officer(&store, Role::Officer, &[other]).await;
    let (mut a, mut b, mut c) = (
        phone(&store, &alice).await,
        phone(&store, &bob).await,
        phone(&store, &carol).await,
    );
    // Bob's visit, which Alice sees through her team, and Carol's, which Alice never saw.
    let seen = b.create(
        Entity::Visit,
        team,
        Marking::Official,
        json!({"place": "school"}),
    );
    let unseen = c.create(
        Entity::Visit,
        other,
        Marking::Official,
        json!({"place": "home"}),
    );
    assert!(all_applied(&b.push(&store, vec![seen.clone()]).await));
    assert!(all_applied(&c.push(&store, vec![unseen.clone()]).await));
    let mut alice_view = Replica::default();
    alice_view.pull_all(&store, &a.device, 100).await;
    assert!(alice_view.records.contains_key(&seen.record_id));

    // Alice's phone set the place before the restore, after Bob's visit was made: a version
    // the restored server lacks. (Bob's phone stamps a millisecond ahead of its clock, so on a
    // fast run the wall clock alone could still be at or below his version.)
    let before = now_ms().max(seen.version.hlc.millis + 1);
    let epoch = store.new_epoch().await.expect("new epoch");
    let opened = now_ms();
    // After the restore Bob raises his visit: Alice no longer sees it.
    let raise = b.update(
        &seen,
        json!({"marking": "OFFICIAL-SENSITIVE"}),
        Some(seen.version),
    );
    assert!(all_applied(&b.push(&store, vec![raise]).await));
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // A stolen phone's attempts, each refused with nothing written: lowering the marking
    // (a version above the raise yet before the window's end), a version stamped after the
    // restore, a record Alice never saw.
    let lower = restore(
        &mut a,
        &seen,
        json!({"marking": "OFFICIAL", "place": "lowered"}),
        before + MAX_CLOCK_SKEW_MS,
    );
    let late = restore(
        &mut a,
        &seen,
        json!({"place": "late"}),
        opened + MAX_CLOCK_SKEW_MS + 1,
    );
    let foreign = restore(&mut a, &unseen, json!({"place": "foreign"}), before);
    let answer = push(&store, &a, &epoch, vec![lower, late, foreign]).await;
    let outcomes = outcomes(&answer);
    assert_eq!(
        outcomes.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        ["restore_refused", "restore_refused", "restore_refused"],
        "{answer:?}"
    );
    // Each for its own reason.
    for ((_, message), why) in outcomes.iter().zip([
        "may not move a record",
        "only what was acknowledged before the restore",
        "not one this officer could see",
    ]) {
        assert!(message.contains(why), "{message:?} should say {why:?}");
    }

    // What she acknowledged before the restore comes back; the visit stays sensitive.
    let honest = restore(&mut a, &seen, json!({"place": "library"}), before);
    let answer = push(&store, &a, &epoch, vec![honest]).await;
    assert!(all_applied(&answer), "{answer:?}");

    let mut bob_view = Replica::default();
    bob_view.pull_all(&store, &b.device, 100).await;
    let (fields, _) = &bob_view.records[&seen.record_id];
    assert_eq!(fields["place"], "library");
    assert_eq!(fields["marking"], "OFFICIAL-SENSITIVE");
    let mut carol_view = Replica::default();
    carol_view.pull_all(&store, &c.device, 100).await;
    assert_eq!(carol_view.records[&unseen.record_id].0["place"], "home");
    // Alice's phone is told to let the visit go; a fresh pull of hers never shows it.
    alice_view.pull_all(&store, &a.device, 100).await;
    assert!(!alice_view.records.contains_key(&seen.record_id));
    let mut fresh = Replica::default();
    fresh.pull_all(&store, &a.device, 100).await;
    assert!(!fresh.records.contains_key(&seen.record_id));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_is_judged_on_where_the_record_stood_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let store =
        pocketbook_sync_server::store::SqliteStore::open(&dir.path().join("s.db")).expect("store");
    sight_rules_on(store).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restore_is_judged_on_where_the_record_stood_on_postgres() {
    let (store, _url) = pocketbook_tests::pg::pg_store(Default::default()).await;
    sight_rules_on(store).await;
}
