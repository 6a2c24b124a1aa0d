//! An edit keeps what this build does not understand. A record is decoded into this build's
//! types to be edited, which drops keys a newer app added (at the top or inside nested
//! objects, e.g. a carer contact or THRIVE) and reshapes set elements; writing that typed
//! value back would erase them on the device and, through the outgoing mutation, on the
//! server. Instead the typed value is laid over the stored raw JSON: objects merge key by key,
//! and a set keeps each stored element the edit did not remove exactly as it was stored.

use serde_json::{Map, Value};

use pocketbook_protocol::merge::{self, FieldRule};
use pocketbook_protocol::Entity;

/// The record to store after an edit: `typed` (the edited record as this build serialises
/// it) over `raw` (the record as stored), given `before` (the unedited record as this build
/// serialises it, which pairs each stored set element with its typed form).
pub(crate) fn overlay(
    entity: &Entity,
    raw: &Map<String, Value>,
    before: &Map<String, Value>,
    typed: Map<String, Value>,
) -> Map<String, Value> {
    let mut out = raw.clone();
    for (field, new) in typed {
        if raw.contains_key(&field) && before.get(&field) == Some(&new) {
            // Not edited: kept exactly as stored, however this build would spell it.
            continue;
        }
        let merged = match (raw.get(&field), before.get(&field)) {
            (Some(Value::Array(stored)), Some(Value::Array(known)))
                if merge::rule(entity, &field) == FieldRule::AddWinsSet =>
            {
                keep_set_elements(stored, known, new)
            }
            (Some(stored), _) => merge_value(stored, new),
            (None, _) => new,
        };
        out.insert(field, merged);
    }
    out
}

/// `new` over `stored`: objects key by key (keeping keys `new` lacks), anything else replaced.
fn merge_value(stored: &Value, new: Value) -> Value {
    match (stored, new) {
        (Value::Object(stored), Value::Object(new)) => {
            let mut out = stored.clone();
            for (k, v) in new {
                let merged = match stored.get(&k) {
                    Some(s) => merge_value(s, v),
                    None => v,
                };
                out.insert(k, merged);
            }
            Value::Object(out)
        }
        (_, new) => new,
    }
}

/// A set after an edit: each element of `new` that this build read from the store (equal to
/// its typed form in `known`) is written back as it was stored (`stored`, element for
/// element); elements the edit added are written as given.
fn keep_set_elements(stored: &[Value], known: &[Value], new: Value) -> Value {
    let Value::Array(new) = new else {
        return new;
    };
    if stored.len() != known.len() {
        return Value::Array(new);
    }
    let mut unused: Vec<bool> = vec![true; known.len()];
    let out = new
        .into_iter()
        .map(|element| {
            let found = known
                .iter()
                .enumerate()
                .position(|(i, k)| unused[i] && *k == element);
            match found {
                Some(i) => {
                    unused[i] = false;
                    stored[i].clone()
                }
                None => element,
            }
        })
        .collect();
    Value::Array(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn unknown_keys_top_level_and_nested_survive_and_known_ones_change() {
        let raw = map(json!({
            "first_name": "A", "shoe_size": 5,
            "thrive": {"threat": "x", "weather": "rain"},
        }));
        let before = map(json!({"first_name": "A", "thrive": {"threat": "x"}}));
        let typed = map(json!({"first_name": "B", "thrive": {"threat": "y"}}));
        let out = overlay(&Entity::Concern, &raw, &before, typed);
        assert_eq!(
            Value::Object(out),
            json!({"first_name": "B", "shoe_size": 5,
                   "thrive": {"threat": "y", "weather": "rain"}})
        );
    }

    #[test]
    fn set_elements_keep_their_unknown_members_and_only_removed_ones_go() {
        let raw = map(json!({"carers": [
            {"name": "M", "phone": "1", "pronouns": "she"},
            {"name": "F", "phone": "2", "pronouns": "he"},
        ]}));
        let before = map(json!({"carers": [
            {"name": "M", "phone": "1"}, {"name": "F", "phone": "2"},
        ]}));
        // The officer removes F and adds G.
        let typed = map(json!({"carers": [{"name": "M", "phone": "1"}, {"name": "G"}]}));
        let out = overlay(&Entity::YoungPerson, &raw, &before, typed);
        assert_eq!(
            out["carers"],
            json!([{"name": "M", "phone": "1", "pronouns": "she"}, {"name": "G"}])
        );
        let delta = pocketbook_protocol::SetDelta::between(&raw["carers"], &out["carers"]).unwrap();
        assert_eq!(
            delta.removed,
            [json!({"name": "F", "phone": "2", "pronouns": "he"})]
        );
        assert_eq!(delta.added, [json!({"name": "G"})]);
    }

    #[test]
    fn a_cleared_field_is_cleared() {
        let raw = map(json!({"follow_up": {"due": "x", "extra": 1}}));
        let before = map(json!({"follow_up": {"due": "x"}}));
        let out = overlay(
            &Entity::Visit,
            &raw,
            &before,
            map(json!({"follow_up": null})),
        );
        assert_eq!(out["follow_up"], Value::Null);
    }
}
