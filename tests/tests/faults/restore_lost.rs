//! What a server restore loses besides records, and the devices bring back (issue 12): open
//! conflicts (carried by a `restore` of their record) and refusals (sent again to be
//! quarantined). Attacked raw as a reconciling device would be abused: a conflict the server
//! never made, one of another record, one that did not lose, conflicts on an ordinary
//! mutation, and refusals from a device that is not reconciling. The whole round trip (a real
//! conflict and a real refusal lost in a restore, brought back by the core) is run by the
//! simulation's restore seeds.

use pocketbook_protocol::merge::{conflict_id, Conflict};
use pocketbook_protocol::wire::{PushRequest, RefusedMutation};
use pocketbook_protocol::{Hlc, MutationKind, RejectCode, Role, Version};
use pocketbook_sync_server::store::{Epochs, Store};
use pocketbook_tests::fork_fixture::server_db;
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{person_draft, visit_draft};
use serde_json::Value;

use super::restore::{post, push, refusal_codes, restore_narrative, token};

/// A conflict on `visit`'s narrative whose value lost at `losing` to the visit's own.
fn lost_narrative(visit: &pocketbook_core::model::Visit, losing: Version) -> Conflict {
    Conflict {
        id: conflict_id(visit.id, "narrative", losing),
        entity: pocketbook_protocol::Entity::Visit,
        record_id: visit.id,
        field: "narrative".into(),
        losing_value: Value::from("the account that lost"),
        losing_version: losing,
        winning_value: Value::from(visit.narrative.clone()),
        winning_version: losing,
    }
}

