//! The one conformance suite every server storage backend must pass (DESIGN §6): each case is
//! written once against the `Store` trait and run on embedded SQLite and on PostgreSQL (a fresh
//! database on the throwaway cluster the test command starts).

use pocketbook_protocol::wire::{PullRequest, PushOutcome, PushRequest};
use pocketbook_protocol::{
    Entity, Establishment, EstablishmentKind, Marking, Officer, Provisioning, Role,
};
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::error::StoreError;
use pocketbook_sync_server::store::{Enrolment, PostgresOptions, SqliteStore, Store, TokenCheck};
use pocketbook_tests::pg::pg_store;
use pocketbook_tests::store_fixture::{all_applied, officer, phone, Phone, Replica};
use serde_json::json;
use uuid::Uuid;

/// Runs one case on both backends.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let store = super::SqliteStore::open(&dir.path().join("server.db")).expect("sqlite store");
                    super::$case(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (store, _url) = super::pg_store(super::PostgresOptions::default()).await;
                    super::$case(store).await;
                }
            )*
        }
    };
}

conformance!(
    identity_is_stable_across_calls,
    teams_are_unique_by_name_and_officers_need_known_teams,
    establishments_are_upserted_by_urn_and_closed_ones_not_provisioned,
    codes_enrol_once_and_expire,
    enrolment_is_rate_limited_per_client,
    revoked_and_unknown_tokens_are_told_apart,
    a_resent_push_is_acknowledged_and_never_applied_twice,
    concurrent_edits_make_exactly_one_conflict_that_resolves_once,
    refusals_are_quarantined_and_never_block_later_mutations,
    pulls_page_through_buckets_and_resume_from_cursors,
    a_team_sees_only_its_own_bucket_and_sensitive_records_only_where_allowed,
    lowering_a_marking_moves_a_record_between_buckets,
    a_delete_reaches_every_puller,
    a_push_with_a_foreign_audit_chain_is_refused_whole,
    every_disclosure_and_admin_action_is_audited,
    pages_of_one_entry_never_split_a_change,
    reference_data_names_the_officers_of_my_teams_as_they_are_now,
    a_sync_s_first_page_counts_what_is_left_and_later_pages_count_ahead,
);

async fn team<S: Store>(store: &S, name: &str) -> Uuid {
    store.add_team(name.into()).await.expect("team").id
}

fn school(urn: &str, name: &str, closed: bool) -> Establishment {
    Establishment {
        id: Uuid::now_v7(),
        urn: urn.into(),
        name: name.into(),
        kind: EstablishmentKind::Primary,
        ward: None,
        dsl_contact: None,
        dedicated_officer: None,
        priority: 1,
        closed,
    }
}

/// Everything a phone sees, pulled from nothing in pages of 7.
async fn pull_all_of<S: Store>(store: &S, phone: &Phone) -> Replica {
    let mut replica = Replica::default();
    replica.pull_all(store, &phone.device, 7).await;
    replica
}

/// Tries to enrol a new device with `code` from `client`.
async fn try_enrol<S: Store>(store: &S, code: &str, client: &str) -> Enrolment {
    store
        .enroll(
            code_hash(code),
            Uuid::now_v7(),
            "p".into(),
            code_hash(&new_code()),
            client.into(),
        )
        .await
        .expect("enrol")
}

async fn identity_is_stable_across_calls<S: Store>(store: S) {
    let (id, epoch) = store.identity().await.expect("identity");
    assert_eq!(
        store.identity().await.expect("identity"),
        (id, epoch.clone())
    );
    assert!(!epoch.is_empty());
}

