//! A pull page as the server sends it. A record's fields and versions go out as the JSON text
//! the server stored (checked to be one JSON object), not decoded into values and encoded again:
//! the JSON is the same a [`PullResponse`] of the same page makes, and serving a page costs
//! little more than copying its records (issue 13: decoding and re-encoding them was most of a
//! first sync's server time). To a device that asks
//! ([`PullRequest::common_version`](pocketbook_protocol::wire::PullRequest::common_version)), a
//! record's common version goes once, as `version`, and `versions` lists only the others.
//! Decoded into a [`PullResponse`] only where a caller wants the types
//! ([`ServedPage::decode`], through exactly the JSON a device reads).

use std::collections::BTreeMap;

use pocketbook_protocol::wire::{PullEntry, PullResponse};
use pocketbook_protocol::{Entity, Provisioning};
use serde::de::IgnoredAny;
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::error::StoreError;

/// One page of a pull, ready to send: the JSON of a [`PullResponse`].
#[derive(Debug, Serialize)]
pub struct ServedPage {
    /// The server's epoch.
    pub epoch: String,
    /// The buckets the device may now see.
    pub buckets: Vec<String>,
    /// Entries in server order within each bucket.
    pub entries: Vec<ServedEntry>,
    /// The cursor per bucket after this page.
    pub cursors: BTreeMap<String, u64>,
    /// Entries still to come after this page (see [`PullResponse::remaining`]).
    pub remaining: u64,
    /// The officer's reference data, when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<Provisioning>,
}

/// One entry of a served page: on the wire, as a [`PullEntry`] of the same entry is.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServedEntry {
    /// A record's current state, its fields and versions as stored.
    Snapshot {
        /// The bucket it came from.
        bucket: String,
        /// Its kind.
        entity: Entity,
        /// Its id.
        id: Uuid,
        /// Its fields: the stored JSON object.
        fields: Box<RawValue>,
        /// The version every field not in `versions` has, when sent once.
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<String>,
        /// The version of each field (those that differ from `version`, when it is sent).
        versions: Box<RawValue>,
        /// Whether it is a tombstone.
        deleted: bool,
    },
    /// Any other entry (a removal, a conflict), as the protocol types it.
    #[serde(untagged)]
    Other(PullEntry),
}

impl ServedEntry {
    /// A snapshot from its stored JSON texts, its common version sent once if `common_version`
    /// (and every field has a version); [`StoreError::Corrupt`] unless each text is one JSON
    /// object (a device would refuse anything else, so the server does not send it).
    pub fn snapshot(
        bucket: &str,
        entity: Entity,
        id: Uuid,
        fields: String,
        versions: String,
        deleted: bool,
        common_version: bool,
    ) -> Result<ServedEntry, StoreError> {
        let fields = stored_object(fields, "record")?;
        let versions = stored_object(versions, "versions")?;
        let (version, versions) = match common_version
            .then(|| take_common_version(fields.get(), versions.get()))
            .flatten()
        {
            Some((common, rest)) => (Some(common), rest),
            None => (None, versions),
        };
        Ok(ServedEntry::Snapshot {
            bucket: bucket.to_string(),
            entity,
            id,
            fields,
            version,
            versions,
            deleted,
        })
    }
}

/// The version most of a record's fields share, and the versions JSON without it: every
/// version of a key that is not a field, and of each field whose version differs. `None` (send
/// every version) when a field has no version — the device would give it the common one — or
/// when there is no field, or the texts are not plain maps of names to version strings.
fn take_common_version(fields: &str, versions: &str) -> Option<(String, Box<RawValue>)> {
    let fields: BTreeMap<&str, IgnoredAny> = serde_json::from_str(fields).ok()?;
    let versions: BTreeMap<&str, &str> = serde_json::from_str(versions).ok()?;
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for field in fields.keys() {
        *counts.entry(versions.get(field)?).or_default() += 1;
    }
    let (common, _) = counts.into_iter().max_by_key(|&(v, n)| (n, v))?;
    let rest: BTreeMap<&str, &str> = versions
        .into_iter()
        .filter(|(key, v)| *v != common || !fields.contains_key(key))
        .collect();
    let rest = serde_json::value::to_raw_value(&rest).ok()?;
    Some((common.to_string(), rest))
}