/// The version of a visit's narrative on the server.
fn narrative_version(server: &TestServer, id: uuid::Uuid) -> Version {
    let versions: String = server_db(server)
        .query_row(
            "SELECT versions FROM records WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .expect("the visit is on the server");
    let versions: std::collections::BTreeMap<String, Version> =
        serde_json::from_str(&versions).expect("versions");
    versions["narrative"]
}

fn count(server: &TestServer, sql: &str) -> i64 {
    server_db(server)
        .query_row(sql, [], |r| r.get(0))
        .expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_servers_own_lost_conflicts_and_a_reconciling_devices_refusals_come_back() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let (a, b) = (server.device(alice.id).await, server.device(bob.id).await);
    let mut person = person_draft();
    person.establishment_id = Some(server.school);
    let child = a.book.add_young_person(person).expect("person").id;
    let visit = a.book.record_visit(visit_draft(child, 3)).expect("visit");
    let other = a.book.record_visit(visit_draft(child, 2)).expect("visit");
    for d in [&a, &b] {
        d.book.sync().await.expect("sync");
    }
    let bob_node = b.book.device_id().expect("id");
    let epoch = server.store.new_epoch().await.expect("new epoch");
    let bob_token = token(&b);
    let held_version = narrative_version(&server, visit.id);
    let lost = Version {
        hlc: Hlc {
            millis: held_version.hlc.millis - 60_000,
            counter: 0,
        },
        node: bob_node,
    };
    let conflicts_only = |seq: u64, conflicts: Vec<Conflict>| {
        let mut m = restore_narrative(seq, &visit, bob_node, "unused");
        m.fields.clear();
        m.versions = Some(Default::default());
        m.version = lost;
        m.conflicts = Some(conflicts);
        m
    };

    // A conflict the server never made (its id is not the hash), one of another record, one
    // whose value did not lose (its version above the record's): each refused, nothing opened.
    let mut forged = lost_narrative(&visit, lost);
    forged.id = "0123456789abcdef0123456789abcdef".into();
    let mut elsewhere = lost_narrative(&other, lost);
    elsewhere.record_id = other.id;
    let not_lost = Version {
        hlc: Hlc {
            millis: held_version.hlc.millis + 1,
            counter: 0,
        },
        node: bob_node,
    };
    let attempts = vec![
        conflicts_only(10, vec![forged]),
        conflicts_only(11, vec![elsewhere]),
        conflicts_only(12, vec![lost_narrative(&visit, not_lost)]),
    ];
    let (status, answer) = push(&server, &bob_token, &epoch, attempts).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        refusal_codes(&answer),
        ["restore_refused", "restore_refused", "restore_refused"],
        "{answer}"
    );
    assert_eq!(count(&server, "SELECT count(*) FROM conflicts"), 0);

    // The server's own lost conflict is opened again, once, audited, and reaches Alice.
    let real = lost_narrative(&visit, lost);
    let (status, answer) = push(
        &server,
        &bob_token,
        &epoch,
        vec![conflicts_only(13, vec![real.clone()])],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(refusal_codes(&answer), ["applied"], "{answer}");
    let (status, answer) = push(
        &server,
        &bob_token,
        &epoch,
        vec![conflicts_only(14, vec![real.clone()])],
    )
    .await;
    assert_eq!(
        (status, refusal_codes(&answer)),
        (200, vec!["applied".to_string()])
    );
    assert_eq!(count(&server, "SELECT count(*) FROM conflicts"), 1);
    assert_eq!(
        count(
            &server,
            "SELECT count(*) FROM audit WHERE operation = 'restore_conflict'"
        ),
        1
    );
    a.book.sync().await.expect("Alice reconciles and pulls");
    let seen = a.book.conflicts().expect("conflicts");
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].id, real.id);

    // Refusals a reconciling device sends again are quarantined again, once each.
    let refused = RefusedMutation {
        code: RejectCode::InvalidVersion,
        mutation: restore_narrative(3, &visit, bob_node, "refused once"),
    };
    let request = PushRequest {
        epoch: Some(epoch.clone()),
        refused: vec![refused.clone()],
        ..PushRequest::default()
    };
    for _ in 0..2 {
        let (status, answer) = post(&server.url, &bob_token, "/v1/sync/push", &request).await;
        assert_eq!(status, 200, "{answer}");
    }
    let quarantined = |device: uuid::Uuid| {
        server_db(&server)
            .query_row(
                "SELECT count(*) FROM quarantine WHERE device_id = ?1 AND seq = 3",
                [device.to_string()],
                |r| r.get::<_, i64>(0),
            )
            .expect("count")
    };
    assert_eq!(quarantined(bob_node), 1);

    // Conflicts on an ordinary edit are refused whatever their form (and it ends Bob's
    // reconciliation).
    let mut edit = restore_narrative(15, &visit, bob_node, "an edit");
    edit.kind = MutationKind::Update;
    edit.versions = None;
    edit.conflicts = Some(vec![lost_narrative(&visit, lost)]);
    let (status, answer) = push(&server, &bob_token, &epoch, vec![edit]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(refusal_codes(&answer), ["invalid_record"], "{answer}");
    assert_eq!(count(&server, "SELECT count(*) FROM conflicts"), 1);

    // A device that is not reconciling (enrolled after the restore) is not heard.
    let c = server.device(bob.id).await;
    c.book.sync().await.expect("sync");
    let epoch = server.store.identity().await.expect("identity").1;
    let request = PushRequest {
        epoch: Some(epoch),
        refused: vec![refused],
        ..PushRequest::default()
    };
    let (status, answer) = post(&server.url, &token(&c), "/v1/sync/push", &request).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(quarantined(c.book.device_id().expect("id")), 0);
}