async fn teams_are_unique_by_name_and_officers_need_known_teams<S: Store>(store: S) {
    let a = team(&store, "Team A").await;
    assert!(matches!(
        store.add_team("Team A".into()).await,
        Err(StoreError::Invalid(_))
    ));
    let b = team(&store, "Team B").await;
    let names: Vec<String> = store
        .teams()
        .await
        .expect("teams")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Team A", "Team B"]);
    assert!(matches!(
        store
            .add_officer("X".into(), "1".into(), Role::Officer, vec![Uuid::now_v7()])
            .await,
        Err(StoreError::Invalid(_))
    ));
    let mut o = officer(&store, Role::Officer, &[a]).await;
    o.team_ids = vec![b];
    o.role = Role::Supervisor;
    store.update_officer(o.clone()).await.expect("update");
    let stored = store.officers().await.expect("officers");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].team_ids, vec![b]);
    assert_eq!(stored[0].role, Role::Supervisor);
    o.id = Uuid::now_v7();
    assert!(matches!(
        store.update_officer(o).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn establishments_are_upserted_by_urn_and_closed_ones_not_provisioned<S: Store>(store: S) {
    let first = vec![school("1", "Alpha", false), school("2", "Beta", false)];
    assert_eq!(
        store.put_establishments(first.clone()).await.expect("put"),
        (2, 0)
    );
    let again = vec![
        school("1", "Alpha Renamed", false),
        school("2", "Beta", true),
    ];
    assert_eq!(store.put_establishments(again).await.expect("put"), (0, 2));
    let all = store.establishments().await.expect("list");
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[0].id, first[0].id,
        "an update keeps the establishment's id"
    );
    assert_eq!(all[0].name, "Alpha Renamed");
    assert!(all[1].closed);
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let code = new_code();
    store
        .add_code(o.id, code_hash(&code), 60)
        .await
        .expect("code");
    let Enrolment::Enrolled(p) = try_enrol(&store, &code, "c").await else {
        panic!("enrolment refused");
    };
    let names: Vec<&str> = p.establishments.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["Alpha Renamed"],
        "closed schools are not provisioned"
    );
}

async fn codes_enrol_once_and_expire<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    assert!(matches!(
        store.add_code(Uuid::now_v7(), code_hash("x"), 60).await,
        Err(StoreError::Invalid(_))
    ));
    let code = new_code();
    store
        .add_code(o.id, code_hash(&code), 60)
        .await
        .expect("code");
    assert!(matches!(
        try_enrol(&store, &code, "a").await,
        Enrolment::Enrolled(_)
    ));
    assert!(matches!(
        try_enrol(&store, &code, "b").await,
        Enrolment::BadCode
    ));
    let expired = new_code();
    store
        .add_code(o.id, code_hash(&expired), -1)
        .await
        .expect("code");
    let outcome = try_enrol(&store, &expired, "c").await;
    assert!(matches!(outcome, Enrolment::BadCode));
    assert_eq!(store.devices().await.expect("devices").len(), 1);
}

async fn enrolment_is_rate_limited_per_client<S: Store>(store: S) {
    for _ in 0..10 {
        let outcome = try_enrol(&store, "wrong", "10.0.0.9").await;
        assert!(matches!(outcome, Enrolment::BadCode));
    }
    let outcome = try_enrol(&store, "wrong", "10.0.0.9").await;
    assert!(matches!(outcome, Enrolment::RateLimited));
    let other = try_enrol(&store, "other-wrong", "10.0.0.10").await;
    assert!(
        matches!(other, Enrolment::BadCode),
        "another client is not limited"
    );
    // Attempts are counted per code too (issue 11): the spent code is limited from anywhere.
    let same_code = try_enrol(&store, "wrong", "10.0.0.11").await;
    assert!(matches!(same_code, Enrolment::RateLimited));
}

