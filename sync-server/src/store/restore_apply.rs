//! Applying a `restore` mutation (issue 12): after a server restore, a device sends its
//! acknowledged state of each record the restored server lacks or holds older. Taken only from
//! a device still reconciling in the current epoch, and only for a record its officer could see
//! (the record's buckets, stored and restored, meet the officer's now, or those of the teams the
//! officer belonged to at the backup or was given since: `restore_teams`), or that stood in
//! one of the officer's buckets when the window opened (`restore_places`: then only its content
//! is restored, with versions from before the restore, and its team and marking stay); merged
//! per field by higher version (`protocol::merge_restore`) with no conflicts; node and author may be another
//! device's. The merged record is checked like any other (the record guard), written with its
//! bucket entries and cascade, and audited `restore`; the open conflicts it carries are opened
//! again (`restore_lost`). Anything else is refused
//! `restore_refused`, nothing written. Runs inside the caller's transaction.

use pocketbook_protocol::limits::MAX_VERSION_COUNTER;
use pocketbook_protocol::merge::{MergeKind, MergeResult, RecordState, DELETED_FIELD};
use pocketbook_protocol::merge_restore::merge_restore;
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::{PullEntryKind, PushOutcome, MAX_CLOCK_SKEW_MS};
use pocketbook_protocol::{unix_millis, Marking, Mutation, RejectCode};
use serde_json::{json, Value};
use uuid::Uuid;

use super::conflicts::erase_open_conflicts;
use super::decode::corrupt;
use super::epoch;
use super::erase::retain_deleted;
use super::meta::audit;
use super::record_rows::{load_record, put_entry};
use super::reference::team_ids;
use super::sql::{args, Db};
use super::Device;
use super::{cascade, record_guard, restore_lost, restore_places};
use crate::error::StoreError;
use crate::scope;

fn refused(message: &str) -> PushOutcome {
    PushOutcome::Rejected {
        code: RejectCode::RestoreRefused,
        message: message.to_string(),
    }
}

/// The record a restore carries: its fields with their versions, and the delete.
fn incoming(m: &Mutation) -> Option<RecordState> {
    let versions = m.versions.as_ref()?;
    let names_only_its_fields = versions
        .keys()
        .all(|k| k == DELETED_FIELD || m.fields.contains_key(k))
        && m.fields.keys().all(|k| versions.contains_key(k));
    let carries_conflicts = m.conflicts.as_ref().is_some_and(|c| !c.is_empty());
    if !names_only_its_fields || (versions.is_empty() && !carries_conflicts) {
        return None;
    }
    Some(RecordState {
        fields: m.fields.clone().into_iter().collect(),
        versions: versions.clone(),
        deleted: versions.contains_key(DELETED_FIELD),
    })
}

/// The routing facts a state gives, falling back to the mutation's.
fn routing(state: &RecordState, m: &Mutation) -> (Uuid, Marking) {
    let team = state
        .fields
        .get("team_id")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or(m.team_id);
    let marking = state
        .fields
        .get("marking")
        .and_then(|v| serde_json::from_value::<Marking>(v.clone()).ok())
        .unwrap_or(m.marking);
    (team, marking)
}

