//! Every cell of the authorisation table (`pocketbook_model::authz::cells`) attacked end to
//! end: officers of every role enrolled once on one real server, a record of the authorship,
//! team and marking each cell needs seeded once, then each role's cells pushed over raw HTTP
//! with its real bearer token in one push (conflict resolutions in its `resolved` list). Each
//! outcome must equal both `authz::decide` and an expectation written here independently, so
//! the test fails if the function is wrong as well as if the server does not follow it.

use std::collections::BTreeMap;

use chrono::Utc;
use pocketbook_core::model::authz::{cells, Cell, Decision, FieldGroup, Kind, Operation, Variant};
use pocketbook_core::model::Marking;
use pocketbook_protocol::audit::{AuditEvent, AuditOperation};
use pocketbook_protocol::wire::{
    EnrollRequest, EnrollResponse, PushOutcome, PushRequest, PushResponse, PROTOCOL_HEADER,
};
use pocketbook_protocol::{Hlc, Mutation, MutationKind, Role, Version};
use pocketbook_sync_server::store::Store;
use pocketbook_tests::authz_fixture::{
    group_change, record_fields, seed_version, Anchors, Seed, Seeder,
};
use pocketbook_tests::server::TestServer;
use serde_json::{json, Value};
use uuid::Uuid;

/// An enrolled device speaking raw HTTP.
struct Device {
    token: String,
    id: Uuid,
    officer: Uuid,
}

async fn enrol(server: &TestServer, http: &reqwest::Client, officer: Uuid) -> Device {
    let id = Uuid::now_v7();
    let answer: EnrollResponse = http
        .post(format!("{}/v1/enroll", server.url))
        .header(PROTOCOL_HEADER, "1")
        .json(&EnrollRequest {
            token: None,
            code: server.code(officer).await,
            device_id: id,
            device_name: "table".into(),
        })
        .send()
        .await
        .expect("enrol")
        .json()
        .await
        .expect("enrolment answer");
    Device {
        token: answer.token,
        id,
        officer,
    }
}

/// The expected outcome of a cell, written from the rules without the model's code:
/// `None` allowed, or the refusal code.
fn expected(role: Role, kind: Kind, op: Operation, v: Variant) -> Option<&'static str> {
    use Operation::*;
    let lead = matches!(role, Role::Supervisor | Role::SafeguardingLead);
    if !lead && role != Role::Officer {
        return Some("forbidden"); // auditors and admins never write through sync
    }
    let only_leads = |ok: bool| if ok { None } else { Some("forbidden") };
    match op {
        Create if !v.mine => Some("forbidden"),
        Create if !v.target_member => Some("forbidden_bucket"),
        Create => None,
        _ if !v.seen => Some("forbidden"),
        Update(FieldGroup::Authorship | FieldGroup::AddendumText) | RewriteHistory => {
            Some("immutable")
        }
        Update(FieldGroup::Account) => Some("account_immutable"),
        Update(FieldGroup::LinkedChild) if lead && !v.reason => Some("reason_required"),
        Update(FieldGroup::LinkedChild | FieldGroup::Retention) | RemoveFlag | LowerMarking => {
            only_leads(lead)
        }
        Update(_) | RaiseMarking => None,
        Delete => match kind {
            Kind::Concern | Kind::Addendum => Some("forbidden"),
            _ if !v.mine && !lead => Some("forbidden"),
            Kind::Visit if !v.reason => Some("reason_required"),
            Kind::YoungPerson if v.in_use => Some("in_use"),
            _ => None,
        },
        MoveTeam if kind == Kind::Addendum || !lead => Some("immutable"),
        MoveTeam if !v.target_member => Some("forbidden_bucket"),
        MoveTeam => None,
        ResolveConflict => only_leads(lead || v.lost_mine),
    }
}

/// The teams and people a cell's record is built from.
struct World {
    team_a: Uuid,
    team_b: Uuid,
    team_c: Uuid,
    colleague: Uuid,
    colleague_device: Uuid,
    outsider: Uuid,
    anchors: Anchors,
}

/// What one cell sends.
enum Sent {
    Mutation(Box<Mutation>),
    Resolution(String),
}

fn version(node: Uuid) -> Version {
    Version {
        hlc: Hlc {
            millis: pocketbook_protocol::unix_millis(Utc::now()),
            counter: 0,
        },
        node,
    }
}