async fn revoked_and_unknown_tokens_are_told_apart<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let p = phone(&store, &o).await;
    assert!(matches!(
        store.check_token(code_hash("nobody")).await.expect("check"),
        TokenCheck::Unknown
    ));
    assert!(store.revoke(p.device.device_id).await.expect("revoke"));
    assert!(
        !store.revoke(p.device.device_id).await.expect("revoke"),
        "revoking twice"
    );
    assert!(
        !store.revoke(Uuid::now_v7()).await.expect("revoke"),
        "unknown device"
    );
    assert!(matches!(
        store.check_token(code_hash(&p.token)).await.expect("check"),
        TokenCheck::Revoked
    ));
    let listed = store.devices().await.expect("devices");
    assert!(listed[0].revoked_at.is_some());
}

async fn a_resent_push_is_acknowledged_and_never_applied_twice<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let mut p = phone(&store, &o).await;
    let visit = p.create(
        Entity::Visit,
        t,
        Marking::Official,
        json!({"narrative": "first"}),
    );
    let batch = vec![visit.clone()];
    let first = p.push(&store, batch.clone()).await;
    assert!(all_applied(&first));
    assert_eq!(first.acked_seq, 1);
    let edit = p.update(&visit, json!({"narrative": "second"}), Some(visit.version));
    p.push(&store, vec![edit.clone()]).await;
    let resent = p.push(&store, vec![visit.clone(), edit]).await;
    assert!(all_applied(&resent));
    assert_eq!(resent.acked_seq, 2);
    let replica = pull_all_of(&store, &p).await;
    assert_eq!(
        replica.records[&visit.record_id].0["narrative"],
        json!("second")
    );
    let collects = store
        .audit_lines()
        .await
        .expect("audit")
        .iter()
        .filter(|l| l.contains("\"collect\""))
        .count();
    assert_eq!(collects, 1, "the resent create was not applied again");
}

async fn concurrent_edits_make_exactly_one_conflict_that_resolves_once<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o1 = officer(&store, Role::Officer, &[t]).await;
    let o2 = officer(&store, Role::Officer, &[t]).await;
    let (mut a, mut b) = (phone(&store, &o1).await, phone(&store, &o2).await);
    let visit = a.create(
        Entity::Visit,
        t,
        Marking::Official,
        json!({"narrative": "start"}),
    );
    a.push(&store, vec![visit.clone()]).await;
    let edit_a = a.update(&visit, json!({"narrative": "from A"}), Some(visit.version));
    let edit_b = b.update(&visit, json!({"narrative": "from B"}), Some(visit.version));
    let winner = if edit_b.version > edit_a.version {
        "from B"
    } else {
        "from A"
    };
    assert!(all_applied(&a.push(&store, vec![edit_a]).await));
    let merged = b.push(&store, vec![edit_b]).await;
    let PushOutcome::Merged { conflicts } = &merged.results[0].outcome else {
        panic!("a concurrent edit must merge: {merged:?}");
    };
    assert_eq!(conflicts.len(), 1);
    let open = store.conflicts(false).await.expect("conflicts");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].0.id, conflicts[0]);
    let replica = pull_all_of(&store, &a).await;
    assert_eq!(replica.conflicts.get(&conflicts[0]), Some(&false));
    assert_eq!(
        replica.records[&visit.record_id].0["narrative"],
        json!(winner),
        "the higher version wins"
    );
    assert!(store
        .resolve_conflict(conflicts[0].clone())
        .await
        .expect("resolve"));
    assert!(!store
        .resolve_conflict(conflicts[0].clone())
        .await
        .expect("resolve"));
    assert!(store.conflicts(false).await.expect("conflicts").is_empty());
    assert_eq!(store.conflicts(true).await.expect("conflicts").len(), 1);
    let replica = pull_all_of(&store, &a).await;
    assert_eq!(replica.conflicts.get(&conflicts[0]), Some(&true));
}