/// Applies one restore mutation (see the module doc).
pub fn apply(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    m: &Mutation,
) -> Result<PushOutcome, StoreError> {
    if !epoch::reconciling(db, device.device_id)? {
        return Ok(refused(
            "restore mutations are taken only while a device reconciles after a restore",
        ));
    }
    let Some(restored) = incoming(m) else {
        return Ok(refused(
            "a restore names the version of each field it carries",
        ));
    };
    let mut ceiling = unix_millis(sources.now()).saturating_add(MAX_CLOCK_SKEW_MS);
    if restored
        .versions
        .values()
        .any(|v| v.hlc.counter > MAX_VERSION_COUNTER || v.hlc.millis > ceiling)
    {
        return Ok(PushOutcome::Rejected {
            code: RejectCode::InvalidVersion,
            message: "a restored version is out of bounds".into(),
        });
    }
    // What the officer could see now, or at any time since the backup: a record an admin's
    // move took out of the officer's sight is still the officer's to bring back.
    let all_teams = team_ids(db)?;
    let in_sight = scope::buckets_of(&device.officer, &all_teams);
    let mut mine = in_sight.clone();
    let mut then = device.officer.clone();
    then.team_ids = epoch::teams_since_backup(db, device.officer.id)?;
    mine.extend(scope::buckets_of(&then, &all_teams));
    let sees = |buckets: &[String]| buckets.iter().any(|b| mine.contains(b));
    // A record's buckets now, and while its author belonged to the teams of then (a sensitive
    // record is its author's only while the author is in its team).
    let placed = |db: &mut dyn Db, team: Uuid, marking: Marking, author: Uuid| {
        let mut buckets = cascade::record_buckets(db, team, marking, author)?;
        let author_then = epoch::teams_since_backup(db, author)?;
        buckets.extend(scope::buckets_of_record_for(
            team,
            marking,
            author,
            &author_then,
        ));
        Ok::<_, StoreError>(buckets)
    };
    let current = load_record(db, m.record_id)?;
    // A record out of the officer's sight now that it could see when the window opened: a
    // colleague's phone raised or moved it after the restore.
    let mut seen_then = None;
    if let Some(cur) = &current {
        let f = &cur.facts;
        if f.entity != m.entity {
            return Ok(refused("the record is not one this officer could see"));
        }
        if !sees(&placed(db, f.team_id, f.marking, f.created_by)?) {
            let Some(opened) = epoch::window_opened(db)? else {
                return Ok(refused("the record is not one this officer could see"));
            };
            if !restore_places::stood_in(db, m.record_id, &mine)? {
                return Ok(refused("the record is not one this officer could see"));
            }
            seen_then = Some((f.team_id, f.marking));
            // What the officer saw then it acknowledged before the restore: no version past
            // the window's opening (and the skew allowed) is one of those.
            ceiling = ceiling.min(opened.saturating_add(MAX_CLOCK_SKEW_MS));
        }
    }
    if current.is_none() && restored.versions.is_empty() {
        return Ok(refused("a restored conflict's record is not on the server"));
    }
    if restored.versions.values().any(|v| v.hlc.millis > ceiling) {
        return Ok(refused(
            "a record out of the officer's sight takes back only what was acknowledged before the restore",
        ));
    }
    let stored = current.as_ref().map(|c| &c.state);
    let merged = merge_restore(stored, &restored);
    if let Some(why) = restore_lost::conflicts_refusal(m, &merged, ceiling) {
        return Ok(refused(why));
    }
    let (team_id, marking) = routing(&merged, m);
    if let Some(then) = seen_then {
        // Its content only: where it lives now is not the restoring officer's to change.
        if (team_id, marking) != then {
            return Ok(refused(
                "a restore may not move a record out of the officer's sight",
            ));
        }
    }
    let created_by = current
        .as_ref()
        .map(|c| c.facts.created_by)
        .or_else(|| {
            merged
                .fields
                .get("created_by")
                .and_then(Value::as_str)
                .and_then(|s| Uuid::parse_str(s).ok())
        })
        .unwrap_or(device.officer.id);
    if seen_then.is_none() && !sees(&placed(db, team_id, marking, created_by)?) {
        return Ok(refused("the record is not one this officer could see"));
    }
    let buckets = cascade::record_buckets(db, team_id, marking, created_by)?;
    let out_of_sight = !buckets.iter().any(|b| in_sight.contains(b));
    if Some(&merged) == stored {
        restore_lost::reopen_conflicts(db, sources, device, m, merged.deleted, &buckets)?;
        if out_of_sight {
            let seq = db.next_seq()?;
            tell_out_of_sight(db, m, &in_sight, seq)?;
        }
        return Ok(PushOutcome::Applied);
    }
    let result = MergeResult {
        state: merged,
        kind: MergeKind::Applied,
        conflicts: Vec::new(),
        erase_conflicts: false,
    };
    let now = record_guard::guard_now(sources);
    let state = match record_guard::settle(db, m, None, result, now)? {
        Ok(result) => result.state,
        Err(fault) => {
            return Ok(PushOutcome::Rejected {
                code: fault.code,
                message: fault.message,
            })
        }
    };
    write(
        db,
        sources,
        device,
        m,
        current.as_ref(),
        &state,
        (team_id, marking, created_by),
    )?;
    restore_lost::reopen_conflicts(db, sources, device, m, state.deleted, &buckets)?;
    if out_of_sight {
        let seq = db.next_seq()?;
        tell_out_of_sight(db, m, &in_sight, seq)?;
    }
    Ok(PushOutcome::Applied)
}

/// A record restored by an officer who no longer sees it (moved team since the backup): a
/// `remove` in each of the officer's buckets, so the restoring phone lets it go as its
/// colleagues keep it.
fn tell_out_of_sight(
    db: &mut dyn Db,
    m: &Mutation,
    buckets_now: &[String],
    seq: i64,
) -> Result<(), StoreError> {
    for bucket in buckets_now {
        put_entry(
            db,
            bucket,
            &m.record_id.to_string(),
            PullEntryKind::Remove,
            &m.entity,
            seq,
        )?;
    }
    Ok(())
}

/// Writes the merged record with its bucket entries and cascade, and audits it.
fn write(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    m: &Mutation,
    current: Option<&super::record_rows::Current>,
    state: &RecordState,
    (team_id, marking, created_by): (Uuid, Marking, Uuid),
) -> Result<(), StoreError> {
    let id = m.record_id.to_string();
    let newly_deleted = state.deleted && current.is_none_or(|c| !c.state.deleted);
    if let (true, Some(cur)) = (newly_deleted, current) {
        retain_deleted(db, sources, m.record_id, &m.entity, &cur.state)?;
    }
    db.execute(
        "INSERT INTO records (id, entity, team_id, marking, created_by, fields, versions, deleted)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET team_id = excluded.team_id, marking = excluded.marking,
             fields = excluded.fields, versions = excluded.versions, deleted = excluded.deleted",
        args![
            &id,
            m.entity.as_str(),
            team_id.to_string(),
            marking.as_str(),
            created_by.to_string(),
            Value::Object(state.fields.clone()).to_string(),
            serde_json::to_string(&state.versions).map_err(corrupt("versions"))?,
            state.deleted
        ],
    )?;
    let seq = db.next_seq()?;
    let buckets = cascade::record_buckets(db, team_id, marking, created_by)?;
    cascade::place(db, m.record_id, &m.entity, &buckets, seq)?;
    if newly_deleted {
        // A tombstone erases the record's conflicts, as a delete does.
        erase_open_conflicts(db, &id, &m.entity, &buckets, seq)?;
    }
    cascade::after_write(db, sources, m.record_id, &m.entity, seq)?;
    audit(
        db,
        sources,
        "restore",
        Some(device.officer.id),
        Some(device.device_id),
        json!({ "entity": m.entity, "record_id": m.record_id, "seq": m.seq }),
    )
}
