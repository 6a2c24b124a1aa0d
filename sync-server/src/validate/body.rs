//! The bounds on a push body's parts the record guard does not see: its audit events (count,
//! entity names, free text, hashes), the conflicts a restore carries and the refusals a
//! reconciling device sends again (counts), and its resolved conflict ids (form; of more than
//! `MAX_RESOLVED_PER_PUSH` only the first are taken and acknowledged, so a device holding more
//! sends the rest next time instead of being refused for good). Checked before the writer lock
//! is taken. Pure.

use pocketbook_protocol::limits::{
    MAX_AUDIT_EVENTS_PER_PUSH, MAX_AUDIT_TEXT_CHARS, MAX_CONFLICTS_PER_RESTORE, MAX_HASH_CHARS,
    MAX_MUTATIONS_PER_PUSH, MAX_NAME_CHARS,
};
use pocketbook_protocol::wire::PushRequest;

use crate::error::PushRefusal;

fn over(field: &str, max: usize, unit: &str) -> Option<PushRefusal> {
    Some(PushRefusal::OverLimit(format!(
        "{field} is over its limit of {max} {unit}"
    )))
}

fn longer(text: Option<&str>, max: usize) -> bool {
    text.is_some_and(|t| t.chars().count() > max)
}

/// Whether a conflict id has the form the server makes: 32 lowercase hex digits.
pub fn is_conflict_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Why the push body is refused before anything is read from the store, if it is.
pub fn push_body_refusal(request: &PushRequest) -> Option<PushRefusal> {
    if request.audit.len() > MAX_AUDIT_EVENTS_PER_PUSH {
        return over("audit", MAX_AUDIT_EVENTS_PER_PUSH, "events");
    }
    for e in &request.audit {
        if longer(e.entity.as_ref().map(|x| x.as_str()), MAX_NAME_CHARS) {
            return over("audit.entity", MAX_NAME_CHARS, "characters");
        }
        if longer(e.justification.as_deref(), MAX_AUDIT_TEXT_CHARS) {
            return over("audit.justification", MAX_AUDIT_TEXT_CHARS, "characters");
        }
        if longer(e.recipient.as_deref(), MAX_AUDIT_TEXT_CHARS) {
            return over("audit.recipient", MAX_AUDIT_TEXT_CHARS, "characters");
        }
        if longer(Some(&e.hash), MAX_HASH_CHARS) || longer(Some(&e.prev_hash), MAX_HASH_CHARS) {
            return over("audit.hash", MAX_HASH_CHARS, "characters");
        }
    }
    for m in &request.mutations {
        if longer(Some(m.entity.as_str()), MAX_NAME_CHARS) {
            return over("mutations.entity", MAX_NAME_CHARS, "characters");
        }
        if m.conflicts
            .as_ref()
            .is_some_and(|c| c.len() > MAX_CONFLICTS_PER_RESTORE)
        {
            return over(
                "mutations.conflicts",
                MAX_CONFLICTS_PER_RESTORE,
                "conflicts",
            );
        }
    }
    if request.refused.len() > MAX_MUTATIONS_PER_PUSH {
        return over("refused", MAX_MUTATIONS_PER_PUSH, "changes");
    }
    for r in &request.refused {
        if longer(Some(r.mutation.entity.as_str()), MAX_NAME_CHARS) {
            return over("refused.mutation.entity", MAX_NAME_CHARS, "characters");
        }
    }
    if !request.resolved.iter().all(|id| is_conflict_id(id)) {
        return Some(PushRefusal::Invalid(
            "a resolved conflict id is not of the form the server makes".into(),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_ids_must_look_like_the_servers() {
        let ok = "0123456789abcdef0123456789abcdef".to_string();
        let mut request = PushRequest {
            mutations: vec![],
            audit: vec![],
            resolved: vec![ok.clone()],
            epoch: None,
            acked: None,
            refused: Vec::new(),
        };
        assert_eq!(push_body_refusal(&request), None);
        request.resolved = vec!["x".repeat(10_000)];
        assert!(matches!(
            push_body_refusal(&request),
            Some(PushRefusal::Invalid(_))
        ));
        request.resolved = vec![ok.to_uppercase()];
        assert!(push_body_refusal(&request).is_some());
    }
}