async fn refusals_are_quarantined_and_never_block_later_mutations<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let other = team(&store, "Other").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let mut p = phone(&store, &o).await;
    let ghost = p.create(
        Entity::Visit,
        t,
        Marking::Official,
        json!({"narrative": "x"}),
    );
    let unknown = p.update(&ghost, json!({"narrative": "y"}), None);
    let foreign = p.create(
        Entity::Visit,
        other,
        Marking::Official,
        json!({"narrative": "z"}),
    );
    let fine = p.create(
        Entity::Visit,
        t,
        Marking::Official,
        json!({"narrative": "ok"}),
    );
    // The ghost is never pushed: number the rest from 1, as a push may not skip a seq.
    let (mut unknown, mut foreign, mut fine) = (unknown, foreign, fine);
    (unknown.seq, foreign.seq, fine.seq) = (1, 2, 3);
    let response = p.push(&store, vec![unknown, foreign, fine.clone()]).await;
    let codes: Vec<String> = response
        .results
        .iter()
        .map(|r| match &r.outcome {
            PushOutcome::Rejected { code, .. } => code.to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, ["unknown_record", "forbidden_bucket", "Applied"]);
    assert_eq!(response.acked_seq, 3);
    let quarantined = store.quarantine().await.expect("quarantine");
    assert_eq!(quarantined.len(), 2);
    assert_eq!(quarantined[0].code, "unknown_record");
    assert_eq!(quarantined[1].device_id, p.device.device_id);
    assert!(pull_all_of(&store, &p)
        .await
        .records
        .contains_key(&fine.record_id));
}

async fn pulls_page_through_buckets_and_resume_from_cursors<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let mut p = phone(&store, &o).await;
    let batch: Vec<_> = (0..25)
        .map(|i| {
            p.create(
                Entity::Visit,
                t,
                Marking::Official,
                json!({"narrative": format!("visit {i}")}),
            )
        })
        .collect();
    p.push(&store, batch).await;
    let mut replica = Replica::default();
    replica.pull_all(&store, &p.device, 10).await;
    assert_eq!(replica.records.len(), 25);
    assert_eq!(replica.pages, 3);
    let page = store
        .pull(
            p.device.clone(),
            PullRequest {
                epoch: replica.epoch.clone(),
                cursors: replica.cursors.clone(),
                limit: Some(10),
                reference: false,
                common_version: false,
            },
        )
        .await
        .expect("pull");
    assert!(page.entries.is_empty(), "nothing new after the cursors");
    assert_eq!(page.remaining, 0);
    let stale = store
        .pull(
            p.device.clone(),
            PullRequest {
                epoch: Some("another-epoch".into()),
                cursors: replica.cursors.clone(),
                limit: Some(100),
                reference: true,
                common_version: false,
            },
        )
        .await
        .expect("pull");
    assert_eq!(
        stale.entries.len(),
        25,
        "cursors of another epoch start from zero"
    );
    assert!(stale.reference.is_some());
}

async fn a_team_sees_only_its_own_bucket_and_sensitive_records_only_where_allowed<S: Store>(
    store: S,
) {
    let a = team(&store, "A").await;
    let b = team(&store, "B").await;
    let author = officer(&store, Role::Officer, &[a]).await;
    let colleague = officer(&store, Role::Officer, &[a]).await;
    let supervisor = officer(&store, Role::Supervisor, &[a]).await;
    let outsider = officer(&store, Role::Officer, &[b]).await;
    let mut p = phone(&store, &author).await;
    let visit = p.create(
        Entity::Visit,
        a,
        Marking::Official,
        json!({"narrative": "v"}),
    );
    let concern = p.create(
        Entity::Concern,
        a,
        Marking::OfficialSensitive,
        json!({"account": "c"}),
    );
    p.push(&store, vec![visit.clone(), concern.clone()]).await;
    let seen = |o| {
        let store = store.clone();
        async move {
            let ph = phone(&store, &o).await;
            pull_all_of(&store, &ph)
                .await
                .records
                .keys()
                .copied()
                .collect::<Vec<_>>()
        }
    };
    let mut both = vec![visit.record_id, concern.record_id];
    both.sort();
    assert_eq!(seen(author.clone()).await, both);
    assert_eq!(seen(supervisor).await, both);
    assert_eq!(seen(colleague).await, vec![visit.record_id]);
    assert!(seen(outsider).await.is_empty());
}

