//! Driving a server [`Store`] directly, below HTTP: officers and enrolled devices, mutations
//! as a device would send them, and pulls to the end. Shared by the backend conformance suite
//! and the PostgreSQL concurrency tests.

use std::collections::BTreeMap;

use pocketbook_protocol::wire::{PullEntry, PullRequest, PushOutcome, PushRequest, PushResponse};
use pocketbook_protocol::{Entity, Hlc, Marking, Mutation, MutationKind, Officer, Role, Version};
use pocketbook_sync_server::auth::{code_hash, new_code};
use pocketbook_sync_server::store::{Device, Enrolment, Store, TokenCheck};
use serde_json::{json, Value};
use uuid::Uuid;

/// An officer with an enrolled device and that device's next sequence number.
pub struct Phone {
    /// The device as the server sees it.
    pub device: Device,
    /// Its token.
    pub token: String,
    /// The next outbox sequence number.
    pub next_seq: u64,
    /// Its clock's last reading.
    pub millis: u64,
}

/// Adds an officer of `role` in `teams`.
pub async fn officer<S: Store>(store: &S, role: Role, teams: &[Uuid]) -> Officer {
    store
        .add_officer("Test Officer".into(), "1234".into(), role, teams.to_vec())
        .await
        .expect("officer")
}

/// Enrols a new device for `officer` with a fresh code.
pub async fn phone<S: Store>(store: &S, officer: &Officer) -> Phone {
    let code = new_code();
    store
        .add_code(officer.id, code_hash(&code), 3600)
        .await
        .expect("code");
    let token = new_code();
    let device_id = Uuid::now_v7();
    let enrolled = store
        .enroll(
            code_hash(&code),
            device_id,
            "test phone".into(),
            code_hash(&token),
            format!("client-{device_id}"),
        )
        .await
        .expect("enrol");
    assert!(matches!(enrolled, Enrolment::Enrolled(_)), "{enrolled:?}");
    let TokenCheck::Valid(device) = store.check_token(code_hash(&token)).await.expect("token")
    else {
        panic!("a fresh token must be valid");
    };
    Phone {
        device,
        token,
        next_seq: 1,
        millis: pocketbook_protocol::unix_millis(chrono::Utc::now()),
    }
}

impl Phone {
    /// A version stamped by this phone now.
    pub fn stamp(&mut self) -> Version {
        self.millis = self
            .millis
            .max(pocketbook_protocol::unix_millis(chrono::Utc::now()))
            + 1;
        Version {
            hlc: Hlc {
                millis: self.millis,
                counter: 0,
            },
            node: self.device.device_id,
        }
    }

    /// A mutation creating a record of `entity` in `team` with `fields` (plus the author, team and
    /// marking).
    pub fn create(
        &mut self,
        entity: Entity,
        team: Uuid,
        marking: Marking,
        fields: Value,
    ) -> Mutation {
        let given: BTreeMap<String, Value> = serde_json::from_value(fields).expect("fields");
        // The server takes only whole valid records: the fields given over a valid one.
        let mut map = whole_record(&entity);
        map.extend(given);
        map.insert("created_by".into(), json!(self.device.officer.id));
        map.insert("team_id".into(), json!(team));
        map.insert("marking".into(), json!(marking));
        let seq = self.take_seq();
        let version = self.stamp();
        Mutation {
            reason: None,
            seq,
            entity,
            record_id: Uuid::now_v7(),
            kind: MutationKind::Create,
            team_id: team,
            marking,
            base: map.keys().map(|k| (k.clone(), None)).collect(),
            fields: map,
            sets: BTreeMap::new(),
            version,
            versions: None,
            conflicts: None,
        }
    }

    /// A mutation changing `fields` of an existing record, made on top of `base` versions.
    pub fn update(&mut self, of: &Mutation, fields: Value, base: Option<Version>) -> Mutation {
        let map: BTreeMap<String, Value> = serde_json::from_value(fields).expect("fields");
        let seq = self.take_seq();
        let version = self.stamp();
        Mutation {
            reason: None,
            seq,
            entity: of.entity.clone(),
            record_id: of.record_id,
            kind: MutationKind::Update,
            team_id: of.team_id,
            marking: of.marking,
            base: map.keys().map(|k| (k.clone(), base)).collect(),
            fields: map,
            sets: BTreeMap::new(),
            version,
            versions: None,
            conflicts: None,
        }
    }

