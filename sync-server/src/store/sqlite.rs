//! The embedded SQLite backend of [`Store`]: one file, WAL, one writer. Each operation runs on
//! the blocking pool inside one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use pocketbook_protocol::audit::verify_chain;
use pocketbook_protocol::merge::{merge, Conflict, MergeKind, RecordState, CONCERN_ACCOUNT_FIELDS};
use pocketbook_protocol::wire::{
    PullEntry, PullRequest, PullResponse, PushOutcome, PushRequest, PushResponse, PushResult,
};
use pocketbook_protocol::{
    Entity, Establishment, Marking, Mutation, MutationKind, Officer, Provisioning, Role, Team,
    GENESIS_HASH,
};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{Device, DeviceInfo, Enrolment, QuarantineEntry, Store, TokenCheck};
use crate::error::StoreError;
use crate::scope;

/// Enrolment attempts allowed per client per minute.
const ENROL_ATTEMPTS_PER_MINUTE: i64 = 10;
/// Largest pull page.
const MAX_PAGE: u32 = 2_000;
/// Default pull page.
const DEFAULT_PAGE: u32 = 500;

const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO counters VALUES ('change', 0);
    CREATE TABLE teams (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
    CREATE TABLE officers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE establishments (urn TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
    CREATE TABLE enrol_codes (
        code_hash  TEXT PRIMARY KEY,
        officer_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
    );
    CREATE TABLE enrol_attempts (client TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE INDEX enrol_attempts_by_client ON enrol_attempts (client, at);
    CREATE TABLE devices (
        device_id    TEXT PRIMARY KEY,
        officer_id   TEXT NOT NULL,
        name         TEXT NOT NULL,
        token_hash   TEXT NOT NULL UNIQUE,
        enrolled_at  TEXT NOT NULL,
        last_sync_at TEXT,
        revoked_at   TEXT,
        high_water   INTEGER NOT NULL DEFAULT 0,
        audit_seq    INTEGER NOT NULL DEFAULT 0,
        audit_head   TEXT NOT NULL
    );
    CREATE TABLE records (
        id         TEXT PRIMARY KEY,
        entity     TEXT NOT NULL,
        team_id    TEXT NOT NULL,
        marking    TEXT NOT NULL,
        created_by TEXT NOT NULL,
        fields     TEXT NOT NULL,
        versions   TEXT NOT NULL,
        deleted    INTEGER NOT NULL
    );
    CREATE TABLE conflicts (
        id        TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        data      TEXT NOT NULL,
        resolved  INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conflicts_by_record ON conflicts (record_id);
    CREATE TABLE bucket_entries (
        bucket TEXT NOT NULL,
        item   TEXT NOT NULL,
        kind   TEXT NOT NULL,
        entity TEXT NOT NULL,
        seq    INTEGER NOT NULL,
        PRIMARY KEY (bucket, item)
    );
    CREATE INDEX bucket_entries_by_seq ON bucket_entries (bucket, seq);
    CREATE TABLE quarantine (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        device_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        code      TEXT NOT NULL,
        mutation  TEXT NOT NULL
    );
    CREATE TABLE device_audit (
        device_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        event     TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
    );
    CREATE TABLE audit (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        operation TEXT NOT NULL,
        officer_id TEXT,
        device_id TEXT,
        detail    TEXT NOT NULL
    );
"#];

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn corrupt(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |_| StoreError::Corrupt(what)
}

fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt("id"))
}

fn now_text() -> String {
    Utc::now().to_rfc3339()
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl SqliteStore {
    /// Opens (creating and migrating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let found = found as usize;
        if found > MIGRATIONS.len() {
            return Err(StoreError::Invalid(
                "the database was made by a newer server".into(),
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as u32)?;
            tx.commit()?;
        }
        let tx = conn.transaction()?;
        for key in ["server_id", "epoch"] {
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                params![key, Uuid::now_v7().to_string()],
            )?;
        }
        tx.commit()?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(|_| StoreError::Task)?
    }
}

fn meta(tx: &Transaction<'_>, key: &str) -> Result<String, StoreError> {
    Ok(tx.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))?)
}

fn next_seq(tx: &Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx.query_row(
        "UPDATE counters SET value = value + 1 WHERE name = 'change' RETURNING value",
        [],
        |r| r.get(0),
    )?)
}

