//! What the officer does with a change the server refused: correct and resubmit it (a new
//! change with a new sequence number, validated like any other edit) or discard it (the record
//! keeps the state the server acknowledged). Held `server_too_old` changes are not here: they
//! need nothing from the officer and are resent by sync.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use pocketbook_protocol::{Entity, Mutation, MutationKind};

use crate::error::{Error, Result};
use crate::model::{
    Action, Addendum, Concern, Engagement, Record, RecordRules, ValidationError, Visit, YoungPerson,
};
use crate::ops::context::WriteContext;
use crate::store::{self, WriteKind};
use crate::Pocketbook;

/// The store-dependent checks a kind of record's own operations make.
type Check<T> = fn(&WriteContext<'_>, &T) -> Result<()>;

fn no_check<T>(_: &WriteContext<'_>, _: &T) -> Result<()> {
    Ok(())
}

fn check_visit(ctx: &WriteContext<'_>, visit: &Visit) -> Result<()> {
    super::visits::check(ctx, visit)
}

fn check_action(ctx: &WriteContext<'_>, action: &Action) -> Result<()> {
    action.validate()?;
    ctx.check_young_people("young_person_id", &[action.young_person_id])
}

fn check_people<T: Record>(ctx: &WriteContext<'_>, record: &T) -> Result<()> {
    ctx.check_young_people("young_person_ids", &record.young_people())
}

/// Lays `m`'s fields and then `corrections` over the record as stored now (nothing, if it is
/// not held) and writes the result as a new change, after the whole-record rules the server
/// keeps (`RecordRules`) and the kind's checks against the store.
fn again<T: Record + RecordRules>(
    ctx: &mut WriteContext<'_>,
    m: &Mutation,
    corrections: &BTreeMap<String, Value>,
    check: Check<T>,
) -> Result<()> {
    let stored = ctx.load::<T>(m.record_id)?;
    let reason = m.reason.as_deref();
    if m.kind == MutationKind::Delete {
        if let Some(stored) = &stored {
            ctx.capture_with_reason(WriteKind::Delete(stored), reason)?;
        }
        return Ok(());
    }
    let mut fields: Map<String, Value> = match &stored {
        Some(s) => match serde_json::to_value(&s.record) {
            Ok(Value::Object(map)) => map,
            _ => return Err(Error::Corrupt { what: "record" }),
        },
        None => Map::new(),
    };
    fields.remove("id");
    for (k, v) in m.fields.iter().chain(corrections) {
        fields.insert(k.clone(), v.clone());
    }
    let record: T =
        store::decode_fields(&m.record_id.to_string(), fields).map_err(|_| Error::Corrupt {
            what: "corrected change",
        })?;
    if let Some(field) = record.unknown_choice() {
        return Err(ValidationError::OutOfRange { field }.into());
    }
    record.check(ctx.now)?;
    check(ctx, &record)?;
    match &stored {
        Some(stored) => ctx.capture_with_reason(WriteKind::Update(stored, &record), reason)?,
        None => ctx.capture_with_reason(WriteKind::Create(&record), reason)?,
    };
    Ok(())
}

impl Pocketbook {
    /// Submits a refused change again (listed in `sync_status().rejected` under `seq`), with
    /// `corrections` (field name → new value) laid over what was refused. It becomes a new
    /// change on the record as it stands now, checked like any edit of its kind, and the
    /// refusal is forgotten. A refused deletion deletes the record again.
    pub fn resubmit_refused(&self, seq: u64, corrections: BTreeMap<String, Value>) -> Result<()> {
        self.mutate(|ctx| {
            let m = store::refused_change(ctx.tx, seq)?.ok_or(Error::RefusalNotFound)?;
            match &m.entity {
                Entity::YoungPerson => again::<YoungPerson>(ctx, &m, &corrections, no_check)?,
                Entity::Visit => again::<Visit>(ctx, &m, &corrections, check_visit)?,
                Entity::Concern => again::<Concern>(ctx, &m, &corrections, check_people)?,
                Entity::Addendum => again::<Addendum>(ctx, &m, &corrections, check_people)?,
                Entity::Action => again::<Action>(ctx, &m, &corrections, check_action)?,
                Entity::Engagement => again::<Engagement>(ctx, &m, &corrections, no_check)?,
                Entity::Unknown(_) => {
                    return Err(Error::Corrupt {
                        what: "refused change",
                    })
                }
            }
            store::forget_refused(ctx.tx, seq)?;
            ctx.note_change();
            Ok(())
        })
    }

    /// Discards a refused change (listed in `sync_status().rejected` under `seq`): the record
    /// keeps the state the server acknowledged.
    pub fn discard_refused(&self, seq: u64) -> Result<()> {
        self.mutate(|ctx| {
            if !store::forget_refused(ctx.tx, seq)? {
                return Err(Error::RefusalNotFound);
            }
            ctx.note_change();
            Ok(())
        })
    }
}
