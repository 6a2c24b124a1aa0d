//! What a server restore loses besides records, brought back by the devices that held it
//! (issue 12): the open conflicts made between the backup and the restore (carried by a
//! `restore` mutation of their record) and the refusals quarantined in that time (sent again in
//! a reconciling push). Taken only from a device still reconciling; a conflict is opened again
//! only if its id is the one the server would make, it belongs to the restore's record and its
//! losing version really lost to what the record holds. Each is audited. Runs inside the
//! caller's transaction.

use pocketbook_protocol::limits::{MAX_NAME_CHARS, MAX_RECORD_BYTES, MAX_VERSION_COUNTER};
use pocketbook_protocol::merge::{conflict_id, wins, Conflict, RecordState};
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::{PullEntryKind, RefusedMutation};
use pocketbook_protocol::Mutation;
use serde_json::{json, Value};

use super::clock::now_text;
use super::decode::{corrupt, db_int};
use super::epoch;
use super::meta::audit;
use super::record_rows::put_entry;
use super::sql::{args, Db};
use super::Device;
use crate::error::StoreError;

/// Why the conflicts a restore carries are refused, if they are: each must be the server's own
/// (id, record, kind), of bounded size, and lost to `state` (the record after the restore).
pub fn conflicts_refusal(m: &Mutation, state: &RecordState, ceiling: u64) -> Option<&'static str> {
    for c in m.conflicts.iter().flatten() {
        if c.record_id != m.record_id || c.entity != m.entity {
            return Some("a restored conflict belongs to another record");
        }
        if c.field.chars().count() > MAX_NAME_CHARS
            || c.id != conflict_id(c.record_id, &c.field, c.losing_version)
        {
            return Some("a restored conflict is not one the server made");
        }
        let version = &c.losing_version.hlc;
        if version.counter > MAX_VERSION_COUNTER || version.millis > ceiling {
            return Some("a restored conflict's version is out of bounds");
        }
        if serde_json::to_vec(c).map_or(true, |bytes| bytes.len() > MAX_RECORD_BYTES) {
            return Some("a restored conflict is too large");
        }
        // The value held now must beat the lost one by the field's rule (a higher risk wins
        // over a later edit, so a risk's winner can be the older version).
        let held = state.versions.get(&c.field).map(|version| {
            let value = state.fields.get(&c.field).unwrap_or(&Value::Null);
            (value, *version)
        });
        if held.is_none_or(|held| {
            !wins(
                &c.entity,
                &c.field,
                held,
                (&c.losing_value, c.losing_version),
            )
        }) {
            return Some("a restored conflict's value did not lose to the record's");
        }
    }
    None
}

/// Opens again each conflict of `m` the server does not hold (resolved or open), in the record's
/// `buckets`, and audits it. Nothing for a deleted record (a delete erases its conflicts).
pub fn reopen_conflicts(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    m: &Mutation,
    deleted: bool,
    buckets: &[String],
) -> Result<(), StoreError> {
    if deleted {
        return Ok(());
    }
    let mut seq = None;
    for c in m.conflicts.iter().flatten() {
        if db
            .query_opt("SELECT 1 FROM conflicts WHERE id = ?1", args![&c.id])?
            .is_some()
        {
            continue;
        }
        let at = match seq {
            Some(at) => at,
            None => *seq.insert(db.next_seq()?),
        };
        insert_conflict(db, c)?;
        for b in buckets {
            put_entry(db, b, &c.id, PullEntryKind::Conflict, &m.entity, at)?;
        }
        audit(
            db,
            sources,
            "restore_conflict",
            Some(device.officer.id),
            Some(device.device_id),
            json!({ "entity": m.entity, "record_id": m.record_id, "conflict": c.id }),
        )?;
    }
    Ok(())
}

fn insert_conflict(db: &mut dyn Db, c: &Conflict) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO conflicts (id, record_id, data) VALUES (?1, ?2, ?3)",
        args![
            &c.id,
            c.record_id.to_string(),
            serde_json::to_string(c).map_err(corrupt("conflict"))?
        ],
    )?;
    Ok(())
}

/// Quarantines again each refusal a reconciling device sends that the server does not hold
/// (by device and seq), audited `requarantine`; nothing when the device is not reconciling.
/// Whether it quarantined any: they count toward the device's cap on refused changes like
/// any refusal (`caps`), so a device cannot fill the quarantine this way.
pub fn requarantine(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    refused: &[RefusedMutation],
) -> Result<bool, StoreError> {
    if refused.is_empty() || !epoch::reconciling(db, device.device_id)? {
        return Ok(false);
    }
    let mut any = false;
    for r in refused {
        let m = &r.mutation;
        let held = db.query_opt(
            "SELECT 1 FROM quarantine WHERE device_id = ?1 AND seq = ?2",
            args![device.device_id.to_string(), db_int(m.seq)],
        )?;
        if held.is_some() {
            continue;
        }
        any = true;
        db.execute(
            "INSERT INTO quarantine (at, device_id, seq, code, mutation)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            args![
                now_text(sources),
                device.device_id.to_string(),
                db_int(m.seq),
                r.code.as_str(),
                serde_json::to_string(m).map_err(corrupt("mutation"))?
            ],
        )?;
        audit(
            db,
            sources,
            "requarantine",
            Some(device.officer.id),
            Some(device.device_id),
            json!({ "entity": m.entity, "record_id": m.record_id, "seq": m.seq, "code": r.code }),
        )?;
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pocketbook_protocol::{Entity, Hlc, Marking, MutationKind, Version};
    use uuid::Uuid;

    use super::*;

    fn version(millis: u64) -> Version {
        Version {
            hlc: Hlc { millis, counter: 0 },
            node: Uuid::from_u128(3),
        }
    }

    /// A restore of a concern carrying one lost risk.
    fn carrying(record: Uuid, losing: &str, at: Version) -> Mutation {
        let conflict = Conflict {
            id: conflict_id(record, "risk", at),
            entity: Entity::Concern,
            record_id: record,
            field: "risk".into(),
            losing_value: json!(losing),
            losing_version: at,
            winning_value: json!("high"),
            winning_version: version(1_000),
        };
        Mutation {
            seq: 1,
            entity: Entity::Concern,
            record_id: record,
            kind: MutationKind::Restore,
            team_id: Uuid::from_u128(9),
            marking: Marking::Official,
            fields: BTreeMap::new(),
            base: BTreeMap::new(),
            sets: BTreeMap::new(),
            version: at,
            reason: None,
            versions: Some(BTreeMap::new()),
            conflicts: Some(vec![conflict]),
        }
    }

    #[test]
    fn a_lost_risk_is_judged_by_the_risk_rule_not_by_its_version() {
        // Seed 1282: "high" at an older version beat a later "low".
        let record = Uuid::from_u128(7);
        let state = RecordState {
            fields: [("risk".to_string(), json!("high"))].into_iter().collect(),
            versions: [("risk".to_string(), version(1_000))].into(),
            deleted: false,
        };
        let later_low = carrying(record, "low", version(2_000));
        assert_eq!(conflicts_refusal(&later_low, &state, 10_000), None);
        // A "lost" value that would have won is not one the server made.
        let held_low = RecordState {
            fields: [("risk".to_string(), json!("low"))].into_iter().collect(),
            ..state.clone()
        };
        assert_eq!(
            conflicts_refusal(&later_low, &held_low, 10_000),
            Some("a restored conflict's value did not lose to the record's")
        );
        let earlier_medium = carrying(record, "medium", version(500));
        assert_eq!(conflicts_refusal(&earlier_medium, &state, 10_000), None);
    }
}
