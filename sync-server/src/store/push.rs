//! Applying a push (DESIGN §5), written once over [`Db`] so every backend applies the same
//! rules: the device's audit chain verified and kept, each new mutation judged by
//! [`crate::policy`], merged by `pocketbook-protocol` and written with its bucket entries
//! (numbered by [`Db::next_seq`]) and conflicts, refusals quarantined, conflict resolutions
//! taken, everything audited. Runs inside the caller's transaction.

use super::decode::{counter, db_int};
use pocketbook_protocol::audit::verify_chain;
use pocketbook_protocol::merge::{merge, rename_if_taken, Conflict, MergeKind};
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::{
    PullEntryKind, PushOutcome, PushRequest, PushResponse, PushResult,
};
use pocketbook_protocol::{Entity, Marking, Mutation, MutationKind};
use serde_json::{json, Value};
use uuid::Uuid;

use super::clock::{now_ms, now_text};
use super::conflicts::{
    conflict_loser, device_officer, erase_open_conflicts, mark_conflict_resolved,
};
use super::decode::corrupt;
use super::erase::retain_deleted;
use super::meta::audit;
use super::record_rows::{load_record, put_entry, young_person_in_use};
use super::sql::{args, Db};
use super::Device;
use super::{caps, cascade, epoch, fork, record_guard, restore_apply, restore_lost};
use crate::error::PushRefusal;
use crate::error::StoreError;
use crate::policy::{self, Held, Refusal};
use crate::validate::{self, Fault};

/// Most conflict resolutions taken from one push (the rest are not acknowledged, so the
/// device sends them next time).
const MAX_RESOLVED: usize = pocketbook_protocol::limits::MAX_RESOLVED_PER_PUSH;

fn rejected(refusal: Refusal) -> PushOutcome {
    PushOutcome::Rejected {
        code: refusal.code,
        message: refusal.message.to_string(),
    }
}

fn refused(fault: Fault) -> PushOutcome {
    PushOutcome::Rejected {
        code: fault.code,
        message: fault.message,
    }
}