fn audit(
    tx: &Transaction<'_>,
    operation: &str,
    officer: Option<Uuid>,
    device: Option<Uuid>,
    detail: Value,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit (at, operation, officer_id, device_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        now_text(),
        operation,
        officer.map(|o| o.to_string()),
        device.map(|d| d.to_string()),
        detail.to_string()
    ])?;
    Ok(())
}

fn officer(tx: &Transaction<'_>, id: Uuid) -> Result<Option<Officer>, StoreError> {
    let data: Option<String> = tx
        .query_row(
            "SELECT data FROM officers WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    data.map(|d| serde_json::from_str(&d).map_err(corrupt("officer")))
        .transpose()
}

fn all_json<T: serde::de::DeserializeOwned>(
    tx: &Transaction<'_>,
    sql: &str,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = tx.prepare(sql)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| serde_json::from_str(&r?).map_err(corrupt(what)))
        .collect()
}

fn team_ids(tx: &Transaction<'_>) -> Result<Vec<Uuid>, StoreError> {
    let mut stmt = tx.prepare("SELECT id FROM teams ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| parse_id(&r?)).collect()
}

fn provisioning_for(tx: &Transaction<'_>, me: &Officer) -> Result<Provisioning, StoreError> {
    let all_teams: Vec<Team> = {
        let mut stmt = tx.prepare("SELECT id, name FROM teams ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (id, name) = r?;
            Ok(Team {
                id: parse_id(&id)?,
                name,
            })
        })
        .collect::<Result<_, StoreError>>()?
    };
    let visible: BTreeSet<Uuid> = if scope::force_wide(me.role) {
        all_teams.iter().map(|t| t.id).collect()
    } else {
        me.team_ids.iter().copied().collect()
    };
    let officers: Vec<Officer> = all_json::<Officer>(tx, "SELECT data FROM officers", "officer")?
        .into_iter()
        .filter(|o| o.team_ids.iter().any(|t| visible.contains(t)))
        .map(|mut o| {
            o.team_ids.retain(|t| visible.contains(t));
            o
        })
        .collect();
    let mut establishments: Vec<Establishment> = all_json(
        tx,
        "SELECT data FROM establishments ORDER BY urn",
        "establishment",
    )?;
    establishments.retain(|e| !e.closed);
    Ok(Provisioning {
        officer: me.clone(),
        teams: all_teams
            .into_iter()
            .filter(|t| visible.contains(&t.id))
            .collect(),
        officers,
        establishments,
    })
}

/// A stored record's routing and state.
struct Current {
    entity: Entity,
    team_id: Uuid,
    marking: Marking,
    created_by: Uuid,
    state: RecordState,
}

fn load_record(tx: &Transaction<'_>, id: Uuid) -> Result<Option<Current>, StoreError> {
    let row = tx
        .prepare_cached(
            "SELECT entity, team_id, marking, created_by, fields, versions, deleted
             FROM records WHERE id = ?1",
        )?
        .query_row([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, bool>(6)?,
            ))
        })
        .optional()?;
    let Some((entity, team, marking, created_by, fields, versions, deleted)) = row else {
        return Ok(None);
    };
    Ok(Some(Current {
        entity: entity.parse().map_err(|_| StoreError::Corrupt("entity"))?,
        team_id: parse_id(&team)?,
        marking: marking
            .parse()
            .map_err(|_| StoreError::Corrupt("marking"))?,
        created_by: parse_id(&created_by)?,
        state: RecordState {
            fields: serde_json::from_str(&fields).map_err(corrupt("record"))?,
            versions: serde_json::from_str(&versions).map_err(corrupt("versions"))?,
            deleted,
        },
    }))
}

fn put_entry(
    tx: &Transaction<'_>,
    bucket: &str,
    item: &str,
    kind: &str,
    entity: Entity,
    seq: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO bucket_entries (bucket, item, kind, entity, seq) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (bucket, item) DO UPDATE SET kind = excluded.kind, seq = excluded.seq",
    )?
    .execute(params![bucket, item, kind, entity.as_str(), seq])?;
    Ok(())
}

fn rejected(code: &str, message: &str) -> PushOutcome {
    PushOutcome::Rejected {
        code: code.to_string(),
        message: message.to_string(),
    }
}

