//! Push, pull and conflict resolution (DESIGN §5), written once over [`Db`] so every backend
//! applies the same rules: scope checks, the merge from `pocketbook-protocol`, bucket entries
//! numbered by [`Db::next_seq`], quarantine and audit. Each function runs inside the caller's
//! transaction.

use std::collections::BTreeMap;

use pocketbook_protocol::audit::verify_chain;
use pocketbook_protocol::merge::{merge, MergeKind, RecordState, CONCERN_ACCOUNT_FIELDS};
use pocketbook_protocol::wire::{
    PullEntry, PullEntryKind, PullRequest, PullResponse, PushOutcome, PushRequest, PushResponse,
    PushResult,
};
use pocketbook_protocol::{Entity, Marking, Mutation, MutationKind, RejectCode};
use serde_json::{json, Value};
use uuid::Uuid;

use super::shared::{audit, corrupt, meta, now_ms, now_text, parse_id, provisioning_for, team_ids};
use super::sql::{args, Db};
use super::Device;
use crate::error::StoreError;
use crate::scope;

/// Largest pull page.
const MAX_PAGE: u32 = 2_000;
/// Default pull page.
const DEFAULT_PAGE: u32 = 500;
/// Most conflict resolutions taken from one push.
const MAX_RESOLVED: usize = 10_000;

/// A stored record's routing and state.
pub struct Current {
    /// Its kind.
    pub entity: Entity,
    /// Its team.
    pub team_id: Uuid,
    /// Its marking.
    pub marking: Marking,
    /// Its author.
    pub created_by: Uuid,
    /// Its fields, versions and deletion.
    pub state: RecordState,
}

/// One record as stored.
pub fn load_record(db: &mut dyn Db, id: Uuid) -> Result<Option<Current>, StoreError> {
    let Some(row) = db.query_opt(
        "SELECT entity, team_id, marking, created_by, fields, versions, deleted
         FROM records WHERE id = ?1",
        args![id.to_string()],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Current {
        entity: Entity::from_wire(&row.text(0)?),
        team_id: parse_id(&row.text(1)?)?,
        marking: row
            .text(2)?
            .parse()
            .map_err(|_| StoreError::Corrupt("marking"))?,
        created_by: parse_id(&row.text(3)?)?,
        state: RecordState {
            fields: serde_json::from_str(&row.text(4)?).map_err(corrupt("record"))?,
            versions: serde_json::from_str(&row.text(5)?).map_err(corrupt("versions"))?,
            deleted: row.bool(6)?,
        },
    }))
}

fn put_entry(
    db: &mut dyn Db,
    bucket: &str,
    item: &str,
    kind: PullEntryKind,
    entity: &Entity,
    seq: i64,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO bucket_entries (bucket, item, kind, entity, seq) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (bucket, item) DO UPDATE SET kind = excluded.kind, seq = excluded.seq",
        args![bucket, item, kind.as_str(), entity.as_str(), seq],
    )?;
    Ok(())
}

fn rejected(code: RejectCode, message: &str) -> PushOutcome {
    PushOutcome::Rejected {
        code,
        message: message.to_string(),
    }
}

/// Why a mutation may not be applied to `current` by this officer, if it may not.
fn refusal(device: &Device, m: &Mutation, current: Option<&Current>) -> Option<PushOutcome> {
    let me = &device.officer;
    if let Some(cur) = current {
        if cur.entity != m.entity {
            return Some(rejected(
                RejectCode::InvalidRecord,
                "the record id belongs to another kind of record",
            ));
        }
        if !scope::may_alter(me, cur.team_id, cur.marking, cur.created_by) {
            return Some(rejected(
                RejectCode::Forbidden,
                "the officer may not change this record",
            ));
        }
        if m.entity == Entity::Concern
            && m.kind != MutationKind::Delete
            && m.fields
                .keys()
                .any(|f| CONCERN_ACCOUNT_FIELDS.contains(&f.as_str()))
        {
            return Some(rejected(
                RejectCode::AccountImmutable,
                "a concern's account cannot change after submission; add an addendum",
            ));
        }
    } else {
        if m.kind != MutationKind::Create {
            return Some(rejected(
                RejectCode::UnknownRecord,
                "the record does not exist on the server",
            ));
        }
        if m.fields.get("created_by").and_then(Value::as_str) != Some(me.id.to_string().as_str()) {
            return Some(rejected(
                RejectCode::Forbidden,
                "a record must be created by its own officer",
            ));
        }
    }
    if !scope::may_write(me, m.team_id) {
        return Some(rejected(
            RejectCode::ForbiddenBucket,
            "the officer may not write into that team",
        ));
    }
    if m.kind != MutationKind::Delete && m.fields.is_empty() {
        return Some(rejected(
            RejectCode::InvalidRecord,
            "a change must carry at least one field",
        ));
    }
    None
}