/// A stolen phone reconciling after a restore cannot fill the quarantine with "refusals": they
/// count toward the device's cap on refused changes, and past it the device is suspended.
#[tokio::test(flavor = "multi_thread")]
async fn refusals_sent_again_count_toward_the_quarantine_cap() {
    let server = TestServer::start().await;
    let bob = server.officer("Bob", Role::Officer, &[server.team_a]).await;
    let b = server.device(bob.id).await;
    let mut person = person_draft();
    person.establishment_id = Some(server.school);
    let child = b.book.add_young_person(person).expect("person").id;
    let visit = b.book.record_visit(visit_draft(child, 3)).expect("visit");
    b.book.sync().await.expect("sync");
    let node = b.book.device_id().expect("id");
    let epoch = server.store.new_epoch().await.expect("new epoch");
    let flood = |from: u64| PushRequest {
        epoch: Some(epoch.clone()),
        refused: (from..from + 600)
            .map(|seq| RefusedMutation {
                code: RejectCode::InvalidRecord,
                mutation: restore_narrative(seq, &visit, node, "junk"),
            })
            .collect(),
        ..PushRequest::default()
    };
    let bob_token = token(&b);
    let (status, answer) = post(&server.url, &bob_token, "/v1/sync/push", &flood(1)).await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(&server.url, &bob_token, "/v1/sync/push", &flood(601)).await;
    assert_eq!(status, 200, "{answer}");
    let held = server.store.devices().await.expect("devices");
    assert!(
        held.iter()
            .any(|d| d.device_id == node && d.suspended_at.is_some()),
        "past the cap the device is suspended"
    );
    let (status, answer) = post(&server.url, &bob_token, "/v1/sync/push", &flood(1201)).await;
    assert_eq!(status, 403, "{answer}");
    assert_eq!(count(&server, "SELECT count(*) FROM quarantine"), 1200);
}

/// Seed 61 of the simulation: an officer's record reached the server after its backup, an
/// admin then moved her to another team, and the server was restored (the journal replaying
/// the move). Only her phone held the record, and the restored server refused her `restore`:
/// she no longer sees the old team. A reconciling device may now restore what its officer
/// could see at the backup or since (`restore_teams`), never another team's.
#[tokio::test(flavor = "multi_thread")]
async fn a_moved_officer_restores_what_she_could_see_since_the_backup_and_nothing_else() {
    let server = TestServer::start().await;
    let alice = server
        .officer("Alice", Role::Officer, &[server.team_a])
        .await;
    let dave = server
        .officer("Dave", Role::Officer, &[server.team_b])
        .await;
    let team_c = pocketbook_sync_server::admin::teams::add_team(&server.store, "Team C".into())
        .await
        .expect("team");
    let (a, d) = (server.device(alice.id).await, server.device(dave.id).await);
    let mut person = person_draft();
    person.establishment_id = Some(server.school);
    let child = a.book.add_young_person(person.clone()).expect("person").id;
    let ours = a.book.record_visit(visit_draft(child, 3)).expect("visit");
    let other_child = d.book.add_young_person(person).expect("person").id;
    let theirs = d
        .book
        .record_visit(visit_draft(other_child, 3))
        .expect("visit");
    for device in [&a, &d] {
        device.book.sync().await.expect("sync");
    }
    // The restore (Alice in team A at the backup), then the journal's move to team C.
    let epoch = server.store.new_epoch().await.expect("new epoch");
    pocketbook_sync_server::admin::teams::update_officer(
        &server.store,
        alice.id,
        vec![team_c.id],
        None,
    )
    .await
    .expect("moved");
    let alice_node = a.book.device_id().expect("id");
    let (status, answer) = push(
        &server,
        &token(&a),
        &epoch,
        vec![
            restore_narrative(10, &ours, alice_node, "restored after the move"),
            restore_narrative(11, &theirs, alice_node, "never hers"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        refusal_codes(&answer),
        ["applied", "restore_refused"],
        "{answer}"
    );
    // Her old team keeps the record; her phone is told to let it go: a `remove` in the bucket
    // of the team she is in now (which never held it).
    let removes: i64 = server_db(&server)
        .query_row(
            "SELECT count(*) FROM bucket_entries WHERE item = ?1 AND kind = 'remove' AND bucket = ?2",
            [ours.id.to_string(), format!("team:{}", team_c.id)],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(removes, 1);
    let narrative = |id: uuid::Uuid| -> String {
        let fields: String = server_db(&server)
            .query_row(
                "SELECT fields FROM records WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .expect("record");
        serde_json::from_str::<Value>(&fields).expect("fields")["narrative"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(narrative(ours.id), "restored after the move");
    assert_eq!(narrative(theirs.id), theirs.narrative);
    a.book.sync().await.expect("Alice syncs");
    assert!(a.book.visit(ours.id).is_err(), "out of her sight now");
}
