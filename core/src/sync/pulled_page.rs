//! A pull page as the device reads it: the wire's `PullResponse`, but each snapshot's fields
//! kept as the text the server sent and its versions as sent (the common version once, the
//! others listed). A first sync's records are written from that text as they are, instead of
//! being built into JSON maps, each common version copied to every field, and all of it written
//! back out again; only a record with edits still pending, a tombstone or one of a kind this
//! build does not know is read into a [`RecordState`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::merge::RecordState;
use pocketbook_protocol::reference::Provisioning;
use pocketbook_protocol::wire::{PullEntry, PullEntryKind, PullResponse, RawPullEntry};
use pocketbook_protocol::{Entity, Version};

use crate::error::{Error, Result};

/// A page of a pull ([`PullResponse`] on the wire).
#[derive(Debug, Deserialize)]
pub(crate) struct PulledPage {
    /// The server's epoch.
    pub epoch: String,
    /// The buckets this device may now see.
    pub buckets: Vec<String>,
    /// Entries in server order within each bucket.
    pub entries: Vec<PulledEntry>,
    /// The cursor per bucket after this page.
    pub cursors: BTreeMap<String, u64>,
    /// Entries still to come after this page (see [`PullResponse::remaining`]).
    pub remaining: u64,
    /// The officer's reference data, when asked.
    #[serde(default)]
    pub reference: Option<Provisioning>,
}

/// One entry of a pulled page: a snapshot as sent, or any other entry as the wire reads it.
#[derive(Debug, Deserialize)]
#[serde(try_from = "RawEntry")]
pub(crate) enum PulledEntry {
    /// A record's current state.
    Snapshot(PulledSnapshot),
    /// A removal, a conflict or an entry of a kind this build does not know.
    Other(PullEntry),
}

/// A snapshot entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PulledSnapshot {
    /// The bucket it came from.
    pub bucket: String,
    /// Its kind.
    pub entity: Entity,
    /// Its id.
    pub id: Uuid,
    /// Its state.
    pub state: SentState,
}

/// A record's state as the server sent it.
#[derive(Debug, Clone)]
pub(crate) struct SentState {
    /// Its fields: a JSON object, as the text the server sent.
    fields: Box<RawValue>,
    /// The version of every field not in `listed`, when the server sent it once.
    common: Option<Version>,
    /// The versions listed one by one (all of them, from a server that does not send the
    /// common version once).
    listed: BTreeMap<String, Version>,
    /// Whether it is a tombstone.
    pub deleted: bool,
}

impl PartialEq for SentState {
    fn eq(&self, other: &Self) -> bool {
        self.fields.get() == other.fields.get()
            && self.common == other.common
            && self.listed == other.listed
            && self.deleted == other.deleted
    }
}

impl SentState {
    /// The fields as the server sent them: a JSON object.
    pub(crate) fn fields_text(&self) -> &str {
        self.fields.get()
    }

    /// The version of every field not listed, when sent once.
    pub(crate) fn common(&self) -> Option<Version> {
        self.common
    }

    /// The versions listed one by one.
    pub(crate) fn listed(&self) -> &BTreeMap<String, Version> {
        &self.listed
    }

    /// Every version the state carries, the common one once (the server takes it from the
    /// record's fields, so it is some field's version).
    pub(crate) fn versions(&self) -> impl Iterator<Item = Version> + '_ {
        self.common.into_iter().chain(self.listed.values().copied())
    }

    /// The state read into maps, every field with its own version.
    pub(crate) fn into_state(self) -> Result<RecordState> {
        let fields: Map<String, Value> =
            serde_json::from_str(self.fields.get()).map_err(|_| unreadable_page())?;
        let mut versions = self.listed;
        if let Some(common) = self.common {
            for field in fields.keys() {
                versions.entry(field.clone()).or_insert(common);
            }
        }
        Ok(RecordState {
            fields,
            versions,
            deleted: self.deleted,
        })
    }

    /// A state as a server that lists every version would send it.
    pub(crate) fn from_state(state: &RecordState) -> Result<SentState> {
        let fields =
            serde_json::value::to_raw_value(&state.fields).map_err(|_| Error::Corrupt {
                what: "pulled record",
            })?;
        Ok(SentState {
            fields,
            common: None,
            listed: state.versions.clone(),
            deleted: state.deleted,
        })
    }
}

/// What a page whose records do not read fails with (as a page that does not decode does).
fn unreadable_page() -> Error {
    Error::Network {
        reason: "unreadable answer from the server".into(),
    }
}

