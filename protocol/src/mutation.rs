//! The mutation: one outbox entry as a device proposes it to the server (DESIGN §5 "Outbox").
//! Also the names of the synced entities and the protective markings that decide buckets.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::clock::Version;

/// A name that is not one of the known values of an enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} name")]
pub struct UnknownName {
    /// Which enumeration was being read.
    pub kind: &'static str,
}

crate::open_enum! {
    /// The kinds of record that sync between device and server. A kind a newer peer adds
    /// decodes to `Unknown` so the rest of its page or push can still be read.
    pub enum Entity {
        /// A child or young person the officer works with.
        YoungPerson = "young_person",
        /// A welfare visit, food parcel delivery, etc.
        Visit = "visit",
        /// A safeguarding concern (its account is immutable once submitted).
        Concern = "concern",
        /// A dated addendum to a concern.
        Addendum = "addendum",
        /// A referral or information-sharing action.
        Action = "action",
        /// School engagement: assemblies, lessons, weapons sweeps.
        Engagement = "engagement",
    }
}

#[cfg(feature = "openapi")]
crate::open_enum::open_enum_schema!(Entity);

/// Government Security Classification marking of a record; with the team it picks the bucket.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Marking {
    /// OFFICIAL: visible to the whole team.
    #[default]
    #[serde(rename = "OFFICIAL")]
    Official,
    /// OFFICIAL-SENSITIVE: author, supervisors and safeguarding leads only.
    #[serde(rename = "OFFICIAL-SENSITIVE")]
    OfficialSensitive,
}

impl Marking {
    /// The marking as written on documents and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Marking::Official => "OFFICIAL",
            Marking::OfficialSensitive => "OFFICIAL-SENSITIVE",
        }
    }
}

impl FromStr for Marking {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "OFFICIAL" => Ok(Marking::Official),
            "OFFICIAL-SENSITIVE" => Ok(Marking::OfficialSensitive),
            _ => Err(UnknownName { kind: "marking" }),
        }
    }
}

/// What a mutation does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MutationKind {
    /// A new record; carries every field.
    Create,
    /// Some fields changed; carries only those.
    Update,
    /// The record became a tombstone.
    Delete,
    /// After a server restore: the device's acknowledged state of a record the restored
    /// server lacks or holds older. Carries every field with the version it had (`versions`,
    /// any node), merged by higher version per field without conflicts. Accepted only from a
    /// device that could see the record, in its first pushes after the new epoch; audited.
    Restore,
}

/// What one edit did to a set field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetDelta {
    /// Elements added.
    #[serde(default)]
    pub added: Vec<Value>,
    /// Elements removed.
    #[serde(default)]
    pub removed: Vec<Value>,
}

impl SetDelta {
    /// The delta that turns `old` into `new` (both JSON arrays); `None` when they hold the same
    /// elements or are not arrays.
    /// Runs in O((n + m) log(n + m)): each side is looked up in a hashed set of the other's
    /// canonical forms; the output keeps the order of the input.
    pub fn between(old: &Value, new: &Value) -> Option<SetDelta> {
        let (old, new) = (old.as_array()?, new.as_array()?);
        let (old_keys, new_keys) = (canonical_set(old), canonical_set(new));
        let delta = SetDelta {
            added: new
                .iter()
                .filter(|v| !old_keys.contains(&canonical(v)))
                .cloned()
                .collect(),
            removed: old
                .iter()
                .filter(|v| !new_keys.contains(&canonical(v)))
                .cloned()
                .collect(),
        };
        (!delta.added.is_empty() || !delta.removed.is_empty()).then_some(delta)
    }
}

/// A set element's canonical text: JSON with every object's keys sorted, so two equal values
/// always give the same text (a key for hashed set operations).
pub fn canonical(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                Value::Object(
                    keys.into_iter()
                        .map(|k| (k.clone(), sorted(&map[k.as_str()])))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    match value {
        Value::Object(_) | Value::Array(_) => sorted(value).to_string(),
        other => other.to_string(),
    }
}

/// The canonical texts of a set's elements.
pub fn canonical_set(values: &[Value]) -> std::collections::HashSet<String> {
    values.iter().map(canonical).collect()
}

/// One outbox entry: the change a device made to one record, with the versions its edit was
/// based on, numbered by the device's own sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// Per-device sequence number, starting at 1, without gaps.
    #[serde(deserialize_with = "crate::wire_numbers::sequence")]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::wire_numbers::sequence_schema)
    )]
    pub seq: u64,
    /// Which kind of record.
    pub entity: Entity,
    /// The record's id (UUIDv7 made on the device that created it).
    pub record_id: Uuid,
    /// Create, update or delete.
    pub kind: MutationKind,
    /// The record's team (part of its bucket).
    pub team_id: Uuid,
    /// The record's marking after this mutation (part of its bucket).
    pub marking: Marking,
    /// The changed fields and their new values.
    pub fields: BTreeMap<String, Value>,
    /// For each changed field, the version it had when the officer edited it. A field that
    /// had none (every field of a create) is absent or `None`.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::clock::base_versions_schema)
    )]
    pub base: BTreeMap<String, Option<Version>>,
    /// For each changed set field, what this edit added and removed, so a concurrent merge
    /// can apply just those to whatever the set holds by then.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sets: BTreeMap<String, SetDelta>,
    /// The version this mutation stamps on every field it changes.
    pub version: Version,
    /// Why the officer made the change, where the authorisation table asks for one (a visit's
    /// delete, a correction of a concern's linked child). Kept in the server's audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `restore` only: the version of every field in `fields` (and of `deleted`, for a
    /// tombstone), as the device last had them acknowledged. `version` is then the highest
    /// of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::clock::optional_field_versions_schema)
    )]
    pub versions: Option<BTreeMap<String, Version>>,
    /// With `restore` only: open conflicts on this record the device held and the restored
    /// server lacked (made between its backup and its restore). The server opens each again,
    /// if its id is the one `conflict_id` gives and the losing version really lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Vec<crate::merge::Conflict>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_names_round_trip_and_unknown_names_are_kept() {
        for e in Entity::KNOWN {
            assert_eq!(e.as_str().parse::<Entity>().as_ref(), Ok(e));
            assert_eq!(serde_json::to_value(e).unwrap(), Value::from(e.as_str()));
        }
        assert_eq!(
            serde_json::from_value::<Entity>(Value::from("homework")).unwrap(),
            Entity::Unknown("homework".into())
        );
    }

    #[test]
    fn marking_uses_the_government_names() {
        assert_eq!(
            serde_json::to_string(&Marking::OfficialSensitive).unwrap(),
            "\"OFFICIAL-SENSITIVE\""
        );
        assert_eq!("OFFICIAL".parse::<Marking>(), Ok(Marking::Official));
        assert!("official".parse::<Marking>().is_err());
    }
}