async fn lowering_a_marking_moves_a_record_between_buckets<S: Store>(store: S) {
    let a = team(&store, "A").await;
    // Only a supervisor or safeguarding lead may lower a marking.
    let author = officer(&store, Role::Supervisor, &[a]).await;
    let colleague = officer(&store, Role::Officer, &[a]).await;
    let mut p = phone(&store, &author).await;
    let c = phone(&store, &colleague).await;
    let concern = p.create(
        Entity::Concern,
        a,
        Marking::OfficialSensitive,
        json!({"account": "c"}),
    );
    p.push(&store, vec![concern.clone()]).await;
    let mut view = Replica::default();
    view.pull_all(&store, &c.device, 50).await;
    assert!(view.records.is_empty());
    let mut lowered = p.update(
        &concern,
        json!({"marking": "OFFICIAL"}),
        Some(concern.version),
    );
    lowered.marking = Marking::Official;
    assert!(all_applied(&p.push(&store, vec![lowered]).await));
    view.pull_all(&store, &c.device, 50).await;
    assert!(
        view.records.contains_key(&concern.record_id),
        "now in the team bucket"
    );
    let page = store
        .pull(
            p.device.clone(),
            PullRequest {
                epoch: None,
                cursors: Default::default(),
                limit: Some(100),
                reference: false,
                common_version: false,
            },
        )
        .await
        .expect("pull");
    assert!(
        page.entries.iter().any(|e| matches!(e, pocketbook_protocol::wire::PullEntry::Remove { id, .. } if *id == concern.record_id)),
        "the author bucket it left carries a remove entry"
    );
}

async fn a_delete_reaches_every_puller<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let mut p = phone(&store, &o).await;
    let visit = p.create(
        Entity::Visit,
        t,
        Marking::Official,
        json!({"narrative": "v"}),
    );
    p.push(&store, vec![visit.clone()]).await;
    let mut replica = Replica::default();
    replica.pull_all(&store, &p.device, 50).await;
    assert!(!replica.records[&visit.record_id].1);
    let mut gone = p.delete(&visit);
    gone.reason = Some("recorded twice".into());
    assert!(all_applied(&p.push(&store, vec![gone]).await));
    replica.pull_all(&store, &p.device, 50).await;
    assert!(replica.records[&visit.record_id].1, "a tombstone arrives");
}

async fn a_push_with_a_foreign_audit_chain_is_refused_whole<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let mut p = phone(&store, &o).await;
    let visit = p.create(
        Entity::Visit,
        t,
        Marking::Official,
        json!({"narrative": "v"}),
    );
    let event = pocketbook_protocol::audit::AuditEvent {
        seq: 1,
        operation: pocketbook_protocol::audit::AuditOperation::Collect,
        officer_id: o.id,
        device_id: Uuid::now_v7(),
        at: chrono::Utc::now(),
        entity: Some(Entity::Visit),
        record_id: Some(visit.record_id),
        justification: None,
        recipient: None,
        prev_hash: pocketbook_protocol::GENESIS_HASH.into(),
        hash: String::new(),
    };
    let refused = store
        .push(
            p.device.clone(),
            PushRequest {
                mutations: vec![visit],
                audit: vec![event],
                resolved: Vec::new(),
                epoch: None,
                acked: None,
                refused: Vec::new(),
            },
        )
        .await
        .expect("push");
    assert!(refused.is_err(), "{refused:?}");
    assert!(
        pull_all_of(&store, &p).await.records.is_empty(),
        "nothing was half-written"
    );
}