/// Why an addendum or action may not name the concern it names: one the officer may not
/// change (another team's, or a sensitive one they cannot see). Checked before the write,
/// since the record then takes that concern's team and marking (`cascade::after_write`).
fn foreign_parent(
    db: &mut dyn Db,
    me: &pocketbook_protocol::Officer,
    m: &Mutation,
) -> Result<Option<Refusal>, StoreError> {
    if !matches!(m.entity, Entity::Addendum | Entity::Action) {
        return Ok(None);
    }
    let Some(parent) = m
        .fields
        .get("concern_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
    else {
        return Ok(None);
    };
    Ok(match load_record(db, parent)? {
        Some(concern) if !policy::may_alter(me, &concern.facts) => Some(Refusal {
            code: pocketbook_protocol::RejectCode::Forbidden,
            message: "the concern named is not one the officer may change",
        }),
        _ => None,
    })
}

/// Applies one mutation the device has not sent before.
fn apply_one(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    m: &Mutation,
) -> Result<PushOutcome, StoreError> {
    let me = &device.officer;
    if super::compact::tombstoned(db, m.record_id)? {
        // Deleted and compacted: a delete changes nothing; nothing else (a restore after a
        // server restore included) may bring it back.
        let restores_a_tombstone = m.kind == MutationKind::Restore
            && m.versions
                .as_ref()
                .is_some_and(|v| v.contains_key(pocketbook_protocol::merge::DELETED_FIELD));
        return Ok(match m.kind {
            MutationKind::Delete => PushOutcome::Applied,
            _ if restores_a_tombstone => PushOutcome::Applied,
            _ => rejected(Refusal {
                code: pocketbook_protocol::RejectCode::RecordDeleted,
                message: "this record was deleted",
            }),
        });
    }
    if m.kind == MutationKind::Restore {
        return restore_apply::apply(db, sources, device, m);
    }
    if m.conflicts.is_some() || m.versions.is_some() {
        return Ok(rejected(Refusal {
            code: pocketbook_protocol::RejectCode::InvalidRecord,
            message: "only a restore carries versions or conflicts",
        }));
    }
    if let Some(fault) = record_guard::version_fault(device, m) {
        return Ok(refused(fault));
    }
    let current = load_record(db, m.record_id)?;
    let held = current.as_ref().map(|c| Held {
        facts: &c.facts,
        fields: &c.state.fields,
    });
    let in_use = m.entity == Entity::YoungPerson
        && m.kind == MutationKind::Delete
        && young_person_in_use(db, m.record_id)?;
    if let Some(refused) = policy::refusal(me, m, held, in_use) {
        return Ok(rejected(refused));
    }
    if let Some(refused) = foreign_parent(db, me, m)? {
        return Ok(rejected(refused));
    }
    let stored = current.as_ref().map(|c| &c.state);
    let now = record_guard::guard_now(sources);
    if let Err(fault) = record_guard::judge(m, stored, now) {
        return Ok(refused(fault));
    }
    let result = match record_guard::settle(db, m, stored, merge(stored, m), now)? {
        Ok(result) => result,
        Err(fault) => return Ok(refused(fault)),
    };
    if let Some(held) = held {
        if let Some(refused) = policy::merged_refusal(me, m, held, &result.state.fields) {
            return Ok(rejected(refused));
        }
    }
    let field_uuid = |name: &str| {
        result
            .state
            .fields
            .get(name)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
    };
    let team_id = field_uuid("team_id").unwrap_or(m.team_id);
    if let Some(refused) = policy::landing_refusal(me, team_id) {
        return Ok(rejected(refused));
    }
    let marking = result
        .state
        .fields
        .get("marking")
        .and_then(|v| serde_json::from_value::<Marking>(v.clone()).ok())
        .unwrap_or(m.marking);
    if let (MutationKind::Delete, Some(cur)) = (&m.kind, &current) {
        retain_deleted(db, sources, m.record_id, &m.entity, &cur.state)?;
    }
    let created_by = current
        .as_ref()
        .map(|c| c.facts.created_by)
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
    let buckets = cascade::record_buckets(db, team_id, marking, created_by)?;
    cascade::place(db, m.record_id, &m.entity, &buckets, seq)?;
    let mut conflict_ids = Vec::new();
    for c in &result.conflicts {
        let mut c = c.clone();
        rename_if_taken(&mut c, &mut |id| {
            Ok::<_, StoreError>(
                db.query_opt("SELECT data FROM conflicts WHERE id = ?1", args![id])?
                    .map(|row| row.text(0))
                    .transpose()?
                    .and_then(|data| serde_json::from_str::<Conflict>(&data).ok()),
            )
        })?;
        let c = &c;
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
        erase_open_conflicts(db, &id, &m.entity, &buckets, seq)?;
    }
    cascade::after_write(db, sources, m.record_id, &m.entity, seq)?;
    let operation = match m.kind {
        MutationKind::Create => "collect",
        MutationKind::Update => "alter",
        MutationKind::Delete => "erase",
        MutationKind::Restore => "restore",
    };
    audit(
        db,
        sources,
        operation,
        Some(me.id),
        Some(device.device_id),
        json!({ "entity": m.entity, "record_id": m.record_id, "seq": m.seq, "reason": m.reason }),
    )?;
    Ok(match result.kind {
        MergeKind::Applied if conflict_ids.is_empty() => PushOutcome::Applied,
        _ => PushOutcome::Merged {
            conflicts: conflict_ids,
        },
    })
}

/// Keeps a refused mutation for supervisors, and audits the refusal.
fn quarantine(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    m: &Mutation,
    outcome: &PushOutcome,
) -> Result<(), StoreError> {
    let PushOutcome::Rejected { code, .. } = outcome else {
        return Ok(());
    };
    db.execute(
        "INSERT INTO quarantine (at, device_id, seq, code, mutation) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![
            now_text(sources),
            device.device_id.to_string(),
            db_int(m.seq),
            code.as_str(),
            serde_json::to_string(m).map_err(corrupt("mutation"))?
        ],
    )?;
    audit(
        db,
        sources,
        "refuse",
        Some(device.officer.id),
        Some(device.device_id),
        json!({ "entity": m.entity, "record_id": m.record_id, "seq": m.seq, "code": code }),
    )
}

