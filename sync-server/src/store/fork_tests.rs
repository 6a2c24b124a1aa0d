//! The fork comparison over plain values: a resend is not a fork, any changed mutation or audit
//! event at a held seq is, and the position answered is the longest prefix held as sent.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use pocketbook_protocol::digest::mutation_digest;
use pocketbook_protocol::wire::AckedPosition;
use pocketbook_protocol::{
    AuditEvent, AuditOperation, Entity, Hlc, Marking, Mutation, MutationKind, Version, GENESIS_HASH,
};
use uuid::Uuid;

use super::{acked_agrees, audit_prefix, mutation_prefix, HeldPosition};

fn mutation(seq: u64, summary: &str) -> Mutation {
    Mutation {
        seq,
        entity: Entity::Visit,
        record_id: Uuid::from_u128(u128::from(seq)),
        kind: MutationKind::Create,
        team_id: Uuid::from_u128(9),
        marking: Marking::Official,
        fields: [("summary".to_string(), summary.into())]
            .into_iter()
            .collect(),
        base: BTreeMap::new(),
        sets: BTreeMap::new(),
        version: Version {
            hlc: Hlc {
                millis: 1_700_000_000_000 + seq,
                counter: 0,
            },
            node: Uuid::from_u128(1),
        },
        reason: None,
        versions: None,
        conflicts: None,
    }
}

fn chain(n: u64, record: u128) -> Vec<AuditEvent> {
    let mut prev = GENESIS_HASH.to_string();
    (1..=n)
        .map(|seq| {
            let mut e = AuditEvent {
                seq,
                operation: AuditOperation::Collect,
                officer_id: Uuid::from_u128(5),
                device_id: Uuid::from_u128(1),
                at: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
                entity: Some(Entity::Visit),
                record_id: Some(Uuid::from_u128(record + u128::from(seq))),
                justification: None,
                recipient: None,
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            e.hash = e.compute_hash();
            prev = e.hash.clone();
            e
        })
        .collect()
}

fn digests(ms: &[Mutation]) -> BTreeMap<u64, String> {
    ms.iter().map(|m| (m.seq, mutation_digest(m))).collect()
}

fn by_seq(events: &[AuditEvent]) -> BTreeMap<u64, AuditEvent> {
    events.iter().map(|e| (e.seq, e.clone())).collect()
}

#[test]
fn a_resend_after_a_lost_answer_matches() {
    let sent: Vec<_> = (1..=4).map(|s| mutation(s, "a")).collect();
    let held = digests(&sent[..3]);
    assert_eq!(mutation_prefix(&sent, &held, 3, 0), Ok(3));
    let events = chain(3, 0);
    assert_eq!(
        audit_prefix(&events, &by_seq(&events[..2]), 2, (0, GENESIS_HASH.into())),
        Ok((2, events[1].hash.clone()))
    );
}

#[test]
fn a_changed_mutation_at_a_held_seq_is_a_fork_and_the_prefix_stops_before_it() {
    let original: Vec<_> = (1..=5).map(|s| mutation(s, "a")).collect();
    let held = digests(&original);
    let mut copy = original.clone();
    copy[3] = mutation(4, "other");
    copy[4] = mutation(5, "other");
    assert_eq!(mutation_prefix(&copy, &held, 5, 0), Err(3));
    // The first resent one differs: nothing of it is held; the acknowledged floor stays.
    let mut first = original.clone();
    first[0] = mutation(1, "other");
    assert_eq!(mutation_prefix(&first[..], &held, 5, 0), Err(0));
    assert_eq!(mutation_prefix(&copy[2..], &held, 5, 2), Err(3));
    // A re-stamp (another version, as after a clock correction) is the same change, not a
    // fork; another node's copy with other content is one.
    let mut restamped = original.clone();
    restamped[1].version.node = Uuid::from_u128(2);
    restamped[1].version.hlc.millis += 60_000;
    assert_eq!(mutation_prefix(&restamped, &held, 5, 0), Ok(5));
}

#[test]
fn seqs_without_a_stored_digest_are_taken_as_before_and_new_seqs_are_not_compared() {
    let sent: Vec<_> = (1..=4).map(|s| mutation(s, "x")).collect();
    assert_eq!(mutation_prefix(&sent, &BTreeMap::new(), 2, 0), Ok(2));
    // The prefix never claims a seq the push did not send and verify.
    let held = digests(&(1..=9).map(|s| mutation(s, "x")).collect::<Vec<_>>());
    assert_eq!(mutation_prefix(&sent, &held, 9, 0), Ok(4));
    assert_eq!(mutation_prefix(&[], &held, 9, 3), Ok(3));
}

#[test]
fn a_changed_audit_event_at_a_held_seq_is_a_fork() {
    let mine = chain(4, 0);
    let theirs: Vec<_> = mine[..2]
        .iter()
        .cloned()
        .chain(chain(4, 100)[2..].iter().cloned())
        .collect();
    let stored = by_seq(&mine);
    assert_eq!(
        audit_prefix(&theirs, &stored, 4, (0, GENESIS_HASH.into())),
        Err((2, mine[1].hash.clone()))
    );
    // An event the server never had (above its head) is not compared.
    assert!(audit_prefix(&theirs, &by_seq(&mine[..2]), 2, (0, GENESIS_HASH.into())).is_ok());
}

#[test]
fn the_acknowledged_position_must_name_the_servers_head() {
    let events = chain(3, 0);
    let held = HeldPosition {
        high_water: 3,
        audit_seq: 3,
        audit_head: events[2].hash.clone(),
    };
    let acked = |seq: u64, head: &str| AckedPosition {
        seq: 0,
        audit_seq: seq,
        audit_head: head.to_string(),
    };
    assert!(acked_agrees(&acked(0, GENESIS_HASH), &held, None));
    assert!(!acked_agrees(&acked(0, &events[0].hash), &held, None));
    assert!(acked_agrees(&acked(3, &events[2].hash), &held, None));
    assert!(!acked_agrees(&acked(3, &events[1].hash), &held, None));
    assert!(acked_agrees(
        &acked(2, &events[1].hash),
        &held,
        Some(&events[1].hash)
    ));
    assert!(!acked_agrees(
        &acked(2, "f00"),
        &held,
        Some(&events[1].hash)
    ));
    // Ahead of the server: a restored server, left to the epoch check.
    assert!(acked_agrees(&acked(7, "f00"), &held, None));
}