/// Stored JSON text as it is, once checked to be a single, well-formed JSON object.
fn stored_object(text: String, what: &'static str) -> Result<Box<RawValue>, StoreError> {
    if !text.trim_start().starts_with('{') {
        return Err(StoreError::Corrupt(what));
    }
    RawValue::from_string(text).map_err(|_| StoreError::Corrupt(what))
}

impl ServedPage {
    /// The page as the protocol's types, read from the JSON a device would receive.
    pub fn decode(&self) -> Result<PullResponse, StoreError> {
        let json = serde_json::to_vec(self).map_err(|_| StoreError::Corrupt("pull page"))?;
        serde_json::from_slice(&json).map_err(|_| StoreError::Corrupt("pull page"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pocketbook_protocol::{Hlc, Version};
    use serde_json::{json, Value};

    fn version(millis: u64) -> Version {
        Version {
            hlc: Hlc { millis, counter: 3 },
            node: Uuid::from_u128(9),
        }
    }

    #[test]
    fn a_served_page_is_the_json_of_the_same_page_typed() {
        let id = Uuid::from_u128(1);
        let fields =
            json!({"narrative": "Said \"hello\" — then left.\n", "count": 2, "tags": ["a"]});
        let versions = BTreeMap::from([
            ("count".to_string(), version(1)),
            ("narrative".to_string(), version(2)),
            ("tags".to_string(), version(1)),
        ]);
        let removal = PullEntry::Remove {
            bucket: "team:a".into(),
            entity: Entity::Concern,
            id: Uuid::from_u128(2),
        };
        let typed = PullResponse {
            epoch: "e1".into(),
            buckets: vec!["team:a".into()],
            entries: vec![
                PullEntry::Snapshot {
                    bucket: "team:a".into(),
                    entity: Entity::Visit,
                    id,
                    fields: fields.as_object().cloned().unwrap_or_default(),
                    versions: versions.clone(),
                    deleted: false,
                },
                removal.clone(),
            ],
            cursors: BTreeMap::from([("team:a".to_string(), 7)]),
            remaining: 4,
            reference: None,
        };
        let served = ServedPage {
            epoch: "e1".into(),
            buckets: vec!["team:a".into()],
            entries: vec![
                ServedEntry::snapshot(
                    "team:a",
                    Entity::Visit,
                    id,
                    fields.to_string(),
                    serde_json::to_string(&versions).unwrap(),
                    false,
                    false,
                )
                .unwrap(),
                ServedEntry::Other(removal),
            ],
            cursors: BTreeMap::from([("team:a".to_string(), 7)]),
            remaining: 4,
            reference: None,
        };
        assert_eq!(
            serde_json::to_value(&served).unwrap(),
            serde_json::to_value(&typed).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&served).unwrap(),
            serde_json::to_string(&typed).unwrap(),
            "byte for byte, as the typed page was sent before"
        );
        assert_eq!(served.decode().unwrap(), typed);
    }

    #[test]
    fn stored_text_that_is_not_one_json_object_is_not_sent() {
        for bad in [
            "",
            "[1]",
            "\"x\"",
            "{\"a\":",
            "{\"a\":1} {}",
            "{\"a\":1}x",
            "null",
        ] {
            let made = ServedEntry::snapshot(
                "team:a",
                Entity::Visit,
                Uuid::nil(),
                bad.into(),
                "{}".into(),
                false,
                true,
            );
            assert!(
                matches!(made, Err(StoreError::Corrupt("record"))),
                "{bad:?}: {made:?}"
            );
        }
        let made = ServedEntry::snapshot(
            "team:a",
            Entity::Visit,
            Uuid::nil(),
            "{}".into(),
            "[]".into(),
            false,
            true,
        );
        assert!(matches!(made, Err(StoreError::Corrupt("versions"))));
        let fine: Value = serde_json::to_value(
            ServedEntry::snapshot(
                "b",
                Entity::Visit,
                Uuid::nil(),
                " {\"a\": 1}".into(),
                "{}".into(),
                true,
                false,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(fine["fields"], json!({"a": 1}));
        assert_eq!(fine["deleted"], json!(true));
    }

    /// The snapshot `ServedEntry::snapshot` makes, as a device decodes it.
    fn as_device_reads(fields: &Value, versions: &BTreeMap<String, Version>) -> (Value, PullEntry) {
        let served = ServedEntry::snapshot(
            "b",
            Entity::Visit,
            Uuid::nil(),
            fields.to_string(),
            serde_json::to_string(versions).unwrap(),
            false,
            true,
        )
        .unwrap();
        let wire = serde_json::to_value(&served).unwrap();
        (wire.clone(), serde_json::from_value(wire).unwrap())
    }

    #[test]
    fn a_common_version_is_sent_once_and_the_device_reads_every_version_back() {
        let fields = json!({"a": 1, "b": 2, "c": 3, "d": 4});
        let versions = BTreeMap::from([
            ("a".to_string(), version(1)),
            ("b".to_string(), version(2)),
            ("c".to_string(), version(1)),
            ("d".to_string(), version(1)),
            ("deleted".to_string(), version(1)),
        ]);
        let (wire, read) = as_device_reads(&fields, &versions);
        assert_eq!(wire["version"], json!(version(1)));
        assert_eq!(
            wire["versions"],
            json!({"b": version(2), "deleted": version(1)}),
            "the one that differs, and the key that is not a field"
        );
        let PullEntry::Snapshot { versions: back, .. } = read else {
            panic!("a snapshot")
        };
        assert_eq!(back, versions);

        // A field without a version: every version is sent, none made up.
        let (wire, read) = as_device_reads(&json!({"a": 1, "z": 2}), &versions);
        assert!(wire.get("version").is_none(), "{wire}");
        let PullEntry::Snapshot { versions: back, .. } = read else {
            panic!("a snapshot")
        };
        assert_eq!(back, versions);
        // No fields at all (a tombstone's): as stored.
        let (wire, _) = as_device_reads(&json!({}), &versions);
        assert!(wire.get("version").is_none(), "{wire}");
    }

    #[test]
    fn stored_versions_it_cannot_read_plainly_are_all_sent() {
        let fields = r#"{"a":1,"b":2}"#;
        for versions in [
            // An escaped name, a version that is not a string, a field named twice.
            r#"{"\u0061":"1.0.x","b":"1.0.x"}"#,
            r#"{"a":5,"b":"1.0.x"}"#,
            r#"{"a":"1.0.x","a":"2.0.x","b":"2.0.x"}"#,
        ] {
            let served = ServedEntry::snapshot(
                "b",
                Entity::Visit,
                Uuid::nil(),
                fields.into(),
                versions.into(),
                false,
                true,
            );
            match served {
                Ok(ServedEntry::Snapshot {
                    version,
                    versions: sent,
                    ..
                }) if versions.contains("\\u0061") || versions.contains(":5") => {
                    assert_eq!(version, None, "{versions}");
                    assert_eq!(sent.get(), versions, "sent as stored");
                }
                Ok(ServedEntry::Snapshot {
                    version,
                    versions: sent,
                    ..
                }) => {
                    // A name twice: the last counts, as it does for the device reading the
                    // stored text whole.
                    assert_eq!(version.as_deref(), Some("2.0.x"), "{versions}");
                    assert_eq!(sent.get(), "{}");
                }
                other => panic!("{versions}: {other:?}"),
            }
        }
    }
}
