//! The record guard: every record the server would store is decoded with the shared model
//! (`pocketbook-model`) and checked by its rules, so no device can fan out a record another
//! device cannot read. Pure: no database, no IO; the store supplies "now" and answers whether
//! the establishments a record names were ever held.
//!
//! How a pushed mutation is judged ([`judge_fields`], then [`check_record`] on the merge):
//! - A create must be a whole valid record.
//! - An update's own fields must each be well-formed: each is laid alone over the stored
//!   record, which must still decode, name only fields and choices this server knows, and keep
//!   every rule about that field (its type, choices, length, its own set size).
//! - The merged record must keep every rule. If it breaks one only because of how two valid
//!   concurrent edits combine (A moves a start later while B moves the end earlier; two sets
//!   whose union passes the bound), the incoming edit loses as a whole: its fields become
//!   conflicts and the stored record is unchanged (see `store::push`). An honest device is
//!   never refused for what another device did.
//!
//! Anything this server does not know — an `Entity`, a choice (an open enum's `Unknown`), a
//! field (a key that disappears when the decoded record is written again, nested ones too) —
//! is a newer app's and is answered `server_too_old`, never `invalid_record`: the device keeps
//! the mutation and resends it after the server upgrades. Messages name fields, never values.

mod body;
mod shape;

use chrono::{DateTime, Utc};
use pocketbook_model::{
    Action, Addendum, Concern, Engagement, Record, RecordRules, ValidationError, Visit, YoungPerson,
};
use pocketbook_protocol::limits::{MAX_RECORD_BYTES, MAX_SET_ELEMENTS};
use pocketbook_protocol::{Entity, Mutation, RejectCode};
use serde_json::{Map, Value};
use uuid::Uuid;

pub use body::{is_conflict_id, push_body_refusal};
pub use shape::unknown_key;

/// Why a record (or a mutation's field) is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The refusal code: `invalid_record`, `too_large` or `server_too_old`.
    pub code: RejectCode,
    /// Names the field and rule, never a value.
    pub message: String,
    /// True when the fault is a rule between fields (end before start, an alternative
    /// missing, a set over its bound, the record's whole size) rather than one field's form.
    pub cross_field: bool,
    /// The top-level field a rule named, when a model rule (not decoding) refused it.
    pub field: Option<String>,
}

impl Fault {
    fn new(code: RejectCode, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
            cross_field: false,
            field: None,
        }
    }

    fn from_validation(e: &ValidationError) -> Fault {
        let code = match e {
            ValidationError::TooLong { .. } | ValidationError::TooMany { .. } => {
                RejectCode::TooLarge
            }
            _ => RejectCode::InvalidRecord,
        };
        let field = e.field();
        Fault {
            code,
            field: field.split('.').next().map(str::to_string),
            message: e.to_string(),
            cross_field: matches!(
                e,
                ValidationError::EndBeforeStart { .. }
                    | ValidationError::Missing { .. }
                    | ValidationError::TooMany { .. }
            ),
        }
    }
}

/// What a checked record names that the store must confirm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Establishments the record names (each must be one the server has ever held).
    pub establishments: Vec<Uuid>,
}

