//! A hostile (or buggy) enrolled device against a real server process, over raw HTTP with a
//! real token: every rule of the server guard attacked, each refusal shown, and after each a
//! second, honest device (a real `Pocketbook`) syncs normally and holds no poison.

use chrono::{Duration, Utc};
use pocketbook_core::model::{ConcernFilter, RecordMeta, VisitFilter};
use pocketbook_protocol::limits::{MAX_QUARANTINED_PER_DEVICE, MAX_VERSION_COUNTER};
use pocketbook_protocol::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, PushOutcome, PushRequest, PushResponse,
    PROTOCOL_HEADER,
};
use pocketbook_protocol::{
    Entity, Hlc, Marking, Mutation, MutationKind, RejectCode, Role, Version,
};
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{concern_draft, visit_draft};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PropConfig, TestRunner};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// A device speaking raw HTTP with its own token and sequence.
struct Hostile {
    http: reqwest::Client,
    url: String,
    token: String,
    device: Uuid,
    officer: Uuid,
    team: Uuid,
    seq: u64,
}

impl Hostile {
    async fn enrolled(server: &TestServer, officer: Uuid) -> Hostile {
        let http = pocketbook_tests::http_client();
        let device = Uuid::now_v7();
        let answer: EnrollResponse = http
            .post(format!("{}/v1/enroll", server.url))
            .header(PROTOCOL_HEADER, "1")
            .json(&EnrollRequest {
                token: None,
                code: server.code(officer).await,
                device_id: device,
                device_name: "hostile".into(),
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Hostile {
            http,
            url: server.url.clone(),
            token: answer.token,
            device,
            officer,
            team: server.team_a,
            seq: 0,
        }
    }

    fn version(&self) -> Version {
        Version {
            hlc: Hlc {
                millis: pocketbook_protocol::unix_millis(Utc::now()),
                counter: 0,
            },
            node: self.device,
        }
    }

    /// A mutation with the next seq, stamped by this device.
    fn mutation(
        &mut self,
        entity: Entity,
        kind: MutationKind,
        id: Uuid,
        fields: Map<String, Value>,
    ) -> Mutation {
        self.seq += 1;
        Mutation {
            reason: None,
            seq: self.seq,
            entity,
            record_id: id,
            kind,
            team_id: self.team,
            marking: Marking::Official,
            fields: fields.into_iter().collect(),
            base: Default::default(),
            sets: Default::default(),
            version: self.version(),
            versions: None,
            conflicts: None,
        }
    }

    async fn post(&self, path: &str, body: &impl serde::Serialize) -> (StatusCode, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.expect("every answer is JSON"))
    }

    async fn push_raw(&self, mutations: Vec<Mutation>) -> (StatusCode, Value) {
        let request = PushRequest {
            mutations,
            audit: vec![],
            resolved: vec![],
            epoch: None,
            acked: None,
            refused: Vec::new(),
        };
        self.post("/v1/sync/push", &request).await
    }

    async fn push(&self, mutations: Vec<Mutation>) -> PushResponse {
        let (status, body) = self.push_raw(mutations).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let answer: PushResponse = serde_json::from_value(body).unwrap();
        assert_eq!(
            answer.model_generation,
            Some(pocketbook_core::model::MODEL_GENERATION)
        );
        answer
    }

    /// Pushes one mutation and returns the refusal code it got (panics if it was taken).
    async fn refused(&self, m: Mutation) -> RejectCode {
        let answer = self.push(vec![m]).await;
        match &answer.results[0].outcome {
            PushOutcome::Rejected { code, message } => {
                assert!(
                    !message.contains("Alice"),
                    "a message repeats a value: {message}"
                );
                code.clone()
            }
            other => panic!("poison was taken: {other:?}"),
        }
    }

    /// A valid concern's fields, as the model makes them.
    fn concern_fields(&self) -> Map<String, Value> {
        let now = Utc::now();
        let meta = RecordMeta {
            team_id: self.team,
            created_by: self.officer,
            created_at: now,
            marking: Marking::Official,
            review_due: now.date_naive() + Duration::days(365),
        };
        let mut draft = concern_draft(Uuid::now_v7(), 3);
        draft.assigned_lead = None;
        let concern = draft.into_record(Uuid::now_v7(), meta, now).unwrap();
        let Value::Object(mut map) = serde_json::to_value(concern).unwrap() else {
            panic!("a record is an object")
        };
        map.remove("id");
        map
    }

    /// A valid visit's fields, as the model makes them.
    fn visit_fields(&self) -> Map<String, Value> {
        let now = Utc::now();
        let meta = RecordMeta {
            team_id: self.team,
            created_by: self.officer,
            created_at: now,
            marking: Marking::Official,
            review_due: now.date_naive() + Duration::days(365),
        };
        let visit = visit_draft(Uuid::now_v7(), 3).into_record(Uuid::now_v7(), meta);
        let Value::Object(mut map) = serde_json::to_value(visit).unwrap() else {
            panic!("a record is an object")
        };
        map.remove("id");
        map
    }
}

fn error_code(body: &Value) -> String {
    let e: ErrorBody = serde_json::from_value(body.clone()).expect("an error body");
    e.code.to_string()
}

/// The honest device syncs without error and holds none of `poison`.
async fn honest_syncs_clean(honest: &TestDevice, poison: &[Uuid]) {
    honest.book.sync().await.expect("the honest device syncs");
    let visits = honest.book.visits(&VisitFilter::default()).unwrap();
    let concerns = honest.book.concerns(&ConcernFilter::default()).unwrap();
    for id in poison {
        assert!(visits.iter().all(|v| v.id != *id), "poison visit served");
        assert!(
            concerns.iter().all(|c| c.id != *id),
            "poison concern served"
        );
    }
}

async fn setup() -> (TestServer, Hostile, TestDevice) {
    let server = TestServer::start().await;
    let bad = server
        .officer("PC Bad", Role::Officer, &[server.team_a])
        .await;
    let good = server
        .officer("PC Good", Role::Officer, &[server.team_a])
        .await;
    let hostile = Hostile::enrolled(&server, bad.id).await;
    let honest = server.device(good.id).await;
    honest.book.sync().await.expect("first sync");
    (server, hostile, honest)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_poisoned_record_is_refused_and_an_honest_device_syncs_after_each() {
    let (_server, mut h, honest) = setup().await;
    let mut poison = Vec::new();
    fn attack(
        h: &mut Hostile,
        poison: &mut Vec<Uuid>,
        entity: Entity,
        fields: Map<String, Value>,
    ) -> Mutation {
        let id = Uuid::now_v7();
        poison.push(id);
        h.mutation(entity, MutationKind::Create, id, fields)
    }

    // An unknown choice may be a newer app's: the device is told to wait for the upgrade.
    let mut f = h.visit_fields();
    f.insert("kind".into(), json!("burglary"));
    let m = attack(&mut h, &mut poison, Entity::Visit, f);
    assert_eq!(h.refused(m).await, RejectCode::ServerTooOld);
    honest_syncs_clean(&honest, &poison).await;

    // An end before its start.
    let mut f = h.visit_fields();
    f.insert("end".into(), json!("2001-01-01T00:00:00Z"));
    let m = attack(&mut h, &mut poison, Entity::Visit, f);
    assert_eq!(h.refused(m).await, RejectCode::InvalidRecord);
    honest_syncs_clean(&honest, &poison).await;

    // A number where text belongs.
    let mut f = h.visit_fields();
    f.insert("place".into(), json!(42));
    let m = attack(&mut h, &mut poison, Entity::Visit, f);
    assert_eq!(h.refused(m).await, RejectCode::InvalidRecord);
    honest_syncs_clean(&honest, &poison).await;

    // A narrative far past the model's bound (100 KB: the body still fits its limit).
    let mut f = h.visit_fields();
    f.insert("narrative".into(), json!("Alice ".repeat(20_000)));
    let m = attack(&mut h, &mut poison, Entity::Visit, f);
    assert_eq!(h.refused(m).await, RejectCode::TooLarge);
    honest_syncs_clean(&honest, &poison).await;

    // A concern with three fields.
    let mut f = Map::new();
    f.insert("team_id".into(), json!(h.team));
    f.insert("created_by".into(), json!(h.officer));
    f.insert("account".into(), json!("three fields only"));
    let m = attack(&mut h, &mut poison, Entity::Concern, f);
    assert_eq!(h.refused(m).await, RejectCode::InvalidRecord);
    honest_syncs_clean(&honest, &poison).await;

    // A field this server does not know, at the top and nested in a set element.
    let mut f = h.visit_fields();
    f.insert("weather".into(), json!("rain"));
    let m = attack(&mut h, &mut poison, Entity::Visit, f);
    assert_eq!(h.refused(m).await, RejectCode::ServerTooOld);
    let mut f = h.concern_fields();
    f["thrive"]["threat"]["colour"] = json!("red");
    let m = attack(&mut h, &mut poison, Entity::Concern, f);
    assert_eq!(h.refused(m).await, RejectCode::ServerTooOld);
    let mut f = h.concern_fields();
    f["triage_history"][0]["mood"] = json!("calm");
    let m = attack(&mut h, &mut poison, Entity::Concern, f);
    assert_eq!(h.refused(m).await, RejectCode::ServerTooOld);
    // The same concern without the unknown members is taken.
    let f = h.concern_fields();
    let id = Uuid::now_v7();
    let m = h.mutation(Entity::Concern, MutationKind::Create, id, f);
    assert_eq!(
        h.push(vec![m]).await.results[0].outcome,
        PushOutcome::Applied
    );
    honest_syncs_clean(&honest, &poison).await;

    // A kind of record this server does not know.
    let f = h.visit_fields();
    let m = attack(&mut h, &mut poison, Entity::Unknown("homework".into()), f);
    assert_eq!(h.refused(m).await, RejectCode::ServerTooOld);

    // A version stamped with another device's node, and one with a counter past the bound.
    let f = h.visit_fields();
    let mut m = attack(&mut h, &mut poison, Entity::Visit, f);
    m.version.node = Uuid::now_v7();
    assert_eq!(h.refused(m).await, RejectCode::InvalidVersion);
    let f = h.visit_fields();
    let mut m = attack(&mut h, &mut poison, Entity::Visit, f);
    m.version.hlc.counter = MAX_VERSION_COUNTER + 1;
    assert_eq!(h.refused(m).await, RejectCode::InvalidVersion);
    honest_syncs_clean(&honest, &poison).await;

    // The same device's valid visit is still taken, and reaches the honest device.
    let f = h.visit_fields();
    let id = Uuid::now_v7();
    let m = h.mutation(Entity::Visit, MutationKind::Create, id, f);
    let answer = h.push(vec![m]).await;
    assert_eq!(answer.results[0].outcome, PushOutcome::Applied);
    honest_syncs_clean(&honest, &poison).await;
    let visits = honest.book.visits(&VisitFilter::default()).unwrap();
    assert!(visits.iter().any(|v| v.id == id));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_push_with_a_seq_gap_is_refused_whole_and_nothing_is_applied() {
    let (_server, mut h, honest) = setup().await;
    let first = h.visit_fields();
    let id = Uuid::now_v7();
    let mut m = h.mutation(Entity::Visit, MutationKind::Create, id, first);
    m.seq = 1_000_000;
    let (status, body) = h.push_raw(vec![m.clone()]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "seq_gap");
    honest_syncs_clean(&honest, &[id]).await;
    // A gap inside the batch is refused too.
    let mut m1 = m.clone();
    m1.seq = 1;
    let mut m3 = h.mutation(
        Entity::Visit,
        MutationKind::Create,
        Uuid::now_v7(),
        h.visit_fields(),
    );
    m3.seq = 3;
    let (status, _) = h.push_raw(vec![m1.clone(), m3]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    honest_syncs_clean(&honest, &[id]).await;
    // The right number is taken, and a later change is not silenced.
    let answer = h.push(vec![m1]).await;
    assert_eq!(answer.results[0].outcome, PushOutcome::Applied);
    assert_eq!(answer.acked_seq, 1);
    honest.book.sync().await.unwrap();
    assert!(honest
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .iter()
        .any(|v| v.id == id));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_valid_edits_that_merge_into_an_invalid_record_leave_it_valid_as_a_conflict() {
    let (server, mut a, honest) = setup().await;
    let colleague = server
        .officer("PC Other", Role::Officer, &[server.team_a])
        .await;
    let mut b = Hostile::enrolled(&server, colleague.id).await;
    let fields = a.visit_fields();
    let start: chrono::DateTime<Utc> = serde_json::from_value(fields["start"].clone()).unwrap();
    let id = Uuid::now_v7();
    let create = a.mutation(Entity::Visit, MutationKind::Create, id, fields);
    let base = create.version;
    assert_eq!(
        a.push(vec![create]).await.results[0].outcome,
        PushOutcome::Applied
    );
    // A moves the start 30 minutes later; B, concurrently, moves the end 10 minutes after
    // the old start. Each is valid on its own; together the visit would end before it starts.
    let mut f = Map::new();
    f.insert("start".into(), json!(start + Duration::minutes(30)));
    let mut later_start = a.mutation(Entity::Visit, MutationKind::Update, id, f);
    later_start.base.insert("start".into(), Some(base));
    assert_eq!(
        a.push(vec![later_start]).await.results[0].outcome,
        PushOutcome::Applied
    );
    let mut f = Map::new();
    f.insert("end".into(), json!(start + Duration::minutes(10)));
    let mut earlier_end = b.mutation(Entity::Visit, MutationKind::Update, id, f);
    earlier_end.base.insert("end".into(), Some(base));
    let answer = b.push(vec![earlier_end]).await;
    let PushOutcome::Merged { conflicts } = &answer.results[0].outcome else {
        panic!(
            "an honest edit was refused: {:?}",
            answer.results[0].outcome
        );
    };
    assert_eq!(conflicts.len(), 1);
    honest.book.sync().await.unwrap();
    let visit = honest
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .into_iter()
        .find(|v| v.id == id)
        .expect("the visit is served");
    assert!(visit.end >= visit.start);
    assert_eq!(visit.start, start + Duration::minutes(30));
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_quarantine_cap_a_device_is_suspended_until_an_admin_lifts_it() {
    let (server, mut h, honest) = setup().await;
    let mut bad = h.visit_fields();
    bad.insert("place".into(), json!(42));
    let mut left = MAX_QUARANTINED_PER_DEVICE + 1;
    while left > 0 {
        let n = left.min(500);
        let batch: Vec<Mutation> = (0..n)
            .map(|_| {
                h.mutation(
                    Entity::Visit,
                    MutationKind::Create,
                    Uuid::now_v7(),
                    bad.clone(),
                )
            })
            .collect();
        let answer = h.push(batch).await;
        assert!(answer
            .results
            .iter()
            .all(|r| matches!(r.outcome, PushOutcome::Rejected { .. })));
        left -= n;
    }
    let m = h.mutation(
        Entity::Visit,
        MutationKind::Create,
        Uuid::now_v7(),
        h.visit_fields(),
    );
    let (status, body) = h.push_raw(vec![m.clone()]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "device_suspended");
    let (status, _) = h.post("/v1/sync/pull", &json!({ "cursors": {} })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    honest_syncs_clean(&honest, &[m.record_id]).await;
    // Admins see it, and lifting it lets the device sync again.
    let devices = server.store.devices().await.unwrap();
    let listed = devices.iter().find(|d| d.device_id == h.device).unwrap();
    assert!(listed.suspended_at.is_some());
    assert!(server.store.lift_suspension(h.device).await.unwrap());
    let answer = h.push(vec![m]).await;
    assert_eq!(answer.results[0].outcome, PushOutcome::Applied);
    let audit = server.store.audit_lines().await.unwrap().join("\n");
    assert!(audit.contains("suspend_device") && audit.contains("admin_lift_suspension"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_addendum_naming_another_teams_concern_is_refused_and_never_reaches_that_team() {
    let (server, _, honest) = setup().await;
    // A concern of team A, synced to the server by an honest officer of team A.
    let mut person = pocketbook_tests::person_draft();
    person.establishment_id = Some(server.school);
    let child = honest.book.add_young_person(person).unwrap().id;
    let mut draft = concern_draft(child, 2);
    draft.assigned_lead = None;
    draft.marking = Some(Marking::Official);
    let concern = honest.book.raise_concern(draft).unwrap().id;
    honest.book.sync().await.unwrap();
    // An officer of team B writes an "addendum" to it, and an action linked to it.
    let outsider = server
        .officer("PC Outsider", Role::Officer, &[server.team_b])
        .await;
    let mut h = Hostile::enrolled(&server, outsider.id).await;
    h.team = server.team_b;
    let now = Utc::now();
    let mut addendum = Map::new();
    for (k, v) in [
        ("team_id", json!(server.team_b)),
        ("created_by", json!(outsider.id)),
        ("created_at", json!(now)),
        ("marking", json!("OFFICIAL")),
        ("review_due", json!(now.date_naive() + Duration::days(365))),
        ("concern_id", json!(concern)),
        ("young_person_ids", json!([child])),
        ("text", json!("Injected text")),
    ] {
        addendum.insert(k.into(), v);
    }
    let injected = Uuid::now_v7();
    let m = h.mutation(Entity::Addendum, MutationKind::Create, injected, addendum);
    assert_eq!(h.refused(m).await, RejectCode::Forbidden);
    // Team A's officer never receives it.
    honest.book.sync().await.unwrap();
    assert!(honest.book.addenda(concern).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_for_a_newer_app_never_count_toward_suspension() {
    let (_server, mut h, _honest) = setup().await;
    let mut newer = h.visit_fields();
    newer.insert("kind".into(), json!("burglary"));
    let mut left = MAX_QUARANTINED_PER_DEVICE + 1;
    while left > 0 {
        let n = left.min(500);
        let batch: Vec<Mutation> = (0..n)
            .map(|_| {
                h.mutation(
                    Entity::Visit,
                    MutationKind::Create,
                    Uuid::now_v7(),
                    newer.clone(),
                )
            })
            .collect();
        let answer = h.push(batch).await;
        assert!(answer.results.iter().all(|r| matches!(
            &r.outcome,
            PushOutcome::Rejected { code, .. } if *code == RejectCode::ServerTooOld
        )));
        left -= n;
    }
    // Still not suspended: an honest visit from the same device is applied.
    let m = h.mutation(
        Entity::Visit,
        MutationKind::Create,
        Uuid::now_v7(),
        h.visit_fields(),
    );
    let answer = h.push(vec![m]).await;
    assert_eq!(answer.results[0].outcome, PushOutcome::Applied);
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_store_quarantines_a_poisoned_row_and_devices_drop_it() {
    let (server, mut h, honest) = setup().await;
    let id = Uuid::now_v7();
    let m = h.mutation(Entity::Visit, MutationKind::Create, id, h.visit_fields());
    assert_eq!(
        h.push(vec![m]).await.results[0].outcome,
        PushOutcome::Applied
    );
    honest.book.sync().await.unwrap();
    assert!(honest
        .book
        .visits(&VisitFilter::default())
        .unwrap()
        .iter()
        .any(|v| v.id == id));
    // Poison written straight into the store, as an older server would have kept it.
    let conn = rusqlite::Connection::open(server.dir().join("server.db")).unwrap();
    conn.execute(
        "UPDATE records SET fields = json_set(fields, '$.kind', 'burglary', '$.place', 42)
         WHERE id = ?1",
        [id.to_string()],
    )
    .unwrap();
    drop(conn);
    let report = server.store.validate_store().await.unwrap();
    assert_eq!(report.quarantined, 1);
    assert!(report.checked >= 1);
    honest_syncs_clean(&honest, &[id]).await;
    let kept = server.store.quarantine().await.unwrap();
    assert!(kept.iter().any(|q| q.mutation["record_id"] == json!(id)));
    // A second run finds nothing more.
    assert_eq!(server.store.validate_store().await.unwrap().quarantined, 0);
}

/// One way to spoil a valid visit.
#[derive(Debug, Clone)]
enum Spoil {
    WrongType(usize, Value),
    Remove(usize),
    UnknownKey(String),
    UnknownChoice(String),
    TooLong(usize),
    EndBeforeStart(i64),
    Blank(usize),
}

/// Fields every visit must have.
const REQUIRED: [&str; 16] = [
    "kind",
    "prompted_by",
    "young_person_ids",
    "officer_ids",
    "start",
    "end",
    "place",
    "present",
    "outcome",
    "support_given",
    "signposted_to",
    "narrative",
    "team_id",
    "created_at",
    "marking",
    "review_due",
];
const TEXT: [&str; 2] = ["place", "narrative"];

fn spoil() -> impl Strategy<Value = Spoil> {
    let wrong = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(json!({"a": 1})),
        Just(json!([1, 2])),
    ];
    prop_oneof![
        (0..REQUIRED.len(), wrong).prop_map(|(i, v)| Spoil::WrongType(i, v)),
        (0..REQUIRED.len()).prop_map(Spoil::Remove),
        "[a-z]{1,12}".prop_map(|k| Spoil::UnknownKey(format!("x_{k}"))),
        "[a-z]{1,12}".prop_map(|k| Spoil::UnknownChoice(format!("zz_{k}"))),
        (0..TEXT.len()).prop_map(Spoil::TooLong),
        (1i64..10_000).prop_map(Spoil::EndBeforeStart),
        (0..TEXT.len()).prop_map(Spoil::Blank),
    ]
}

fn apply(spoil: &Spoil, mut f: Map<String, Value>) -> Map<String, Value> {
    match spoil {
        Spoil::WrongType(i, v) => {
            // `[1, 2]` is still a list: make it wrong for list fields too.
            let v = if v.is_array() && f[REQUIRED[*i]].is_array() {
                json!([{"a": 1}])
            } else {
                v.clone()
            };
            f.insert(REQUIRED[*i].into(), v);
        }
        Spoil::Remove(i) => {
            f.remove(REQUIRED[*i]);
        }
        Spoil::UnknownKey(k) => {
            f.insert(k.clone(), json!(1));
        }
        Spoil::UnknownChoice(c) => {
            f.insert("outcome".into(), json!(c));
        }
        Spoil::TooLong(i) => {
            f.insert(TEXT[*i].into(), json!("x".repeat(20_001)));
        }
        Spoil::EndBeforeStart(minutes) => {
            let start: chrono::DateTime<Utc> = serde_json::from_value(f["start"].clone()).unwrap();
            f.insert("end".into(), json!(start - Duration::minutes(*minutes)));
        }
        Spoil::Blank(i) => {
            f.insert(TEXT[*i].into(), json!("  "));
        }
    }
    f
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_generated_invalid_records_are_all_refused() {
    let (_server, mut h, honest) = setup().await;
    let mut runner = TestRunner::new(PropConfig::default());
    let spoils: Vec<Spoil> = (0..MAX_QUARANTINED_PER_DEVICE)
        .map(|_| spoil().new_tree(&mut runner).unwrap().current())
        .collect();
    let mut poison = Vec::new();
    for chunk in spoils.chunks(250) {
        let batch: Vec<Mutation> = chunk
            .iter()
            .map(|s| {
                let id = Uuid::now_v7();
                poison.push(id);
                let fields = apply(s, h.visit_fields());
                h.mutation(Entity::Visit, MutationKind::Create, id, fields)
            })
            .collect();
        let answer = h.push(batch).await;
        for (r, s) in answer.results.iter().zip(chunk) {
            assert!(
                matches!(r.outcome, PushOutcome::Rejected { .. }),
                "{s:?} was taken"
            );
        }
        honest_syncs_clean(&honest, &poison).await;
    }
}