/// Seeds what `cell` needs and returns what it sends as `me`.
fn plan(cell: &Cell, me: &Device, world: &World, seeder: &Seeder) -> Sent {
    let v = cell.variant;
    let (kind, op) = (cell.kind, cell.operation);
    let mut seed = Seed {
        kind,
        id: Uuid::now_v7(),
        team: if v.seen { world.team_a } else { world.team_b },
        author: if !v.seen {
            world.outsider
        } else if v.mine {
            me.officer
        } else {
            world.colleague
        },
        node: Uuid::now_v7(),
        marking: if op == Operation::LowerMarking {
            Marking::OfficialSensitive
        } else {
            Marking::Official
        },
    };
    if seed.author == me.officer {
        seed.node = me.id;
    } else if seed.author == world.colleague {
        seed.node = world.colleague_device;
    }
    let mut m = Mutation {
        reason: v
            .reason
            .then(|| "Recorded against the wrong child".to_string()),
        seq: 0,
        entity: kind.entity(),
        record_id: seed.id,
        kind: MutationKind::Update,
        team_id: seed.team,
        marking: seed.marking,
        fields: BTreeMap::new(),
        base: BTreeMap::new(),
        sets: BTreeMap::new(),
        version: version(me.id),
        versions: None,
        conflicts: None,
    };
    if op == Operation::Create {
        seed.team = if v.target_member {
            world.team_a
        } else {
            world.team_b
        };
        seed.author = if v.mine { me.officer } else { world.colleague };
        m.kind = MutationKind::Create;
        m.team_id = seed.team;
        m.fields = record_fields(&seed, &world.anchors).into_iter().collect();
        return Sent::Mutation(Box::new(m));
    }
    let fields = record_fields(&seed, &world.anchors);
    seeder.record(&seed, &fields);
    let change = |field: &str, value: Value| -> (String, Value) { (field.to_string(), value) };
    let (field, value) = match op {
        Operation::Update(group) => group_change(kind, group, &seed, &world.anchors),
        Operation::RemoveFlag => change("flags", json!([])),
        Operation::RewriteHistory => change("triage_history", json!([])),
        Operation::RaiseMarking => change("marking", json!("OFFICIAL-SENSITIVE")),
        Operation::LowerMarking => change("marking", json!("OFFICIAL")),
        Operation::MoveTeam => {
            let to = if v.target_member {
                world.team_c
            } else {
                world.team_b
            };
            change("team_id", json!(to))
        }
        Operation::Delete => {
            if v.in_use {
                let visit = Seed {
                    kind: Kind::Visit,
                    id: Uuid::now_v7(),
                    ..seed
                };
                let mut naming = record_fields(&visit, &world.anchors);
                naming.insert("young_person_ids".into(), json!([seed.id]));
                seeder.record(&visit, &naming);
            }
            m.kind = MutationKind::Delete;
            return Sent::Mutation(Box::new(m));
        }
        Operation::ResolveConflict => {
            let loser = if v.lost_mine {
                me.id
            } else {
                world.colleague_device
            };
            return Sent::Resolution(seeder.conflict(&seed, loser));
        }
        Operation::Create => unreachable!("handled above"),
    };
    if field == "marking" {
        m.marking = serde_json::from_value(value.clone()).expect("a marking");
    }
    m.base.insert(field.clone(), Some(seed_version(seed.node)));
    m.fields.insert(field, value);
    Sent::Mutation(Box::new(m))
}

fn outcome_code(outcome: &PushOutcome) -> (Option<String>, String) {
    match outcome {
        PushOutcome::Rejected { code, message } => {
            (Some(code.as_str().to_string()), message.clone())
        }
        _ => (None, String::new()),
    }
}