/// Decodes `fields` (a record's stored fields, without its id) as the model's record for
/// `entity` and checks every rule. `now` is the server's time plus the allowed clock skew.
pub fn check_record(
    entity: &Entity,
    id: Uuid,
    fields: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Checked, Fault> {
    if fields.contains_key("id") {
        return Err(Fault::new(
            RejectCode::InvalidRecord,
            "id is not a field; the record id names the record",
        ));
    }
    let size = serde_json::to_vec(fields).map_or(usize::MAX, |b| b.len());
    if size > MAX_RECORD_BYTES {
        return Err(Fault {
            cross_field: true,
            ..Fault::new(
                RejectCode::TooLarge,
                format!("the record is larger than {MAX_RECORD_BYTES} bytes"),
            )
        });
    }
    let mut value = fields.clone();
    value.insert("id".into(), Value::String(id.to_string()));
    let value = Value::Object(value);
    match entity {
        Entity::YoungPerson => decode_and_check::<YoungPerson>(value, now),
        Entity::Visit => decode_and_check::<Visit>(value, now),
        Entity::Concern => decode_and_check::<Concern>(value, now),
        Entity::Addendum => decode_and_check::<Addendum>(value, now),
        Entity::Action => decode_and_check::<Action>(value, now),
        Entity::Engagement => decode_and_check::<Engagement>(value, now),
        Entity::Unknown(_) => Err(Fault::new(
            RejectCode::ServerTooOld,
            "a kind of record this server does not know; upgrade the server",
        )),
    }
}

fn decode_and_check<T: Record + RecordRules>(
    value: Value,
    now: DateTime<Utc>,
) -> Result<Checked, Fault> {
    let entity = T::ENTITY;
    let record: T = serde_json::from_value(value.clone()).map_err(|_| {
        // serde's message may quote the value it met; say only what kind of record failed.
        Fault::new(
            RejectCode::InvalidRecord,
            format!("the {entity} is missing a required field or has a field of the wrong type"),
        )
    })?;
    let again = serde_json::to_value(&record).map_err(|_| {
        Fault::new(
            RejectCode::InvalidRecord,
            format!("the {entity} cannot be written again"),
        )
    })?;
    if let Some(path) = unknown_key(&value, &again) {
        return Err(Fault::new(
            RejectCode::ServerTooOld,
            format!("{path} holds a field this server does not know; upgrade the server"),
        ));
    }
    if let Some(field) = record.unknown_choice() {
        return Err(Fault::new(
            RejectCode::ServerTooOld,
            format!("{field} holds a choice this server does not know; upgrade the server"),
        ));
    }
    record.check(now).map_err(|e| Fault::from_validation(&e))?;
    Ok(Checked {
        establishments: record.establishment_ids(),
    })
}

/// Judges a mutation's own fields before the merge: sizes, and (for an update) each field laid
/// alone over the stored record. `current` is the stored record's fields (`None` for a create
/// the server has not seen); a create is checked whole. The merged record is checked after.
pub fn judge_fields(
    m: &Mutation,
    current: Option<&Map<String, Value>>,
    now: DateTime<Utc>,
) -> Result<(), Fault> {
    if let Entity::Unknown(_) = m.entity {
        return Err(Fault::new(
            RejectCode::ServerTooOld,
            "a kind of record this server does not know; upgrade the server",
        ));
    }
    let size = serde_json::to_vec(&m.fields).map_or(usize::MAX, |b| b.len());
    if size > MAX_RECORD_BYTES {
        return Err(Fault::new(
            RejectCode::TooLarge,
            format!("the change is larger than {MAX_RECORD_BYTES} bytes"),
        ));
    }
    for (field, value) in &m.fields {
        if value.as_array().is_some_and(|a| a.len() > MAX_SET_ELEMENTS) {
            return Err(Fault::new(
                RejectCode::TooLarge,
                format!("{field} has more than {MAX_SET_ELEMENTS} entries"),
            ));
        }
    }
    for (field, delta) in &m.sets {
        if delta.added.len() > MAX_SET_ELEMENTS || delta.removed.len() > MAX_SET_ELEMENTS {
            return Err(Fault::new(
                RejectCode::TooLarge,
                format!("the change to {field} has more than {MAX_SET_ELEMENTS} entries"),
            ));
        }
        if !m.fields.contains_key(field) {
            return Err(Fault::new(
                RejectCode::InvalidRecord,
                "a set change names a field the change does not carry",
            ));
        }
    }
    let Some(current) = current else {
        let fields: Map<String, Value> = m
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        return check_record(&m.entity, m.record_id, &fields, now).map(|_| ());
    };
    // The common case first: the whole change over the stored record keeps every rule.
    let mut overlay = current.clone();
    overlay.extend(m.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    match check_record(&m.entity, m.record_id, &overlay, now) {
        Ok(_) => return Ok(()),
        Err(fault) if fault.code == RejectCode::ServerTooOld => return Err(fault),
        Err(_) => {}
    }
    for (field, value) in &m.fields {
        let mut alone = current.clone();
        alone.insert(field.clone(), value.clone());
        match check_record(&m.entity, m.record_id, &alone, now) {
            Ok(_) => {}
            Err(fault) if fault.cross_field => {}
            // A rule about another field: how this edit meets the stored record, judged on
            // the merge.
            Err(fault) if fault.field.as_ref().is_some_and(|f| f != field) => {}
            // Decoding failed (the stored record decodes, so this field is at fault), or a
            // rule about this very field.
            Err(fault) => return Err(fault),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
