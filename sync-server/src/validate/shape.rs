//! Finding a field this build does not know: a key of the input that is gone once the decoded
//! record is written again (serde ignores unknown keys, so they would be silently lost).
//! Pure.

use serde_json::Value;

/// The path (of known names, never the unknown key itself, which a device chose) of the first
/// object in `input` holding a key that `again` (the decoded record written again) lacks.
/// Nested objects and the elements of lists are compared too.
pub fn unknown_key(input: &Value, again: &Value) -> Option<String> {
    walk(input, again, "record")
}

fn walk(input: &Value, again: &Value, path: &str) -> Option<String> {
    match (input, again) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let Some(other) = b.get(key) else {
                    return Some(path.to_string());
                };
                let inner = if path == "record" {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if let Some(found) = walk(value, other, &inner) {
                    return Some(found);
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) => a
            .iter()
            .zip(b)
            .find_map(|(x, y)| walk(x, y, &format!("{path}[]"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_lost_on_the_way_back_is_found_at_any_depth_and_not_named() {
        let again = json!({"a": 1, "carers": [{"name": "x", "phone": null}], "t": {"r": 1}});
        assert_eq!(unknown_key(&json!({"a": 1}), &again), None);
        assert_eq!(
            unknown_key(&json!({"a": 1, "secret_name": 2}), &again),
            Some("record".into())
        );
        assert_eq!(
            unknown_key(&json!({"carers": [{"name": "x", "colour": "red"}]}), &again),
            Some("carers[]".into())
        );
        assert_eq!(
            unknown_key(&json!({"t": {"r": 1, "q": 2}}), &again),
            Some("t".into())
        );
    }
}