/// Applies one mutation the device has not sent before.
fn apply_one(
    tx: &Transaction<'_>,
    device: &Device,
    m: &Mutation,
) -> Result<PushOutcome, StoreError> {
    let me = &device.officer;
    let current = load_record(tx, m.record_id)?;
    if let Some(cur) = &current {
        if cur.entity != m.entity {
            return Ok(rejected(
                "invalid_record",
                "the record id belongs to another kind of record",
            ));
        }
        if !scope::may_alter(me, cur.team_id, cur.marking, cur.created_by) {
            return Ok(rejected(
                "forbidden",
                "the officer may not change this record",
            ));
        }
        if m.entity == Entity::Concern
            && m.kind != MutationKind::Delete
            && m.fields
                .keys()
                .any(|f| CONCERN_ACCOUNT_FIELDS.contains(&f.as_str()))
        {
            return Ok(rejected(
                "account_immutable",
                "a concern's account cannot change after submission; add an addendum",
            ));
        }
    } else {
        if m.kind != MutationKind::Create {
            return Ok(rejected(
                "unknown_record",
                "the record does not exist on the server",
            ));
        }
        if m.fields.get("created_by").and_then(Value::as_str) != Some(me.id.to_string().as_str()) {
            return Ok(rejected(
                "forbidden",
                "a record must be created by its own officer",
            ));
        }
    }
    if !scope::may_write(me, m.team_id) {
        return Ok(rejected(
            "forbidden_bucket",
            "the officer may not write into that team",
        ));
    }
    if m.kind != MutationKind::Delete && m.fields.is_empty() {
        return Ok(rejected(
            "invalid_record",
            "a change must carry at least one field",
        ));
    }
    let result = merge(current.as_ref().map(|c| &c.state), m);
    let field_uuid = |name: &str| {
        result
            .state
            .fields
            .get(name)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    let team_id = field_uuid("team_id").unwrap_or(m.team_id);
    if !scope::may_write(me, team_id) {
        return Ok(rejected(
            "forbidden_bucket",
            "the officer may not write into that team",
        ));
    }
    let marking = result
        .state
        .fields
        .get("marking")
        .and_then(|v| serde_json::from_value::<Marking>(v.clone()).ok())
        .unwrap_or(m.marking);
    let created_by = current
        .as_ref()
        .map(|c| c.created_by)
        .or_else(|| field_uuid("created_by"))
        .unwrap_or(me.id);
    tx.prepare_cached(
        "INSERT INTO records (id, entity, team_id, marking, created_by, fields, versions, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id, marking = excluded.marking,
             fields = excluded.fields, versions = excluded.versions, deleted = excluded.deleted",
    )?
    .execute(params![
        m.record_id.to_string(),
        m.entity.as_str(),
        team_id.to_string(),
        marking.as_str(),
        created_by.to_string(),
        Value::Object(result.state.fields.clone()).to_string(),
        serde_json::to_string(&result.state.versions).map_err(corrupt("versions"))?,
        result.state.deleted
    ])?;
    let seq = next_seq(tx)?;
    let id = m.record_id.to_string();
    let buckets = scope::buckets_of_record(team_id, marking, created_by);
    let old: Vec<String> = {
        let mut stmt = tx.prepare_cached(
            "SELECT bucket FROM bucket_entries WHERE item = ?1 AND kind = 'snapshot'",
        )?;
        let rows = stmt.query_map([&id], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for b in old.iter().filter(|b| !buckets.contains(b)) {
        put_entry(tx, b, &id, "remove", m.entity, seq)?;
    }
    for b in &buckets {
        put_entry(tx, b, &id, "snapshot", m.entity, seq)?;
    }
    let mut conflict_ids = Vec::new();
    for c in &result.conflicts {
        tx.prepare_cached(
            "INSERT OR IGNORE INTO conflicts (id, record_id, data) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            c.id,
            id,
            serde_json::to_string(c).map_err(corrupt("conflict"))?
        ])?;
        for b in &buckets {
            put_entry(tx, b, &c.id, "conflict", m.entity, seq)?;
        }
        conflict_ids.push(c.id.clone());
    }
    if result.erase_conflicts {
        let ids: Vec<String> = {
            let mut stmt = tx
                .prepare_cached("SELECT id FROM conflicts WHERE record_id = ?1 AND resolved = 0")?;
            let rows = stmt.query_map([&id], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        tx.execute(
            "UPDATE conflicts SET resolved = 1 WHERE record_id = ?1",
            [&id],
        )?;
        for cid in ids {
            for b in &buckets {
                put_entry(tx, b, &cid, "conflict", m.entity, seq)?;
            }
        }
    }
    let operation = match m.kind {
        MutationKind::Create => "collect",
        MutationKind::Update => "alter",
        MutationKind::Delete => "erase",
    };
    audit(
        tx,
        operation,
        Some(me.id),
        Some(device.device_id),
        json!({ "entity": m.entity, "record_id": m.record_id, "seq": m.seq }),
    )?;
    Ok(match result.kind {
        MergeKind::Applied if conflict_ids.is_empty() => PushOutcome::Applied,
        _ => PushOutcome::Merged {
            conflicts: conflict_ids,
        },
    })
}

fn push(
    tx: &Transaction<'_>,
    device: &Device,
    request: &PushRequest,
) -> Result<Result<PushResponse, String>, StoreError> {
    let (mut high_water, audit_seq, audit_head): (i64, i64, String) = tx.query_row(
        "SELECT high_water, audit_seq, audit_head FROM devices WHERE device_id = ?1",
        [device.device_id.to_string()],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if request.mutations.windows(2).any(|w| w[0].seq >= w[1].seq) {
        return Ok(Err("mutations must be in ascending sequence order".into()));
    }
    let fresh: Vec<_> = request
        .audit
        .iter()
        .filter(|e| e.seq as i64 > audit_seq)
        .collect();
    if fresh.iter().any(|e| e.device_id != device.device_id) {
        return Ok(Err("audit events belong to another device".into()));
    }
    let (last_seq, last_hash) =
        match verify_chain(fresh.iter().copied(), audit_seq as u64, &audit_head) {
            Ok(v) => v,
            Err(e) => {
                audit(
                    tx,
                    "refuse",
                    Some(device.officer.id),
                    Some(device.device_id),
                    json!({ "reason": "audit_chain_broken", "at_seq": e.seq }),
                )?;
                return Ok(Err(format!("audit chain does not verify: {e}")));
            }
        };
    for e in &fresh {
        tx.prepare_cached("INSERT INTO device_audit (device_id, seq, event) VALUES (?1, ?2, ?3)")?
            .execute(params![
                device.device_id.to_string(),
                e.seq as i64,
                serde_json::to_string(e).map_err(corrupt("audit event"))?
            ])?;
    }
    let mut results = Vec::with_capacity(request.mutations.len());
    for m in &request.mutations {
        let seq = m.seq as i64;
        if seq <= high_water {
            results.push(PushResult {
                seq: m.seq,
                outcome: PushOutcome::Applied,
            });
            continue;
        }
        let outcome = apply_one(tx, device, m)?;
        if let PushOutcome::Rejected { code, .. } = &outcome {
            tx.prepare_cached(
                "INSERT INTO quarantine (at, device_id, seq, code, mutation) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                now_text(),
                device.device_id.to_string(),
                seq,
                code,
                serde_json::to_string(m).map_err(corrupt("mutation"))?
            ])?;
            audit(
                tx,
                "refuse",
                Some(device.officer.id),
                Some(device.device_id),
                json!({ "entity": m.entity, "record_id": m.record_id, "seq": m.seq, "code": code }),
            )?;
        }
        results.push(PushResult {
            seq: m.seq,
            outcome,
        });
        high_water = seq;
    }
    let mut resolved = Vec::new();
    for id in request.resolved.iter().take(10_000) {
        if let Some(record_id) = conflict_record(tx, id)? {
            let visible = load_record(tx, record_id)?.is_some_and(|cur| {
                scope::may_alter(&device.officer, cur.team_id, cur.marking, cur.created_by)
            });
            if visible {
                mark_conflict_resolved(tx, id, Some(device))?;
            }
        }
        resolved.push(id.clone());
    }
    tx.execute(
        "UPDATE devices SET high_water = ?2, audit_seq = ?3, audit_head = ?4, last_sync_at = ?5
         WHERE device_id = ?1",
        params![
            device.device_id.to_string(),
            high_water,
            last_seq as i64,
            last_hash,
            now_text()
        ],
    )?;
    Ok(Ok(PushResponse {
        results,
        acked_seq: high_water as u64,
        audit_acked_seq: last_seq,
        server_time_ms: now_ms() as u64,
        resolved,
    }))
}

/// The record a conflict belongs to.
fn conflict_record(tx: &Transaction<'_>, id: &str) -> Result<Option<Uuid>, StoreError> {
    let record: Option<String> = tx
        .prepare_cached("SELECT record_id FROM conflicts WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    record.map(|r| parse_id(&r)).transpose()
}

/// Marks an open conflict resolved and tells every bucket of its record. False if it was not
/// open.
fn mark_conflict_resolved(
    tx: &Transaction<'_>,
    id: &str,
    by: Option<&Device>,
) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE conflicts SET resolved = 1 WHERE id = ?1 AND resolved = 0",
        [id],
    )?;
    if n == 0 {
        return Ok(false);
    }
    let Some(record_id) = conflict_record(tx, id)? else {
        return Ok(false);
    };
    if let Some(cur) = load_record(tx, record_id)? {
        let seq = next_seq(tx)?;
        for b in scope::buckets_of_record(cur.team_id, cur.marking, cur.created_by) {
            put_entry(tx, &b, id, "conflict", cur.entity, seq)?;
        }
    }
    audit(
        tx,
        "resolve_conflict",
        by.map(|d| d.officer.id),
        by.map(|d| d.device_id),
        json!({ "conflict_id": id, "record_id": record_id }),
    )?;
    Ok(true)
}

fn pull_entry(
    tx: &Transaction<'_>,
    bucket: &str,
    item: &str,
    kind: &str,
    entity: Entity,
) -> Result<Option<PullEntry>, StoreError> {
    match kind {
        "remove" => Ok(Some(PullEntry::Remove {
            bucket: bucket.to_string(),
            entity,
            id: parse_id(item)?,
        })),
        "conflict" => {
            let row: Option<(String, bool)> = tx
                .prepare_cached("SELECT data, resolved FROM conflicts WHERE id = ?1")?
                .query_row([item], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(row
                .map(|(data, resolved)| {
                    Ok::<_, StoreError>(PullEntry::Conflict {
                        bucket: bucket.to_string(),
                        conflict: serde_json::from_str(&data).map_err(corrupt("conflict"))?,
                        resolved,
                    })
                })
                .transpose()?)
        }
        _ => {
            let id = parse_id(item)?;
            Ok(load_record(tx, id)?.map(|cur| PullEntry::Snapshot {
                bucket: bucket.to_string(),
                entity: cur.entity,
                id,
                fields: cur.state.fields,
                versions: cur.state.versions,
                deleted: cur.state.deleted,
            }))
        }
    }
}

fn pull(
    tx: &Transaction<'_>,
    device: &Device,
    request: &PullRequest,
) -> Result<PullResponse, StoreError> {
    let epoch = meta(tx, "epoch")?;
    let buckets = scope::buckets_of(&device.officer, &team_ids(tx)?);
    let same_epoch = request.epoch.as_deref() == Some(epoch.as_str());
    let mut budget = request.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as i64;
    let mut entries = Vec::new();
    let mut cursors = BTreeMap::new();
    let mut remaining = 0u64;
    let mut sent: Vec<String> = Vec::new();
    for bucket in &buckets {
        let mut cursor = if same_epoch {
            request.cursors.get(bucket).copied().unwrap_or(0) as i64
        } else {
            0
        };
        if budget > 0 {
            let mut stmt = tx.prepare_cached(
                "SELECT item, kind, entity, seq FROM bucket_entries
                 WHERE bucket = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows: Vec<(String, String, String, i64)> = stmt
                .query_map(params![bucket, cursor, budget], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<_, _>>()?;
            for (item, kind, entity, seq) in rows {
                let entity: Entity = entity.parse().map_err(|_| StoreError::Corrupt("entity"))?;
                if let Some(entry) = pull_entry(tx, bucket, &item, &kind, entity)? {
                    if kind == "snapshot" {
                        sent.push(item.clone());
                    }
                    entries.push(entry);
                }
                cursor = seq;
                budget -= 1;
            }
        }
        let left: i64 = tx
            .prepare_cached("SELECT count(*) FROM bucket_entries WHERE bucket = ?1 AND seq > ?2")?
            .query_row(params![bucket, cursor], |r| r.get(0))?;
        remaining += left as u64;
        cursors.insert(bucket.clone(), cursor as u64);
    }
    if !sent.is_empty() {
        audit(
            tx,
            "disclose",
            Some(device.officer.id),
            Some(device.device_id),
            json!({ "records": sent }),
        )?;
    }
    tx.execute(
        "UPDATE devices SET last_sync_at = ?2 WHERE device_id = ?1",
        params![device.device_id.to_string(), now_text()],
    )?;
    let reference = if request.reference {
        Some(provisioning_for(tx, &device.officer)?)
    } else {
        None
    };
    Ok(PullResponse {
        epoch,
        buckets,
        entries,
        cursors,
        remaining,
        reference,
    })
}

impl Store for SqliteStore {
    async fn identity(&self) -> Result<(Uuid, String), StoreError> {
        self.run(|tx| Ok((parse_id(&meta(tx, "server_id")?)?, meta(tx, "epoch")?)))
            .await
    }

    async fn enroll(
        &self,
        code_hash: String,
        device_id: Uuid,
        device_name: String,
        token_hash: String,
        client: String,
    ) -> Result<Enrolment, StoreError> {
        // The rate limit must count even failed attempts, so it commits on its own first.
        let limited = {
            let client = client.clone();
            self.run(move |tx| {
                let now = now_ms();
                tx.execute("DELETE FROM enrol_attempts WHERE at < ?1", [now - 60_000])?;
                let recent: i64 = tx.query_row(
                    "SELECT count(*) FROM enrol_attempts WHERE client = ?1",
                    [&client],
                    |r| r.get(0),
                )?;
                tx.execute(
                    "INSERT INTO enrol_attempts (client, at) VALUES (?1, ?2)",
                    params![client, now],
                )?;
                Ok(recent >= ENROL_ATTEMPTS_PER_MINUTE)
            })
            .await?
        };
        if limited {
            return Ok(Enrolment::RateLimited);
        }
        self.run(move |tx| {
            let row: Option<(String, i64, Option<i64>)> = tx
                .query_row(
                    "SELECT officer_id, expires_at, used_at FROM enrol_codes WHERE code_hash = ?1",
                    [&code_hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let officer_id = match row {
                Some((officer_id, expires, None)) if expires > now_ms() => parse_id(&officer_id)?,
                _ => {
                    audit(tx, "enrol_refused", None, Some(device_id), json!({}))?;
                    return Ok(Enrolment::BadCode);
                }
            };
            let Some(me) = officer(tx, officer_id)? else {
                return Ok(Enrolment::BadCode);
            };
            tx.execute("UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1", params![code_hash, now_ms()])?;
            tx.execute(
                "INSERT INTO devices (device_id, officer_id, name, token_hash, enrolled_at, audit_head)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (device_id) DO UPDATE SET officer_id = excluded.officer_id,
                     name = excluded.name, token_hash = excluded.token_hash,
                     enrolled_at = excluded.enrolled_at",
                params![device_id.to_string(), officer_id.to_string(), device_name, token_hash, now_text(), GENESIS_HASH],
            )?;
            audit(tx, "enrol", Some(officer_id), Some(device_id), json!({}))?;
            Ok(Enrolment::Enrolled(provisioning_for(tx, &me)?))
        })
        .await
    }

    async fn check_token(&self, token_hash: String) -> Result<TokenCheck, StoreError> {
        self.run(move |tx| {
            let row: Option<(String, String, Option<String>)> = tx
                .prepare_cached(
                    "SELECT device_id, officer_id, revoked_at FROM devices WHERE token_hash = ?1",
                )?
                .query_row([&token_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let Some((device_id, officer_id, revoked)) = row else {
                return Ok(TokenCheck::Unknown);
            };
            if revoked.is_some() {
                return Ok(TokenCheck::Revoked);
            }
            let Some(officer) = officer(tx, parse_id(&officer_id)?)? else {
                return Ok(TokenCheck::Unknown);
            };
            Ok(TokenCheck::Valid(Device {
                device_id: parse_id(&device_id)?,
                officer,
            }))
        })
        .await
    }

    async fn push(
        &self,
        device: Device,
        request: PushRequest,
    ) -> Result<Result<PushResponse, String>, StoreError> {
        self.run(move |tx| push(tx, &device, &request)).await
    }

    async fn pull(&self, device: Device, request: PullRequest) -> Result<PullResponse, StoreError> {
        self.run(move |tx| pull(tx, &device, &request)).await
    }

    async fn add_team(&self, name: String) -> Result<Team, StoreError> {
        self.run(move |tx| {
            let team = Team {
                id: Uuid::now_v7(),
                name,
            };
            tx.execute(
                "INSERT INTO teams (id, name) VALUES (?1, ?2)",
                params![team.id.to_string(), team.name],
            )
            .map_err(|_| StoreError::Invalid("a team with that name exists".into()))?;
            audit(
                tx,
                "admin_add_team",
                None,
                None,
                json!({ "team_id": team.id }),
            )?;
            Ok(team)
        })
        .await
    }

    async fn teams(&self) -> Result<Vec<Team>, StoreError> {
        self.run(|tx| {
            let mut stmt = tx.prepare("SELECT id, name FROM teams ORDER BY name")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            rows.map(|r| {
                let (id, name) = r?;
                Ok(Team {
                    id: parse_id(&id)?,
                    name,
                })
            })
            .collect()
        })
        .await
    }

    async fn add_officer(
        &self,
        name: String,
        shoulder_number: String,
        role: Role,
        team_ids: Vec<Uuid>,
    ) -> Result<Officer, StoreError> {
        self.run(move |tx| {
            let known = self::team_ids(tx)?;
            if team_ids.iter().any(|t| !known.contains(t)) {
                return Err(StoreError::Invalid("unknown team".into()));
            }
            let o = Officer {
                id: Uuid::now_v7(),
                name,
                shoulder_number,
                role,
                team_ids,
            };
            tx.execute(
                "INSERT INTO officers (id, data) VALUES (?1, ?2)",
                params![
                    o.id.to_string(),
                    serde_json::to_string(&o).map_err(corrupt("officer"))?
                ],
            )?;
            audit(
                tx,
                "admin_add_officer",
                None,
                None,
                json!({ "officer_id": o.id }),
            )?;
            Ok(o)
        })
        .await
    }

    async fn update_officer(&self, o: Officer) -> Result<(), StoreError> {
        self.run(move |tx| {
            let known = self::team_ids(tx)?;
            if o.team_ids.iter().any(|t| !known.contains(t)) {
                return Err(StoreError::Invalid("unknown team".into()));
            }
            let n = tx.execute(
                "UPDATE officers SET data = ?2 WHERE id = ?1",
                params![
                    o.id.to_string(),
                    serde_json::to_string(&o).map_err(corrupt("officer"))?
                ],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid("unknown officer".into()));
            }
            audit(
                tx,
                "admin_update_officer",
                None,
                None,
                json!({ "officer_id": o.id }),
            )?;
            Ok(())
        })
        .await
    }

    async fn officers(&self) -> Result<Vec<Officer>, StoreError> {
        self.run(|tx| all_json(tx, "SELECT data FROM officers", "officer"))
            .await
    }

    async fn put_establishments(
        &self,
        list: Vec<Establishment>,
    ) -> Result<(usize, usize), StoreError> {
        self.run(move |tx| {
            let (mut added, mut updated) = (0, 0);
            for mut e in list {
                let existing: Option<String> = tx
                    .query_row(
                        "SELECT id FROM establishments WHERE urn = ?1",
                        [&e.urn],
                        |r| r.get(0),
                    )
                    .optional()?;
                match existing {
                    Some(id) => {
                        e.id = parse_id(&id)?;
                        updated += 1;
                    }
                    None => added += 1,
                }
                tx.execute(
                    "INSERT INTO establishments (urn, id, data) VALUES (?1, ?2, ?3)
                     ON CONFLICT (urn) DO UPDATE SET data = excluded.data",
                    params![
                        e.urn,
                        e.id.to_string(),
                        serde_json::to_string(&e).map_err(corrupt("establishment"))?
                    ],
                )?;
            }
            audit(
                tx,
                "admin_put_establishments",
                None,
                None,
                json!({ "added": added, "updated": updated }),
            )?;
            Ok((added, updated))
        })
        .await
    }

    async fn establishments(&self) -> Result<Vec<Establishment>, StoreError> {
        self.run(|tx| {
            all_json(
                tx,
                "SELECT data FROM establishments ORDER BY urn",
                "establishment",
            )
        })
        .await
    }

    async fn add_code(
        &self,
        officer_id: Uuid,
        code_hash: String,
        ttl_seconds: i64,
    ) -> Result<(), StoreError> {
        self.run(move |tx| {
            if officer(tx, officer_id)?.is_none() {
                return Err(StoreError::Invalid("unknown officer".into()));
            }
            tx.execute(
                "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES (?1, ?2, ?3)",
                params![
                    code_hash,
                    officer_id.to_string(),
                    now_ms() + ttl_seconds * 1000
                ],
            )?;
            audit(tx, "admin_issue_code", Some(officer_id), None, json!({}))?;
            Ok(())
        })
        .await
    }

    async fn devices(&self) -> Result<Vec<DeviceInfo>, StoreError> {
        self.run(|tx| {
            let mut stmt = tx.prepare(
                "SELECT device_id, name, officer_id, enrolled_at, last_sync_at, revoked_at
                 FROM devices ORDER BY enrolled_at",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?;
            rows.map(|r| {
                let (id, name, officer, enrolled_at, last_sync_at, revoked_at) = r?;
                Ok(DeviceInfo {
                    device_id: parse_id(&id)?,
                    name,
                    officer_id: parse_id(&officer)?,
                    enrolled_at,
                    last_sync_at,
                    revoked_at,
                })
            })
            .collect()
        })
        .await
    }

    async fn revoke(&self, device_id: Uuid) -> Result<bool, StoreError> {
        self.run(move |tx| {
            let n = tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                params![device_id.to_string(), now_text()],
            )?;
            if n > 0 {
                audit(tx, "admin_revoke", None, Some(device_id), json!({}))?;
            }
            Ok(n > 0)
        })
        .await
    }

    async fn conflicts(&self, all: bool) -> Result<Vec<(Conflict, bool)>, StoreError> {
        self.run(move |tx| {
            let mut stmt = tx.prepare(
                "SELECT data, resolved FROM conflicts WHERE ?1 OR resolved = 0 ORDER BY id",
            )?;
            let rows = stmt.query_map([all], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
            })?;
            rows.map(|r| {
                let (data, resolved) = r?;
                Ok((
                    serde_json::from_str(&data).map_err(corrupt("conflict"))?,
                    resolved,
                ))
            })
            .collect()
        })
        .await
    }

    async fn resolve_conflict(&self, id: String) -> Result<bool, StoreError> {
        self.run(move |tx| mark_conflict_resolved(tx, &id, None))
            .await
    }

    async fn quarantine(&self) -> Result<Vec<QuarantineEntry>, StoreError> {
        self.run(|tx| {
            let mut stmt = tx
                .prepare("SELECT at, device_id, seq, code, mutation FROM quarantine ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            rows.map(|r| {
                let (at, device, seq, code, mutation) = r?;
                Ok(QuarantineEntry {
                    at,
                    device_id: parse_id(&device)?,
                    seq: seq as u64,
                    code,
                    mutation: serde_json::from_str(&mutation).map_err(corrupt("mutation"))?,
                })
            })
            .collect()
        })
        .await
    }

    async fn audit_lines(&self) -> Result<Vec<String>, StoreError> {
        self.run(|tx| {
            let mut stmt = tx.prepare("SELECT at, operation, officer_id, device_id, detail FROM audit ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, Option<String>>(3)?, r.get::<_, String>(4)?))
            })?;
            rows.map(|r| {
                let (at, operation, officer, device, detail) = r?;
                let detail: Value = serde_json::from_str(&detail).map_err(corrupt("audit"))?;
                Ok(json!({ "at": at, "operation": operation, "officer_id": officer, "device_id": device, "detail": detail }).to_string())
            })
            .collect()
        })
        .await
    }
}