/// Applies a push: verifies and keeps the device's audit events, applies each mutation not
/// applied before (quarantining refusals), takes conflict resolutions and moves the device's
/// high-water mark. `Ok(Err(refusal))` refuses the whole request and applies nothing.
pub fn push(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    request: &PushRequest,
) -> Result<Result<PushResponse, PushRefusal>, StoreError> {
    if request.mutations.windows(2).any(|w| w[0].seq >= w[1].seq) {
        return Ok(Err(PushRefusal::Invalid(
            "mutations must be in ascending sequence order".into(),
        )));
    }
    if let Some(refusal) = validate::push_body_refusal(request) {
        return Ok(Err(refusal));
    }
    db.serialize_writers()?;
    if let Some(refusal) = epoch::refusal(db, device.device_id, request.epoch.as_deref())? {
        return Ok(Err(refusal));
    }
    let row = db.query_one(
        "SELECT high_water, audit_seq, audit_head FROM devices WHERE device_id = ?1",
        args![device.device_id.to_string()],
    )?;
    let (mut high_water, audit_seq, audit_head) = (row.int(0)?, row.int(1)?, row.text(2)?);
    let held = fork::HeldPosition {
        high_water: counter(high_water),
        audit_seq: counter(audit_seq),
        audit_head: audit_head.clone(),
    };
    if let Some(forked) = fork::check(db, sources, device, request, &held)? {
        return Ok(Err(forked));
    }
    // New mutations continue the device's sequence without a gap, or nothing is applied: a
    // seq far ahead would otherwise silence every later change as a resend.
    let mut expected = counter(high_water).saturating_add(1);
    let first_new = request
        .mutations
        .iter()
        .find(|m| db_int(m.seq) > high_water);
    if let Some(first) = first_new {
        // After a restore the server forgot what it had acknowledged: the device's first push
        // of the epoch may start above the high-water mark, once.
        if first.seq > expected && epoch::seq_gap_allowed(db, device.device_id)? {
            expected = first.seq;
        }
    }
    for m in request
        .mutations
        .iter()
        .filter(|m| db_int(m.seq) > high_water)
    {
        if m.seq != expected {
            return Ok(Err(PushRefusal::SeqGap { expected }));
        }
        expected = expected.saturating_add(1);
    }
    let fresh: Vec<_> = request
        .audit
        .iter()
        .filter(|e| db_int(e.seq) > audit_seq)
        .collect();
    if fresh.iter().any(|e| e.device_id != device.device_id) {
        return Ok(Err(PushRefusal::Invalid(
            "audit events belong to another device".into(),
        )));
    }
    let (last_seq, last_hash) =
        match verify_chain(fresh.iter().copied(), counter(audit_seq), &audit_head) {
            Ok(v) => v,
            Err(e) => {
                audit(
                    db,
                    sources,
                    "refuse",
                    Some(device.officer.id),
                    Some(device.device_id),
                    json!({ "reason": "audit_chain_broken", "at_seq": e.seq }),
                )?;
                return Ok(Err(PushRefusal::Invalid(format!(
                    "audit chain does not verify: {e}"
                ))));
            }
        };
    for e in &fresh {
        db.execute(
            "INSERT INTO device_audit (device_id, seq, event) VALUES (?1, ?2, ?3)",
            args![
                device.device_id.to_string(),
                db_int(e.seq),
                serde_json::to_string(e).map_err(corrupt("audit event"))?
            ],
        )?;
    }
    let requarantined = restore_lost::requarantine(db, sources, device, &request.refused)?;
    let mut results = Vec::with_capacity(request.mutations.len());
    for m in &request.mutations {
        let seq = db_int(m.seq);
        if seq <= high_water {
            // A resend (`fork::check` found it the same change): the answer it had.
            results.push(PushResult {
                seq: m.seq,
                outcome: fork::outcome_at(db, device, m.seq)?,
            });
            continue;
        }
        let outcome = apply_one(db, sources, device, m)?;
        quarantine(db, sources, device, m, &outcome)?;
        fork::remember(db, device, m, &outcome)?;
        results.push(PushResult {
            seq: m.seq,
            outcome,
        });
        high_water = seq;
    }
    let refused_now = requarantined
        || results
            .iter()
            .any(|r| matches!(r.outcome, PushOutcome::Rejected { .. }));
    caps::enforce(db, sources, device, refused_now, last_seq)?;
    let resolved = take_resolutions(db, sources, device, &request.resolved)?;
    epoch::after_push(db, device.device_id, request, first_new.is_some())?;
    super::compact::stamp(db, sources)?;
    db.execute(
        "UPDATE devices SET high_water = ?2, audit_seq = ?3, audit_head = ?4, last_sync_at = ?5
         WHERE device_id = ?1",
        args![
            device.device_id.to_string(),
            high_water,
            db_int(last_seq),
            last_hash,
            now_text(sources)
        ],
    )?;
    Ok(Ok(PushResponse {
        results,
        acked_seq: counter(high_water),
        audit_acked_seq: last_seq,
        server_time_ms: counter(now_ms(sources)),
        model_generation: Some(pocketbook_model::MODEL_GENERATION),
        resolved,
    }))
}

/// Resolves the conflicts a device says it resolved, where the authorisation table lets its
/// officer (a supervisor or lead who sees the record, or the officer whose value lost). An
/// unauthorised resolution is not acknowledged (the conflict stays open) and is audited; an id
/// the server does not hold as an open conflict is acknowledged, so the device stops sending it.
fn take_resolutions(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    ids: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut resolved = Vec::new();
    for id in ids.iter().take(MAX_RESOLVED) {
        if let Some((record_id, loser)) = conflict_loser(db, id)? {
            if let Some(cur) = load_record(db, record_id)? {
                let lost_mine = device_officer(db, loser)? == Some(device.officer.id);
                if let Some(refused) =
                    policy::resolution_refusal(&device.officer, &cur.facts, lost_mine)
                {
                    audit(
                        db,
                        sources,
                        "refuse",
                        Some(device.officer.id),
                        Some(device.device_id),
                        json!({ "conflict_id": id, "record_id": record_id, "code": refused.code }),
                    )?;
                    continue;
                }
                mark_conflict_resolved(db, sources, id, Some(device))?;
            }
        }
        resolved.push(id.clone());
    }
    Ok(resolved)
}
