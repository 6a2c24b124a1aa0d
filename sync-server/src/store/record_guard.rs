//! The record guard inside a push: what [`crate::validate`] decides about one mutation, put to
//! the store (the establishments a record names must be ones the server has held), and the
//! outcome when two valid concurrent edits merge into an invalid record: the incoming edit
//! loses as a whole. Runs inside the caller's transaction.

use chrono::{DateTime, Duration, Utc};
use pocketbook_protocol::limits::MAX_VERSION_COUNTER;
use pocketbook_protocol::merge::{conflict_id, Conflict, MergeKind, MergeResult, RecordState};
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::MAX_CLOCK_SKEW_MS;
use pocketbook_protocol::{Hlc, Mutation, MutationKind, RejectCode, Version};
use serde_json::Value;
use uuid::Uuid;

use super::sql::{args, Db};
use super::Device;
use crate::error::StoreError;
use crate::validate::{self, Fault};

/// The "now" records are checked against: the server's time plus the clock skew it allows, so
/// a device whose clock is a little fast is never refused for a time it thought was past.
pub fn guard_now(sources: &dyn Sources) -> DateTime<Utc> {
    let skew = i64::try_from(MAX_CLOCK_SKEW_MS).unwrap_or(i64::MAX);
    sources.now() + Duration::milliseconds(skew)
}

/// Why the mutation's version cannot be trusted, if it cannot: every version a device stamps is
/// its own (its node is its device id, as `core/src/store/device.rs` makes its clock) and its
/// counter stays within [`MAX_VERSION_COUNTER`].
pub fn version_fault(device: &Device, m: &Mutation) -> Option<Fault> {
    let message = if m.version.node != device.device_id {
        "the version's node is not the pushing device"
    } else if m.version.hlc.counter > MAX_VERSION_COUNTER {
        "the version's counter is above the bound"
    } else {
        return None;
    };
    Some(Fault {
        code: RejectCode::InvalidVersion,
        message: message.into(),
        cross_field: false,
        field: None,
    })
}

/// Judges the mutation's own fields against the record as stored (`None`: none is stored).
/// A delete, or an edit of a tombstone (which the merge ignores), carries nothing to check.
pub fn judge(m: &Mutation, current: Option<&RecordState>, now: DateTime<Utc>) -> Result<(), Fault> {
    if m.kind == MutationKind::Delete || current.is_some_and(|c| c.deleted) {
        return Ok(());
    }
    validate::judge_fields(m, current.map(|c| &c.fields), now)
}

/// What becomes of a merge: `Ok(result)` to store (the merge itself, or, when it would be
/// invalid and the record already exists, the stored record unchanged with every incoming
/// field a conflict), `Err(fault)` to refuse (a create that is not a valid record, or a
/// record naming an establishment the server has never held).
pub fn settle(
    db: &mut dyn Db,
    m: &Mutation,
    current: Option<&RecordState>,
    result: MergeResult,
    now: DateTime<Utc>,
) -> Result<Result<MergeResult, Fault>, StoreError> {
    if result.state.deleted {
        return Ok(Ok(result));
    }
    match validate::check_record(&m.entity, m.record_id, &result.state.fields, now) {
        Ok(checked) => {
            for id in checked.establishments {
                if !establishment_held(db, id)? {
                    return Ok(Err(Fault {
                        code: RejectCode::InvalidRecord,
                        message: "establishment_id names an establishment this server has never \
                                  held"
                            .into(),
                        cross_field: false,
                        field: Some("establishment_id".into()),
                    }));
                }
            }
            Ok(Ok(result))
        }
        Err(fault) => match current {
            Some(stored) if !stored.deleted => Ok(Ok(incoming_loses(stored, m))),
            _ => Ok(Err(fault)),
        },
    }
}

/// Whether the server holds (or ever held: closed establishments are kept) this establishment.
fn establishment_held(db: &mut dyn Db, id: Uuid) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM establishments WHERE id = ?1",
            args![id.to_string()],
        )?
        .is_some())
}

/// The outcome when a valid edit would make the stored record invalid together with what is
/// already there: the stored record stays as it is, and each incoming value that differs
/// becomes a conflict it lost (the officer can still restore it, which makes a fresh edit
/// judged against the record as it then is).
pub fn incoming_loses(stored: &RecordState, m: &Mutation) -> MergeResult {
    let conflicts = m
        .fields
        .iter()
        .filter_map(|(field, incoming)| {
            let winning_value = stored.fields.get(field).cloned().unwrap_or(Value::Null);
            if winning_value == *incoming {
                return None;
            }
            let winning_version = stored.versions.get(field).copied().unwrap_or(Version {
                hlc: Hlc::default(),
                node: Uuid::nil(),
            });
            Some(Conflict {
                id: conflict_id(m.record_id, field, m.version),
                entity: m.entity.clone(),
                record_id: m.record_id,
                field: field.clone(),
                losing_value: incoming.clone(),
                losing_version: m.version,
                winning_value,
                winning_version,
            })
        })
        .collect();
    MergeResult {
        state: stored.clone(),
        kind: MergeKind::Merged,
        conflicts,
        erase_conflicts: false,
    }
}