#[tokio::test]
async fn every_cell_of_the_authorisation_table_holds_against_a_real_server() {
    let server = TestServer::start().await;
    let http = pocketbook_tests::http_client();
    let team_c = server
        .store
        .add_team("Team C".into())
        .await
        .expect("team")
        .id;
    let (a, b) = (server.team_a, server.team_b);
    let colleague = server.officer("Colleague", Role::Officer, &[a]).await;
    let colleague_device = enrol(&server, &http, colleague.id).await;
    let outsider = server.officer("Outsider", Role::Officer, &[b]).await;
    let mut devices = Vec::new();
    for role in [
        Role::Officer,
        Role::Supervisor,
        Role::SafeguardingLead,
        Role::Auditor,
        Role::Admin,
    ] {
        let officer = server.officer("Asker", role, &[a, team_c]).await;
        devices.push((role, enrol(&server, &http, officer.id).await));
    }
    let anchors = Anchors {
        child: Uuid::now_v7(),
        other_child: Uuid::now_v7(),
        concern: Uuid::now_v7(),
        school: server.school,
    };
    let world = World {
        team_a: a,
        team_b: b,
        team_c,
        colleague: colleague.id,
        colleague_device: colleague_device.id,
        outsider: outsider.id,
        anchors,
    };
    let all = cells();
    let mut seeder = Seeder::open(&server.dir().join("server.db"));
    let mut plans: Vec<(usize, Vec<(Cell, Sent)>)> = Vec::new();
    seeder.batch(|s| {
        for (kind, id) in [
            (Kind::YoungPerson, anchors.child),
            (Kind::YoungPerson, anchors.other_child),
            (Kind::Concern, anchors.concern),
        ] {
            let seed = Seed {
                kind,
                id,
                team: a,
                author: colleague.id,
                node: colleague_device.id,
                marking: Marking::Official,
            };
            s.record(&seed, &record_fields(&seed, &anchors));
        }
        for (i, (role, device)) in devices.iter().enumerate() {
            let mine = all
                .iter()
                .filter(|c| c.role == *role)
                .map(|c| (*c, plan(c, device, &world, s)))
                .collect();
            plans.push((i, mine));
        }
    });

    let mut wrong = Vec::new();
    let mut checked = 0;
    for (i, planned) in plans {
        let device = &devices[i].1;
        let mut mutations = Vec::new();
        let mut resolved = Vec::new();
        for (_, sent) in &planned {
            match sent {
                Sent::Mutation(m) => {
                    let mut m = (**m).clone();
                    m.seq = u64::try_from(mutations.len() + 1).expect("seq");
                    mutations.push(m);
                }
                Sent::Resolution(id) => resolved.push(id.clone()),
            }
        }
        let response = http
            .post(format!("{}/v1/sync/push", server.url))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(&device.token)
            .json(&PushRequest {
                mutations,
                audit: vec![],
                resolved,
                epoch: None,
                acked: None,
                refused: Vec::new(),
            })
            .send()
            .await
            .expect("push");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let answer: PushResponse = response.json().await.expect("push answer");
        let mut results = answer.results.iter();
        for (cell, sent) in &planned {
            let mut message = String::new();
            let got = match sent {
                Sent::Mutation(_) => {
                    let result = results.next().expect("one result per mutation");
                    if let PushOutcome::Merged { .. } = result.outcome {
                        wrong.push(format!("{cell:?}: merged, not applied"));
                    }
                    let (code, why) = outcome_code(&result.outcome);
                    message = why;
                    code
                }
                Sent::Resolution(id) => {
                    let acked = answer.resolved.contains(id);
                    if acked != seeder.resolved(id) {
                        wrong.push(format!("{cell:?}: acknowledged {acked} but not so stored"));
                    }
                    (!acked).then(|| "forbidden".to_string())
                }
            };
            let by_table = match cell.decision() {
                Decision::Allow => None,
                Decision::Refuse(code, _) => Some(code.as_str().to_string()),
            };
            let by_hand =
                expected(cell.role, cell.kind, cell.operation, cell.variant).map(str::to_string);
            if got != by_table || got != by_hand {
                wrong.push(format!(
                    "{:?} {:?} {} [{}]: server {got:?} ({message}), table {by_table:?}, expected \
                     {by_hand:?}",
                    cell.role,
                    cell.kind,
                    cell.operation.label(),
                    cell.variant.label(cell.operation)
                ));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, all.len());

    // An auditor writes no record through sync, but the consults their device audits are kept.
    let (role, auditor) = &devices[3];
    assert_eq!(*role, Role::Auditor);
    let mut consult = AuditEvent {
        seq: 1,
        operation: AuditOperation::Consult,
        officer_id: auditor.officer,
        device_id: auditor.id,
        at: Utc::now(),
        entity: Some(Kind::YoungPerson.entity()),
        record_id: Some(anchors.child),
        justification: Some("Annual audit".into()),
        recipient: None,
        prev_hash: pocketbook_protocol::GENESIS_HASH.into(),
        hash: String::new(),
    };
    consult.hash = consult.compute_hash();
    let response = http
        .post(format!("{}/v1/sync/push", server.url))
        .header(PROTOCOL_HEADER, "1")
        .bearer_auth(&auditor.token)
        .json(&PushRequest {
            mutations: vec![],
            audit: vec![consult],
            resolved: vec![],
            epoch: None,
            acked: None,
            refused: Vec::new(),
        })
        .send()
        .await
        .expect("push");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let answer: PushResponse = response.json().await.expect("push answer");
    assert_eq!(
        answer.audit_acked_seq, 1,
        "the auditor's consult is accepted"
    );
    assert!(
        wrong.is_empty(),
        "{} of {checked} cells wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Pushes `mutations` (numbered from `first_seq`) as `device` and returns the answer.
async fn push(
    server: &TestServer,
    http: &reqwest::Client,
    device: &Device,
    mutations: Vec<Mutation>,
) -> PushResponse {
    let response = http
        .post(format!("{}/v1/sync/push", server.url))
        .header(PROTOCOL_HEADER, "1")
        .bearer_auth(&device.token)
        .json(&PushRequest {
            mutations,
            audit: vec![],
            resolved: vec![],
            epoch: None,
            acked: None,
            refused: Vec::new(),
        })
        .send()
        .await
        .expect("push");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.json().await.expect("push answer")
}

/// The raw body of a first pull of every bucket `device` may see.
async fn raw_pull(server: &TestServer, http: &reqwest::Client, device: &Device) -> String {
    let response = http
        .post(format!("{}/v1/sync/pull", server.url))
        .header(PROTOCOL_HEADER, "1")
        .bearer_auth(&device.token)
        .json(&json!({ "cursors": {}, "limit": 1000 }))
        .send()
        .await
        .expect("pull");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.text().await.expect("pull body")
}

#[tokio::test]
async fn a_deleted_record_reaches_devices_as_a_tombstone_and_its_content_waits_for_erasure() {
    use pocketbook_sync_server::store::RecordErasure;
    const NARRATIVE: &str = "Quokka-lantern narrative kept only on the server";
    const ACCOUNT: &str = "Pelican-harbour account an admin erases";
    let server = TestServer::start().await;
    let http = pocketbook_tests::http_client();
    let a = server.team_a;
    let author = server.officer("Author", Role::Officer, &[a]).await;
    let lead = server.officer("Lead", Role::SafeguardingLead, &[a]).await;
    let device = enrol(&server, &http, author.id).await;
    let reader = enrol(&server, &http, lead.id).await;
    let anchors = Anchors {
        child: Uuid::now_v7(),
        other_child: Uuid::now_v7(),
        concern: Uuid::now_v7(),
        school: server.school,
    };
    let create = |seq: u64, kind: Kind, review_due: &str, text: (&str, &str)| {
        let seed = Seed {
            kind,
            id: Uuid::now_v7(),
            team: a,
            author: author.id,
            node: device.id,
            marking: Marking::Official,
        };
        let mut fields = record_fields(&seed, &anchors);
        fields.insert("review_due".into(), json!(review_due));
        fields.insert(text.0.into(), json!(text.1));
        Mutation {
            reason: None,
            seq,
            entity: kind.entity(),
            record_id: seed.id,
            kind: MutationKind::Create,
            team_id: a,
            marking: Marking::Official,
            fields: fields.into_iter().collect(),
            base: BTreeMap::new(),
            sets: BTreeMap::new(),
            version: version(device.id),
            versions: None,
            conflicts: None,
        }
    };
    let visit = create(1, Kind::Visit, "2032-12-01", ("narrative", NARRATIVE));
    let reviewed = create(2, Kind::Visit, "2001-01-01", ("narrative", NARRATIVE));
    let concern = create(3, Kind::Concern, "2032-12-01", ("account", ACCOUNT));
    let delete = |seq: u64, of: &Mutation| Mutation {
        seq,
        kind: MutationKind::Delete,
        fields: BTreeMap::new(),
        reason: Some("Recorded twice".into()),
        version: version(device.id),
        ..of.clone()
    };
    let mutations = vec![
        visit.clone(),
        reviewed.clone(),
        concern.clone(),
        delete(4, &visit),
        delete(5, &reviewed),
    ];
    let answer = push(&server, &http, &device, mutations).await;
    for result in &answer.results {
        assert_eq!(result.outcome, PushOutcome::Applied, "{result:?}");
    }

    let body = raw_pull(&server, &http, &reader).await;
    assert!(
        body.contains(&visit.record_id.to_string()),
        "the tombstone is served"
    );
    assert!(!body.contains(NARRATIVE), "no deleted content is served");
    assert!(body.contains(ACCOUNT), "the live concern is served");
    let seeder = Seeder::open(&server.dir().join("server.db"));
    assert_eq!(
        seeder.retained_containing(NARRATIVE),
        2,
        "the server keeps both"
    );

    assert_eq!(
        server.store.purge_reviewed().await.expect("purge"),
        vec![reviewed.record_id],
        "only the content past its review date goes"
    );
    assert_eq!(seeder.retained_containing(NARRATIVE), 1);
    assert!(server
        .store
        .erase_record(visit.record_id, "Subject access: erase".into())
        .await
        .expect("erase"));
    assert_eq!(seeder.retained_containing(NARRATIVE), 0);
    assert!(server
        .store
        .erase_record(concern.record_id, "Court order".into())
        .await
        .expect("erase a concern"));
    let body = raw_pull(&server, &http, &reader).await;
    assert!(
        !body.contains(ACCOUNT),
        "an erased concern is served as a tombstone"
    );
    assert!(body.contains(&concern.record_id.to_string()));
    let audit = server.store.audit_lines().await.expect("audit").join("\n");
    assert!(audit.contains("erase_record") && audit.contains("Court order"));
    assert!(!server
        .store
        .erase_record(Uuid::now_v7(), "no such record".into())
        .await
        .expect("erase"));
}