async fn every_disclosure_and_admin_action_is_audited<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let mut p = phone(&store, &o).await;
    let visit = p.create(
        Entity::Visit,
        t,
        Marking::Official,
        json!({"narrative": "v"}),
    );
    p.push(&store, vec![visit.clone()]).await;
    pull_all_of(&store, &p).await;
    store.revoke(p.device.device_id).await.expect("revoke");
    let lines = store.audit_lines().await.expect("audit");
    let operations: Vec<String> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["operation"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    for op in [
        "admin_add_team",
        "admin_add_officer",
        "admin_issue_code",
        "enrol",
        "collect",
        "disclose",
        "admin_revoke",
    ] {
        assert!(
            operations.iter().any(|o| o == op),
            "{op} missing from {operations:?}"
        );
    }
    let disclose = lines
        .iter()
        .find(|l| l.contains("\"disclose\""))
        .expect("disclose line");
    assert!(
        disclose.contains(&visit.record_id.to_string()),
        "a disclosure names its records"
    );
}

/// A record and the conflict its merge made share one change number; a page of one entry must
/// not end between them (a cursor inside a change skipped the rest of it: the conflict never
/// reached a device pulling in small pages).
async fn pages_of_one_entry_never_split_a_change<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o1 = officer(&store, Role::Officer, &[t]).await;
    let o2 = officer(&store, Role::Officer, &[t]).await;
    let (mut a, mut b) = (phone(&store, &o1).await, phone(&store, &o2).await);
    let mut visits = Vec::new();
    for n in 0..3 {
        let visit = a.create(
            Entity::Visit,
            t,
            Marking::Official,
            json!({ "narrative": format!("start {n}") }),
        );
        a.push(&store, vec![visit.clone()]).await;
        visits.push(visit);
    }
    let mut made = Vec::new();
    for visit in &visits {
        let edit_a = a.update(visit, json!({"narrative": "from A"}), Some(visit.version));
        let edit_b = b.update(visit, json!({"narrative": "from B"}), Some(visit.version));
        a.push(&store, vec![edit_a]).await;
        let merged = b.push(&store, vec![edit_b]).await;
        let PushOutcome::Merged { conflicts } = &merged.results[0].outcome else {
            panic!("a concurrent edit must merge: {merged:?}");
        };
        made.extend(conflicts.iter().cloned());
    }
    assert_eq!(made.len(), 3);
    let mut small = Replica::default();
    small.pull_all(&store, &a.device, 1).await;
    let mut whole = Replica::default();
    whole.pull_all(&store, &a.device, 1_000).await;
    for id in &made {
        assert_eq!(
            small.conflicts.get(id),
            Some(&false),
            "conflict {id} skipped"
        );
    }
    assert_eq!(small.records, whole.records);
    assert_eq!(small.conflicts, whole.conflicts);
}

/// The reference data a pull brings `token`'s device, as the server sees the device now.
async fn reference_of<S: Store>(store: &S, token: &str) -> Provisioning {
    let TokenCheck::Valid(device) = store.check_token(code_hash(token)).await.expect("check")
    else {
        panic!("a live device");
    };
    store
        .pull(
            device,
            PullRequest {
                epoch: None,
                cursors: Default::default(),
                limit: Some(10),
                reference: true,
                common_version: false,
            },
        )
        .await
        .expect("pull")
        .reference
        .expect("reference data")
}

/// Each officer the reference data lists, with the teams it shows them in.
fn listed(reference: &Provisioning) -> Vec<(Uuid, Vec<Uuid>)> {
    let mut out: Vec<_> = reference
        .officers
        .iter()
        .map(|o| {
            let mut teams = o.team_ids.clone();
            teams.sort();
            (o.id, teams)
        })
        .collect();
    out.sort();
    out
}