/// Applies one mutation the device has not sent before.
fn apply_one(db: &mut dyn Db, device: &Device, m: &Mutation) -> Result<PushOutcome, StoreError> {
    let me = &device.officer;
    let current = load_record(db, m.record_id)?;
    if let Some(refused) = refusal(device, m, current.as_ref()) {
        return Ok(refused);
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
            RejectCode::ForbiddenBucket,
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
    db.execute(
        "INSERT INTO records (id, entity, team_id, marking, created_by, fields, versions, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id, marking = excluded.marking,
             fields = excluded.fields, versions = excluded.versions, deleted = excluded.deleted",
        args![
            m.record_id.to_string(),
            m.entity.as_str(),
            team_id.to_string(),
            marking.as_str(),
            created_by.to_string(),
            Value::Object(result.state.fields.clone()).to_string(),
            serde_json::to_string(&result.state.versions).map_err(corrupt("versions"))?,
            result.state.deleted
        ],
    )?;
    let seq = db.next_seq()?;
    let id = m.record_id.to_string();
    let buckets = scope::buckets_of_record(team_id, marking, created_by);
    let old: Vec<String> = db
        .query(
            "SELECT bucket FROM bucket_entries WHERE item = ?1 AND kind = 'snapshot'",
            args![&id],
        )?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    for b in old.iter().filter(|b| !buckets.contains(b)) {
        put_entry(db, b, &id, PullEntryKind::Remove, &m.entity, seq)?;
    }
    for b in &buckets {
        put_entry(db, b, &id, PullEntryKind::Snapshot, &m.entity, seq)?;
    }
    let mut conflict_ids = Vec::new();
    for c in &result.conflicts {
        db.execute(
            "INSERT INTO conflicts (id, record_id, data) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO NOTHING",
            args![
                &c.id,
                &id,
                serde_json::to_string(c).map_err(corrupt("conflict"))?
            ],
        )?;
        for b in &buckets {
            put_entry(db, b, &c.id, PullEntryKind::Conflict, &m.entity, seq)?;
        }
        conflict_ids.push(c.id.clone());
    }
    if result.erase_conflicts {
        let ids: Vec<String> = db
            .query(
                "SELECT id FROM conflicts WHERE record_id = ?1 AND resolved = FALSE",
                args![&id],
            )?
            .iter()
            .map(|row| row.text(0))
            .collect::<Result<_, _>>()?;
        db.execute(
            "UPDATE conflicts SET resolved = TRUE WHERE record_id = ?1",
            args![&id],
        )?;
        for cid in ids {
            for b in &buckets {
                put_entry(db, b, &cid, PullEntryKind::Conflict, &m.entity, seq)?;
            }
        }
    }
    let operation = match m.kind {
        MutationKind::Create => "collect",
        MutationKind::Update => "alter",
        MutationKind::Delete => "erase",
    };
    audit(
        db,
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

/// Applies a push: verifies and keeps the device's audit events, applies each mutation not
/// applied before (quarantining refusals), takes conflict resolutions and moves the device's
/// high-water mark. `Ok(Err(message))` refuses the whole request.
pub fn push(
    db: &mut dyn Db,
    device: &Device,
    request: &PushRequest,
) -> Result<Result<PushResponse, String>, StoreError> {
    if request.mutations.windows(2).any(|w| w[0].seq >= w[1].seq) {
        return Ok(Err("mutations must be in ascending sequence order".into()));
    }
    db.serialize_writers()?;
    let row = db.query_one(
        "SELECT high_water, audit_seq, audit_head FROM devices WHERE device_id = ?1",
        args![device.device_id.to_string()],
    )?;
    let (mut high_water, audit_seq, audit_head) = (row.int(0)?, row.int(1)?, row.text(2)?);
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
                    db,
                    "refuse",
                    Some(device.officer.id),
                    Some(device.device_id),
                    json!({ "reason": "audit_chain_broken", "at_seq": e.seq }),
                )?;
                return Ok(Err(format!("audit chain does not verify: {e}")));
            }
        };
    for e in &fresh {
        db.execute(
            "INSERT INTO device_audit (device_id, seq, event) VALUES (?1, ?2, ?3)",
            args![
                device.device_id.to_string(),
                e.seq as i64,
                serde_json::to_string(e).map_err(corrupt("audit event"))?
            ],
        )?;
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
        let outcome = apply_one(db, device, m)?;
        if let PushOutcome::Rejected { code, .. } = &outcome {
            db.execute(
                "INSERT INTO quarantine (at, device_id, seq, code, mutation) VALUES (?1, ?2, ?3, ?4, ?5)",
                args![
                    now_text(),
                    device.device_id.to_string(),
                    seq,
                    code.as_str(),
                    serde_json::to_string(m).map_err(corrupt("mutation"))?
                ],
            )?;
            audit(
                db,
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
    for id in request.resolved.iter().take(MAX_RESOLVED) {
        if let Some(record_id) = conflict_record(db, id)? {
            let visible = load_record(db, record_id)?.is_some_and(|cur| {
                scope::may_alter(&device.officer, cur.team_id, cur.marking, cur.created_by)
            });
            if visible {
                mark_conflict_resolved(db, id, Some(device))?;
            }
        }
        resolved.push(id.clone());
    }
    db.execute(
        "UPDATE devices SET high_water = ?2, audit_seq = ?3, audit_head = ?4, last_sync_at = ?5
         WHERE device_id = ?1",
        args![
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
fn conflict_record(db: &mut dyn Db, id: &str) -> Result<Option<Uuid>, StoreError> {
    db.query_opt("SELECT record_id FROM conflicts WHERE id = ?1", args![id])?
        .map(|row| parse_id(&row.text(0)?))
        .transpose()
}

/// Marks an open conflict resolved and tells every bucket of its record. False if it was not
/// open.
pub fn mark_conflict_resolved(
    db: &mut dyn Db,
    id: &str,
    by: Option<&Device>,
) -> Result<bool, StoreError> {
    db.serialize_writers()?;
    let n = db.execute(
        "UPDATE conflicts SET resolved = TRUE WHERE id = ?1 AND resolved = FALSE",
        args![id],
    )?;
    if n == 0 {
        return Ok(false);
    }
    let Some(record_id) = conflict_record(db, id)? else {
        return Ok(false);
    };
    if let Some(cur) = load_record(db, record_id)? {
        let seq = db.next_seq()?;
        for b in scope::buckets_of_record(cur.team_id, cur.marking, cur.created_by) {
            put_entry(db, &b, id, PullEntryKind::Conflict, &cur.entity, seq)?;
        }
    }
    audit(
        db,
        "resolve_conflict",
        by.map(|d| d.officer.id),
        by.map(|d| d.device_id),
        json!({ "conflict_id": id, "record_id": record_id }),
    )?;
    Ok(true)
}

/// One bucket entry as a pull entry, from a row of the page query (`None` when the record or
/// conflict it names is gone).
fn pull_entry(bucket: &str, row: &super::sql::Row) -> Result<Option<PullEntry>, StoreError> {
    let (item, kind) = (row.text(0)?, row.text(1)?);
    let entity = Entity::from_wire(&row.text(2)?);
    match PullEntryKind::from_wire(&kind) {
        PullEntryKind::Remove => Ok(Some(PullEntry::Remove {
            bucket: bucket.to_string(),
            entity,
            id: parse_id(&item)?,
        })),
        PullEntryKind::Conflict => {
            let Some(data) = row.opt_text(7)? else {
                return Ok(None);
            };
            Ok(Some(PullEntry::Conflict {
                bucket: bucket.to_string(),
                conflict: serde_json::from_str(&data).map_err(corrupt("conflict"))?,
                resolved: row.bool(8)?,
            }))
        }
        PullEntryKind::Snapshot | PullEntryKind::Unknown(_) => {
            let (Some(fields), Some(versions)) = (row.opt_text(4)?, row.opt_text(5)?) else {
                return Ok(None);
            };
            Ok(Some(PullEntry::Snapshot {
                bucket: bucket.to_string(),
                entity,
                id: parse_id(&item)?,
                fields: serde_json::from_str(&fields).map_err(corrupt("record"))?,
                versions: serde_json::from_str(&versions).map_err(corrupt("versions"))?,
                deleted: row.bool(6)?,
            }))
        }
    }
}

/// Serves one page of a pull: the entries after the device's cursor in each of its buckets, in
/// server order, and the new cursors.
pub fn pull(
    db: &mut dyn Db,
    device: &Device,
    request: &PullRequest,
) -> Result<PullResponse, StoreError> {
    let epoch = meta(db, "epoch")?;
    let all_teams = team_ids(db)?;
    let buckets = scope::buckets_of(&device.officer, &all_teams);
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
            // One query per bucket brings each entry with the record or conflict it names.
            let rows = db.query(
                "SELECT e.item, e.kind, e.entity, e.seq, r.fields, r.versions, r.deleted,
                        c.data, c.resolved
                 FROM bucket_entries e
                 LEFT JOIN records r ON e.kind = 'snapshot' AND r.id = e.item
                 LEFT JOIN conflicts c ON e.kind = 'conflict' AND c.id = e.item
                 WHERE e.bucket = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3",
                args![bucket, cursor, budget],
            )?;
            for row in rows {
                if let Some(entry) = pull_entry(bucket, &row)? {
                    if let PullEntry::Snapshot { id, .. } = &entry {
                        sent.push(id.to_string());
                    }
                    entries.push(entry);
                }
                cursor = row.int(3)?;
                budget -= 1;
            }
        }
        let left = db
            .query_one(
                "SELECT count(*) FROM bucket_entries WHERE bucket = ?1 AND seq > ?2",
                args![bucket, cursor],
            )?
            .int(0)?;
        remaining += left as u64;
        cursors.insert(bucket.clone(), cursor as u64);
    }
    if !sent.is_empty() {
        audit(
            db,
            "disclose",
            Some(device.officer.id),
            Some(device.device_id),
            json!({ "records": sent }),
        )?;
    }
    db.execute(
        "UPDATE devices SET last_sync_at = ?2 WHERE device_id = ?1",
        args![device.device_id.to_string(), now_text()],
    )?;
    let reference = if request.reference {
        Some(provisioning_for(db, &device.officer)?)
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