    /// A mutation deleting a record.
    pub fn delete(&mut self, of: &Mutation) -> Mutation {
        let seq = self.take_seq();
        let version = self.stamp();
        Mutation {
            reason: None,
            seq,
            entity: of.entity.clone(),
            record_id: of.record_id,
            kind: MutationKind::Delete,
            team_id: of.team_id,
            marking: of.marking,
            base: BTreeMap::new(),
            fields: BTreeMap::new(),
            sets: BTreeMap::new(),
            version,
            versions: None,
            conflicts: None,
        }
    }

    fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq - 1
    }

    /// Pushes `mutations`; the response (a refused request panics).
    pub async fn push<S: Store>(&self, store: &S, mutations: Vec<Mutation>) -> PushResponse {
        store
            .push(
                self.device.clone(),
                PushRequest {
                    mutations,
                    audit: Vec::new(),
                    resolved: Vec::new(),
                    epoch: None,
                    acked: None,
                    refused: Vec::new(),
                },
            )
            .await
            .expect("push")
            .expect("push accepted")
    }
}

/// Whether every mutation of a push response was applied as sent.
pub fn all_applied(response: &PushResponse) -> bool {
    response
        .results
        .iter()
        .all(|r| r.outcome == PushOutcome::Applied)
}

/// What a device holds after pulls: record snapshots by id, and the cursors and epoch.
#[derive(Debug, Default, Clone)]
pub struct Replica {
    /// Records by id: their fields and deletion.
    pub records: BTreeMap<Uuid, (BTreeMap<String, Value>, bool)>,
    /// Conflicts by id: resolved or not.
    pub conflicts: BTreeMap<String, bool>,
    /// The buckets each record is held in.
    pub held_in: BTreeMap<Uuid, std::collections::BTreeSet<String>>,
    /// Cursor per bucket.
    pub cursors: BTreeMap<String, u64>,
    /// The server epoch.
    pub epoch: Option<String>,
    /// Pages pulled so far.
    pub pages: usize,
}

impl Replica {
    /// Pulls pages of `limit` until nothing remains; applies them like a device does.
    pub async fn pull_all<S: Store>(&mut self, store: &S, device: &Device, limit: u32) {
        loop {
            let page = store
                .pull(
                    device.clone(),
                    PullRequest {
                        epoch: self.epoch.clone(),
                        cursors: self.cursors.clone(),
                        limit: Some(limit),
                        reference: false,
                        common_version: true,
                    },
                )
                .await
                .expect("pull");
            self.pages += 1;
            if self.epoch.as_deref() != Some(page.epoch.as_str()) {
                self.held_in.clear();
                self.records.clear();
                self.conflicts.clear();
            }
            for entry in page.entries {
                match entry {
                    PullEntry::Snapshot {
                        bucket,
                        id,
                        fields,
                        deleted,
                        ..
                    } => {
                        self.held_in.entry(id).or_default().insert(bucket);
                        self.records
                            .insert(id, (fields.into_iter().collect(), deleted));
                    }
                    PullEntry::Remove { bucket, id, .. } => {
                        // Like a device: a record goes when it has left every bucket.
                        let buckets = self.held_in.entry(id).or_default();
                        buckets.remove(&bucket);
                        if buckets.is_empty() {
                            self.held_in.remove(&id);
                            self.records.remove(&id);
                        }
                    }
                    PullEntry::Unknown { kind, .. } => panic!("the server sent a {kind} entry"),
                    PullEntry::Conflict {
                        conflict, resolved, ..
                    } => {
                        self.conflicts.insert(conflict.id, resolved);
                    }
                }
            }
            self.epoch = Some(page.epoch);
            self.cursors = page.cursors;
            if page.remaining == 0 {
                return;
            }
        }
    }
}

/// A valid record of `entity` as the model makes it (visits and concerns; empty for the
/// rest), without its id, for tests that name only the fields they care about.
pub fn whole_record(entity: &Entity) -> BTreeMap<String, Value> {
    let now = chrono::Utc::now();
    let meta = pocketbook_core::model::RecordMeta {
        team_id: Uuid::nil(),
        created_by: Uuid::nil(),
        created_at: now,
        marking: Marking::Official,
        review_due: now.date_naive(),
    };
    let record = match entity {
        Entity::Visit => serde_json::to_value(
            crate::visit_draft(Uuid::now_v7(), 2).into_record(Uuid::now_v7(), meta),
        ),
        Entity::Concern => {
            let mut draft = crate::concern_draft(Uuid::now_v7(), 2);
            draft.assigned_lead = None;
            serde_json::to_value(
                draft
                    .into_record(Uuid::now_v7(), meta, now)
                    .expect("concern"),
            )
        }
        _ => return BTreeMap::new(),
    };
    let mut map: BTreeMap<String, Value> =
        serde_json::from_value(record.expect("record")).expect("fields");
    map.remove("id");
    map
}
