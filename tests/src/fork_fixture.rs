//! Fixtures of the fork suite (issue 12, item 1): a device store copied with its key to a
//! second place (the store closed, its file copied, both reopened), a device speaking raw
//! HTTP with its own token, sequence and audit chain, and reads of the server's database for
//! what the public API does not show (records by id, each device's audit chain).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use pocketbook_core::{OpenConfig, Pocketbook};
use pocketbook_protocol::audit::verify_chain;
use pocketbook_protocol::wire::{
    AckedPosition, EnrollRequest, EnrollResponse, PushRequest, PROTOCOL_HEADER,
};
use pocketbook_protocol::{
    AuditEvent, AuditOperation, Entity, Hlc, Marking, Mutation, MutationKind, Version, GENESIS_HASH,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::server::TestServer;

/// Opens the store at `path` with the fixture key.
pub fn open(path: &Path) -> Pocketbook {
    Pocketbook::open_with_sources(
        OpenConfig {
            db_path: path.to_path_buf(),
            key: crate::key(),
            device_name: "fork phone".into(),
        },
        Arc::new(pocketbook_core::SystemSources),
    )
    .expect("open store")
}

/// Copies a closed store (its file and any journal beside it) to `to`.
pub fn copy_store(from: &Path, to: &Path) {
    std::fs::copy(from, to).expect("copy store");
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = PathBuf::from(format!("{}{suffix}", from.display()));
        if side.exists() {
            std::fs::copy(&side, format!("{}{suffix}", to.display())).expect("copy journal");
        }
    }
}

/// The server's SQLite database, opened read-only beside the running server.
pub fn server_db(server: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        server.dir().join("server.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("server db")
}

/// How many rows the server holds for record `id` (0 or 1), and whether it is deleted.
pub fn server_record(server: &TestServer, id: Uuid) -> Option<Value> {
    let conn = server_db(server);
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM records WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .expect("count");
    assert!(n <= 1, "a record is held once");
    conn.query_row(
        "SELECT fields FROM records WHERE id = ?1",
        [id.to_string()],
        |r| r.get::<_, String>(0),
    )
    .ok()
    .map(|text| serde_json::from_str(&text).expect("fields"))
}

/// Every device's audit chain the server holds, verified from genesis; the events by device.
pub fn verified_device_chains(server: &TestServer) -> Vec<(Uuid, Vec<AuditEvent>)> {
    let conn = server_db(server);
    let mut stmt = conn
        .prepare("SELECT device_id, event FROM device_audit ORDER BY device_id, seq")
        .expect("device audit");
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    let mut chains: Vec<(Uuid, Vec<AuditEvent>)> = Vec::new();
    for (device, text) in rows {
        let device = Uuid::parse_str(&device).expect("id");
        let event: AuditEvent = serde_json::from_str(&text).expect("event");
        match chains.last_mut() {
            Some((d, events)) if *d == device => events.push(event),
            _ => chains.push((device, vec![event])),
        }
    }
    for (device, events) in &chains {
        verify_chain(events, 0, GENESIS_HASH)
            .unwrap_or_else(|e| panic!("chain of {device} does not verify: {e}"));
    }
    chains
}

/// A device speaking raw HTTP: its own token, sequence and audit chain.
pub struct RawDevice {
    http: reqwest::Client,
    url: String,
    token: String,
    /// Its device id.
    pub device: Uuid,
    /// Its officer.
    pub officer: Uuid,
    team: Uuid,
    seq: u64,
    /// Its audit chain so far.
    pub audit: Vec<AuditEvent>,
}

impl RawDevice {
    /// Enrols a new device id for `officer` with a fresh code.
    pub async fn enrolled(server: &TestServer, officer: Uuid) -> RawDevice {
        let http = crate::http_client();
        let device = Uuid::now_v7();
        let answer: EnrollResponse = http
            .post(format!("{}/v1/enroll", server.url))
            .header(PROTOCOL_HEADER, "1")
            .json(&EnrollRequest {
                token: None,
                code: server.code(officer).await,
                device_id: device,
                device_name: "raw".into(),
            })
            .send()
            .await
            .expect("enrol")
            .json()
            .await
            .expect("enrol answer");
        RawDevice {
            http,
            url: server.url.clone(),
            token: answer.token,
            device,
            officer,
            team: server.team_a,
            seq: 0,
            audit: Vec::new(),
        }
    }

    /// A whole valid visit's create with the next seq, and its audit event.
    pub fn create_visit(&mut self, narrative: &str) -> Mutation {
        self.seq += 1;
        let mut fields = crate::store_fixture::whole_record(&Entity::Visit);
        fields.insert("narrative".into(), json!(narrative));
        fields.insert("created_by".into(), json!(self.officer));
        fields.insert("team_id".into(), json!(self.team));
        fields.insert("marking".into(), json!(Marking::Official));
        let record_id = Uuid::now_v7();
        self.event(AuditOperation::Collect, record_id);
        Mutation {
            reason: None,
            seq: self.seq,
            entity: Entity::Visit,
            record_id,
            kind: MutationKind::Create,
            team_id: self.team,
            marking: Marking::Official,
            base: fields.keys().map(|k| (k.clone(), None)).collect(),
            fields,
            sets: Default::default(),
            version: Version {
                hlc: Hlc {
                    millis: pocketbook_protocol::unix_millis(Utc::now()),
                    counter: u32::try_from(self.seq).expect("small"),
                },
                node: self.device,
            },
            versions: None,
            conflicts: None,
        }
    }

    /// Appends an audit event about `record_id` to this device's chain.
    pub fn event(&mut self, operation: AuditOperation, record_id: Uuid) -> AuditEvent {
        let prev = self
            .audit
            .last()
            .map_or(GENESIS_HASH.to_string(), |e| e.hash.clone());
        let mut e = AuditEvent {
            seq: self.audit.len() as u64 + 1,
            operation,
            officer_id: self.officer,
            device_id: self.device,
            at: Utc::now(),
            entity: Some(Entity::Visit),
            record_id: Some(record_id),
            justification: None,
            recipient: None,
            prev_hash: prev,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        self.audit.push(e.clone());
        e
    }

    /// Pushes `mutations` and `audit` naming `acked`; the status and JSON body.
    pub async fn push(
        &self,
        mutations: &[Mutation],
        audit: &[AuditEvent],
        acked: Option<AckedPosition>,
    ) -> (StatusCode, Value) {
        let request = PushRequest {
            mutations: mutations.to_vec(),
            audit: audit.to_vec(),
            resolved: vec![],
            epoch: None,
            acked,
            refused: Vec::new(),
        };
        let resp = self
            .http
            .post(format!("{}/v1/sync/push", self.url))
            .header(PROTOCOL_HEADER, "1")
            .bearer_auth(&self.token)
            .json(&request)
            .send()
            .await
            .expect("push");
        let status = resp.status();
        (status, resp.json().await.expect("every answer is JSON"))
    }
}