/// Every field any pull entry has, flat, a snapshot's fields kept as text: what a
/// [`PulledEntry`] is read as before it is checked (as the wire's [`RawPullEntry`]).
#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "type")]
    kind: PullEntryKind,
    bucket: String,
    #[serde(default)]
    entity: Option<Entity>,
    #[serde(default)]
    id: Option<Uuid>,
    #[serde(default)]
    fields: Option<Box<RawValue>>,
    #[serde(default)]
    versions: Option<BTreeMap<String, Version>>,
    #[serde(default)]
    version: Option<Version>,
    #[serde(default)]
    deleted: Option<bool>,
    #[serde(default)]
    conflict: Option<Conflict>,
    #[serde(default)]
    resolved: Option<bool>,
}

impl TryFrom<RawEntry> for PulledEntry {
    type Error = String;

    fn try_from(raw: RawEntry) -> std::result::Result<Self, String> {
        if raw.kind != PullEntryKind::Snapshot {
            return PullEntry::try_from(RawPullEntry {
                kind: raw.kind,
                bucket: raw.bucket,
                entity: raw.entity,
                id: raw.id,
                fields: None,
                versions: raw.versions,
                version: raw.version,
                deleted: raw.deleted,
                conflict: raw.conflict,
                resolved: raw.resolved,
            })
            .map(PulledEntry::Other);
        }
        let missing = |field: &str| format!("a snapshot entry needs `{field}`");
        let fields = raw.fields.ok_or_else(|| missing("fields"))?;
        // Valid JSON that opens with a brace is an object; it must also read into a map, as
        // every reader of a stored record reads it (and as the wire's own entry is read).
        if !fields.get().starts_with('{') {
            return Err("a snapshot's fields are an object".into());
        }
        if !reads_as_values(fields.get()) {
            return Err("a snapshot's fields do not read as JSON values".into());
        }
        let listed = match (raw.version, raw.versions) {
            (Some(_), listed) => listed.unwrap_or_default(),
            (None, Some(listed)) => listed,
            (None, None) => return Err(missing("versions")),
        };
        Ok(PulledEntry::Snapshot(PulledSnapshot {
            entity: raw.entity.ok_or_else(|| missing("entity"))?,
            id: raw.id.ok_or_else(|| missing("id"))?,
            state: SentState {
                fields,
                common: raw.version,
                listed,
                deleted: raw.deleted.ok_or_else(|| missing("deleted"))?,
            },
            bucket: raw.bucket,
        }))
    }
}

/// Whether `text` reads into JSON values as a map of fields would read it, building nothing:
/// every number within range, every string whole (no lone surrogate escape), nesting within
/// `serde_json`'s limit. [`RawValue`] checks only the syntax, and a model skips unknown members
/// of its nested parts unread, so without this a server could have a record stored that every
/// later read of it refuses.
fn reads_as_values(text: &str) -> bool {
    serde_json::from_str::<Readable>(text).is_ok()
}

/// Any JSON value, read through as [`Value`] would be and dropped.
struct Readable;

impl<'de> Deserialize<'de> for Readable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_any(ReadableVisitor)
    }
}

/// Visits a [`Readable`]: accepts every kind of value, reading arrays and objects through.
struct ReadableVisitor;