/// Officers are read by team (issue 13): the list follows every move, names an officer in two
/// of my teams once, shows only my teams, and a force-wide role still sees everyone.
async fn reference_data_names_the_officers_of_my_teams_as_they_are_now<S: Store>(store: S) {
    let (a, b, c) = (
        team(&store, "A").await,
        team(&store, "B").await,
        team(&store, "C").await,
    );
    let me = officer(&store, Role::Officer, &[a, b]).await;
    let both = officer(&store, Role::Officer, &[b, a]).await;
    let mover = officer(&store, Role::Officer, &[a]).await;
    let other = officer(&store, Role::Officer, &[c]).await;
    let p = phone(&store, &me).await;
    let sorted = |mut v: Vec<Uuid>| {
        v.sort();
        v
    };
    let seen = reference_of(&store, &p.token).await;
    let mut expected = vec![
        (me.id, sorted(vec![a, b])),
        (both.id, sorted(vec![a, b])),
        (mover.id, vec![a]),
    ];
    expected.sort();
    assert_eq!(listed(&seen), expected);
    assert_eq!(
        sorted(seen.teams.iter().map(|t| t.id).collect()),
        sorted(vec![a, b])
    );

    store
        .update_officer(Officer {
            team_ids: vec![c, b],
            ..other.clone()
        })
        .await
        .expect("move other into B");
    store
        .update_officer(Officer {
            team_ids: vec![c],
            ..mover.clone()
        })
        .await
        .expect("move mover out to C");
    let mut expected = vec![
        (me.id, sorted(vec![a, b])),
        (both.id, sorted(vec![a, b])),
        (other.id, vec![b]),
    ];
    expected.sort();
    assert_eq!(
        listed(&reference_of(&store, &p.token).await),
        expected,
        "a move shows at the next sync; another team's membership is not shown"
    );

    let auditor = officer(&store, Role::Auditor, &[a]).await;
    let q = phone(&store, &auditor).await;
    let mut everyone = vec![
        (me.id, sorted(vec![a, b])),
        (both.id, sorted(vec![a, b])),
        (mover.id, vec![c]),
        (other.id, sorted(vec![b, c])),
        (auditor.id, vec![a]),
    ];
    everyone.sort();
    assert_eq!(listed(&reference_of(&store, &q.token).await), everyone);
}

/// `remaining` (issue 13): exact on a page asked with reference data (a sync's first, for the
/// device's progress), counted only ten pages ahead on the others (an exact count there walked
/// every entry still to come, on every page), and 0 exactly when nothing is left.
async fn a_sync_s_first_page_counts_what_is_left_and_later_pages_count_ahead<S: Store>(store: S) {
    let t = team(&store, "T").await;
    let o = officer(&store, Role::Officer, &[t]).await;
    let mut p = phone(&store, &o).await;
    let batch: Vec<_> = (0..30)
        .map(|i| {
            p.create(
                Entity::Visit,
                t,
                Marking::Official,
                json!({"narrative": format!("visit {i}")}),
            )
        })
        .collect();
    p.push(&store, batch).await;
    let (_, epoch) = store.identity().await.expect("identity");
    let page = |cursors: std::collections::BTreeMap<String, u64>, reference: bool| {
        store.pull(
            p.device.clone(),
            PullRequest {
                epoch: Some(epoch.clone()),
                cursors,
                limit: Some(2),
                reference,
                common_version: false,
            },
        )
    };
    let first = page(Default::default(), true).await.expect("first page");
    assert_eq!(first.entries.len(), 2);
    assert_eq!(first.remaining, 28, "the first page counts exactly");
    let next = page(first.cursors.clone(), false).await.expect("next page");
    assert_eq!(next.entries.len(), 2);
    assert_eq!(next.remaining, 20, "a later page counts ten pages ahead");
    let mut cursors = next.cursors;
    let mut pulled = 4;
    loop {
        let later = page(cursors.clone(), false).await.expect("later page");
        pulled += later.entries.len();
        assert_eq!(
            later.remaining,
            (30 - pulled).min(20) as u64,
            "bounded, and exact once near the end"
        );
        cursors = later.cursors;
        if later.remaining == 0 {
            break;
        }
    }
    assert_eq!(pulled, 30);
}
