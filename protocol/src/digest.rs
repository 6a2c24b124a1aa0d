//! The digest of a mutation (issue 12, forks): SHA-256 over its canonical JSON, so the device
//! and the server compute the same digest for the same change and the server can tell a
//! resend (same digest at a seq it holds) from a fork (another change at that seq). The
//! version and bases are left out: a device whose clock was corrected re-stamps every change
//! it has no answer for, and one the server took before the answer was lost comes back with
//! another version but is the same change, not a fork.

use sha2::{Digest, Sha256};

use crate::mutation::{canonical, Mutation};

/// SHA-256 (hex) of `m`'s canonical JSON (every object's keys sorted) without its `version`
/// and `base`. Two mutations have the same digest exactly when they are equal but for those.
pub fn mutation_digest(m: &Mutation) -> String {
    // Serialising a plain struct of strings, numbers and maps to a Value cannot fail.
    let mut value = serde_json::to_value(m).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("version");
        map.remove("base");
    }
    hex::encode(Sha256::digest(canonical(&value).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::mutation_digest;
    use crate::{Entity, Hlc, Marking, Mutation, MutationKind, Version};
    use uuid::Uuid;

    fn sample() -> Mutation {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("summary".into(), "a".into());
        fields.insert("attendees".into(), serde_json::json!(["x", "y"]));
        Mutation {
            seq: 3,
            entity: Entity::Visit,
            record_id: Uuid::from_u128(7),
            kind: MutationKind::Create,
            team_id: Uuid::from_u128(9),
            marking: Marking::Official,
            fields,
            base: Default::default(),
            sets: Default::default(),
            version: Version {
                hlc: Hlc {
                    millis: 1_700_000_000_000,
                    counter: 0,
                },
                node: Uuid::from_u128(1),
            },
            reason: None,
            versions: None,
            conflicts: None,
        }
    }

    #[test]
    fn equal_mutations_agree_and_any_change_differs() {
        let a = sample();
        let d = mutation_digest(&a);
        assert_eq!(d.len(), 64);
        assert_eq!(d, mutation_digest(&a.clone()));
        // Key order inside a value does not matter.
        let mut one = a.clone();
        one.fields
            .insert("place".into(), serde_json::json!({"a": 1, "b": 2}));
        let mut two = a.clone();
        two.fields
            .insert("place".into(), serde_json::json!({"b": 2, "a": 1}));
        assert_eq!(mutation_digest(&one), mutation_digest(&two));
        let mut other = a.clone();
        other.fields.insert("summary".into(), "b".into());
        assert_ne!(d, mutation_digest(&other));
        let mut restamped = a.clone();
        restamped.version.hlc.millis += 60_000;
        restamped.base.insert("summary".into(), Some(a.version));
        assert_eq!(
            d,
            mutation_digest(&restamped),
            "a clock correction's re-stamp is the same change"
        );
        let mut renumbered = a;
        renumbered.seq = 4;
        assert_ne!(d, mutation_digest(&renumbered));
    }
}