impl<'de> Visitor<'de> for ReadableVisitor {
    type Value = Readable;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> std::result::Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_i64<E>(self, _: i64) -> std::result::Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_u64<E>(self, _: u64) -> std::result::Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_f64<E>(self, _: f64) -> std::result::Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_unit<E>(self) -> std::result::Result<Readable, E> {
        Ok(Readable)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Readable, A::Error> {
        while seq.next_element::<Readable>()?.is_some() {}
        Ok(Readable)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Readable, A::Error> {
        while map.next_entry::<Readable, Readable>()?.is_some() {}
        Ok(Readable)
    }
}

impl TryFrom<PullResponse> for PulledPage {
    type Error = Error;

    /// The page as a device would read it off the wire from a server that lists every version.
    fn try_from(page: PullResponse) -> Result<PulledPage> {
        let entries = page
            .entries
            .into_iter()
            .map(|entry| match entry {
                PullEntry::Snapshot {
                    bucket,
                    entity,
                    id,
                    fields,
                    versions,
                    deleted,
                } => Ok(PulledEntry::Snapshot(PulledSnapshot {
                    bucket,
                    entity,
                    id,
                    state: SentState::from_state(&RecordState {
                        fields,
                        versions,
                        deleted,
                    })?,
                })),
                other => Ok(PulledEntry::Other(other)),
            })
            .collect::<Result<_>>()?;
        Ok(PulledPage {
            epoch: page.epoch,
            buckets: page.buckets,
            entries,
            cursors: page.cursors,
            remaining: page.remaining,
            reference: page.reference,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pocketbook_protocol::Hlc;
    use serde_json::json;

    fn v(millis: u64) -> Version {
        Version {
            hlc: Hlc { millis, counter: 1 },
            node: Uuid::from_u128(3),
        }
    }

    fn entry(value: Value) -> std::result::Result<PulledEntry, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn a_snapshot_keeps_its_fields_as_sent_and_reads_as_the_wire_entry_does() {
        let sent = json!({
            "type": "snapshot", "bucket": "team:a", "entity": "visit",
            "id": Uuid::from_u128(1), "fields": {"a": 1, "b": "two", "c": [3]},
            "version": v(5), "versions": {"c": v(6), "deleted": v(2)}, "deleted": false,
        });
        let Ok(PulledEntry::Snapshot(snapshot)) = entry(sent.clone()) else {
            panic!("not a snapshot")
        };
        assert_eq!(snapshot.state.fields_text(), r#"{"a":1,"b":"two","c":[3]}"#);
        assert_eq!(snapshot.state.common(), Some(v(5)));
        let mut versions: Vec<Version> = snapshot.state.versions().collect();
        versions.sort();
        assert_eq!(versions, [v(2), v(5), v(6)]);

        // Read into maps, it is what the wire's own entry reads.
        let wire: PullEntry = serde_json::from_value(sent).unwrap();
        let PullEntry::Snapshot {
            fields,
            versions,
            deleted,
            ..
        } = wire
        else {
            panic!("not a snapshot")
        };
        let expected = RecordState {
            fields,
            versions,
            deleted,
        };
        assert_eq!(snapshot.state.into_state().unwrap(), expected);
        let listed = SentState::from_state(&expected).unwrap();
        assert_eq!(listed.common(), None);
        assert_eq!(listed.into_state().unwrap(), expected);
    }

    #[test]
    fn other_entries_read_as_the_wire_reads_them_and_a_bad_snapshot_is_refused() {
        let removal = json!({"type": "remove", "bucket": "team:a", "entity": "visit",
                             "id": Uuid::from_u128(1)});
        let Ok(PulledEntry::Other(other)) = entry(removal.clone()) else {
            panic!("not read")
        };
        assert_eq!(other, serde_json::from_value::<PullEntry>(removal).unwrap());
        let newer = json!({"type": "digest", "bucket": "team:a"});
        assert!(matches!(
            entry(newer),
            Ok(PulledEntry::Other(PullEntry::Unknown { .. }))
        ));
        for bad in [
            json!({"type": "snapshot", "bucket": "b", "entity": "visit", "id": Uuid::nil(),
                   "fields": [1], "versions": {}, "deleted": false}),
            json!({"type": "snapshot", "bucket": "b", "entity": "visit", "id": Uuid::nil(),
                   "fields": {}, "deleted": false}),
            json!({"type": "snapshot", "bucket": "b", "id": Uuid::nil(),
                   "fields": {}, "version": v(1), "deleted": false}),
            json!({"type": "remove", "bucket": "b", "entity": "visit"}),
        ] {
            assert!(entry(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn fields_that_would_not_read_into_a_map_refuse_the_entry_as_the_wire_refuses_it() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        for fields in [
            r#"{"carers":[{"name":"A","x":1e400}]}"#.to_string(),
            r#"{"narrative":"ok","extra":{"s":"\ud800"}}"#.to_string(),
            format!(r#"{{"nested":{deep}}}"#),
        ] {
            // What RawValue alone lets through.
            assert!(
                serde_json::from_str::<Box<RawValue>>(&fields).is_ok(),
                "{fields}"
            );
            let text = format!(
                r#"{{"type":"snapshot","bucket":"b","entity":"visit","id":"{}",
                    "fields":{fields},"version":{},"deleted":false}}"#,
                Uuid::nil(),
                serde_json::to_string(&v(1)).unwrap()
            );
            assert!(
                serde_json::from_str::<PulledEntry>(&text).is_err(),
                "{fields}"
            );
            assert!(
                serde_json::from_str::<PullEntry>(&text).is_err(),
                "{fields}"
            );
        }
        // Anything a map reads, read through: escapes, numbers, nesting, duplicates, nulls.
        let fine = r#"{"a":"\u00e9\ud83d\ude00\n","b":[1,-2,3.5e10,null,true],"c":{"d":{}},"a":0}"#;
        assert!(reads_as_values(fine));
        assert!(serde_json::from_str::<Map<String, Value>>(fine).is_ok());
    }
}
