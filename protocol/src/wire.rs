//! Request and response bodies of the sync protocol v1 (DESIGN §5), shared by the server and
//! the device's sync client. Every request carries the protocol version in the
//! `Pocketbook-Protocol` header; every error body is [`ErrorBody`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::clock::Version;
use crate::codes::{ErrorCode, RejectCode};
use crate::merge::Conflict;
use crate::mutation::{Entity, Mutation};
use crate::reference::Provisioning;

/// The header that names the protocol version of a request.
pub const PROTOCOL_HEADER: &str = "pocketbook-protocol";

/// Every error the server answers: a stable machine code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable code, e.g. `device_revoked`, `upgrade_required`, `invalid_json`.
    pub code: ErrorCode,
    /// What went wrong, for people. Never holds personal data.
    pub message: String,
    /// With `clock_skew`: the server's clock (ms since the epoch), so the device can correct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time_ms: Option<u64>,
    /// With `upgrade_required`: the protocol versions the server accepts, so the device can
    /// tell whether it or the server is behind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supported_protocols: Option<ProtocolRange>,
    /// With `epoch_changed`: the server's current epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// With `device_forked`: the longest prefix of the device's positions the server holds as
    /// sent (the device drops what is at or below it and re-stamps the rest under a new id).
    /// With `epoch_changed`: what the restored server holds of this device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<AckedPosition>,
    /// With `resync_required`: the buckets to pull again from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<Vec<String>>,
}

/// A device's position in its own two sequences, as acknowledged by the server: its highest
/// acknowledged mutation, and its highest acknowledged audit event with that event's hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AckedPosition {
    /// Highest mutation sequence number acknowledged (0: none).
    #[serde(deserialize_with = "crate::wire_numbers::counter")]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::wire_numbers::counter_schema)
    )]
    pub seq: u64,
    /// Highest audit event sequence number acknowledged (0: none).
    #[serde(deserialize_with = "crate::wire_numbers::counter")]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::wire_numbers::counter_schema)
    )]
    pub audit_seq: u64,
    /// Hash of that audit event (the chain's genesis hash when `audit_seq` is 0).
    pub audit_head: String,
}

/// A range of protocol versions, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProtocolRange {
    /// The oldest version accepted.
    pub min: u32,
    /// The newest version accepted.
    pub max: u32,
}

impl ProtocolRange {
    /// The versions this build accepts.
    pub fn this_build() -> Self {
        ProtocolRange {
            min: crate::MIN_PROTOCOL_VERSION,
            max: crate::PROTOCOL_VERSION,
        }
    }
}

/// How far ahead of the server's clock a mutation may be stamped before it is refused with
/// `clock_skew` (5 minutes).
pub const MAX_CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;

/// `POST /v1/enroll`: exchange a one-time code for a device token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    /// The one-time enrolment code an admin issued.
    #[cfg_attr(feature = "openapi", schema(pattern = "\\S"))]
    pub code: String,
    /// The device id the store made at creation.
    pub device_id: Uuid,
    /// A name for the device (at most 200 characters).
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub device_name: String,
    /// Proof of possession when `device_id` is already enrolled (re-authentication): that
    /// device's current or lapsed bearer token. Without it, enrolling a device id the server
    /// holds is refused `409 device_taken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The answer to an enrolment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    /// The bearer token (256 random bits, hex). The server keeps only its SHA-256.
    pub token: String,
    /// The server's own id (the node id of changes it makes).
    pub server_id: Uuid,
    /// The officer, their teams, colleagues and establishments.
    pub provisioning: Provisioning,
    /// How long the device may go without syncing before it must re-authenticate.
    pub lease_seconds: u64,
}

/// `POST /v1/sync/push`: a run of outbox entries and the audit events that go with them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// Mutations in sequence order.
    pub mutations: Vec<Mutation>,
    /// The device's audit events not yet sent, in chain order.
    #[serde(default)]
    pub audit: Vec<AuditEvent>,
    /// Conflicts resolved on the device since its last push.
    #[serde(default)]
    pub resolved: Vec<String>,
    /// The server epoch the device last synced with (absent before its first pull). A push
    /// naming another epoch than the server's is answered `409 epoch_changed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<String>,
    /// What the server last acknowledged to this device. The server compares it, and every
    /// resent mutation and audit event, with what it stored: a difference is
    /// `409 device_forked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked: Option<AckedPosition>,
    /// While reconciling with a server restored from a backup: changes the server refused
    /// after that backup (the restore lost its quarantine of them), sent again so they are
    /// quarantined again for an admin to see. Ignored at any other time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<RefusedMutation>,
}

/// A change the server once refused, as the device kept it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefusedMutation {
    /// Why the server refused it.
    pub code: RejectCode,
    /// The change as it was sent.
    pub mutation: Mutation,
}

/// What the server did with one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PushOutcome {
    /// Applied as sent (every field fast-forwarded), or already applied before (a resend).
    Applied,
    /// Reconciled with concurrent edits; lists the conflicts it made.
    Merged {
        /// Ids of the conflicts this mutation made.
        conflicts: Vec<String>,
    },
    /// Refused and quarantined on the server; the device must not resend it.
    Rejected {
        /// Stable code, e.g. `forbidden_bucket`, `account_immutable`, `invalid_record`.
        code: RejectCode,
        /// Why, for people.
        message: String,
    },
}

/// The result for one mutation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResult {
    /// The mutation's sequence number.
    pub seq: u64,
    /// What happened to it.
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

/// The answer to a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    /// One result per mutation sent, in order.
    pub results: Vec<PushResult>,
    /// The highest sequence number the server has taken from this device; the device drops
    /// its outbox up to here.
    pub acked_seq: u64,
    /// The highest audit sequence number the server holds for this device.
    pub audit_acked_seq: u64,
    /// The conflict resolutions the server has taken (unknown or already resolved ones too);
    /// the device stops sending them.
    #[serde(default)]
    pub resolved: Vec<String>,
    /// The server's clock (ms since the epoch).
    pub server_time_ms: u64,
    /// The generation of the record model the server validates with
    /// (`pocketbook_model::MODEL_GENERATION`). A device holding mutations refused as
    /// `server_too_old` resends them once this is higher than when they were refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_generation: Option<u32>,
}

/// `POST /v1/sync/pull`: the device's cursor per bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullRequest {
    /// The server epoch the cursors belong to (absent on a first pull).
    #[serde(default)]
    pub epoch: Option<String>,
    /// Last position seen in each bucket.
    #[serde(default, deserialize_with = "crate::wire_numbers::counter_map")]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::wire_numbers::counter_map_schema)
    )]
    pub cursors: BTreeMap<String, u64>,
    /// Most entries wanted in this page.
    #[serde(default, deserialize_with = "crate::wire_numbers::optional_u32")]
    #[cfg_attr(
        feature = "openapi",
        schema(schema_with = crate::wire_numbers::optional_u32_schema)
    )]
    pub limit: Option<u32>,
    /// Whether to send the officer's current reference data (asked on a sync's first page).
    #[serde(default)]
    pub reference: bool,
    /// Whether the device reads a snapshot's common version sent once: a snapshot may then
    /// carry `version`, the version of every field it lists in `fields` but not in `versions`
    /// (most fields of a record share the version of the change that wrote them, and sending it
    /// once for each halves a page). Servers that predate it ignore it and send every version;
    /// devices that predate it do not ask, and are sent every version.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub common_version: bool,
}

/// One entry of a pull page. On the wire an object tagged by `type`; read through
/// [`RawPullEntry`] so a page of snapshots streams into place instead of being buffered and
/// parsed twice, as serde's internally tagged enums are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "RawPullEntry")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PullEntry {
    /// A record's current state.
    Snapshot {
        /// The bucket it came from.
        bucket: String,
        /// Its kind.
        entity: Entity,
        /// Its id.
        id: Uuid,
        /// Its fields.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        fields: Map<String, Value>,
        /// The version of each field. On the wire, to a device that asked for the common
        /// version once ([`PullRequest::common_version`]), a snapshot may also carry `version`
        /// and list here only the versions that differ from it (and of keys that are not
        /// fields); read, every field has its own again.
        versions: BTreeMap<String, Version>,
        /// Whether it is a tombstone.
        deleted: bool,
    },
    /// A record that left this bucket (moved, or out of the officer's sight).
    Remove {
        /// The bucket it left.
        bucket: String,
        /// Its kind.
        entity: Entity,
        /// Its id.
        id: Uuid,
    },
    /// A conflict in this bucket (or its resolution, with `resolved`).
    Conflict {
        /// The bucket.
        bucket: String,
        /// The conflict.
        conflict: Conflict,
        /// Whether someone has resolved it.
        resolved: bool,
    },
    /// An entry of a kind this build does not know (sent by a newer server). The device
    /// skips it; its bucket's cursor still moves on. Never sent.
    #[serde(skip_serializing)]
    Unknown {
        /// The entry's `type` as sent.
        kind: String,
        /// The bucket it came from.
        bucket: String,
    },
}

crate::open_enum! {
    /// The kinds of pull entry, as the `type` tag names them.
    pub enum PullEntryKind {
        /// [`PullEntry::Snapshot`].
        Snapshot = "snapshot",
        /// [`PullEntry::Remove`].
        Remove = "remove",
        /// [`PullEntry::Conflict`].
        Conflict = "conflict",
    }
}

/// Every field any pull entry has, flat: what a [`PullEntry`] is read as before it is checked.
#[derive(Debug, Deserialize)]
pub struct RawPullEntry {
    /// Which entry.
    #[serde(rename = "type")]
    pub kind: PullEntryKind,
    /// The bucket.
    pub bucket: String,
    /// A snapshot's or removal's kind of record.
    #[serde(default)]
    pub entity: Option<Entity>,
    /// A snapshot's or removal's record id.
    #[serde(default)]
    pub id: Option<Uuid>,
    /// A snapshot's fields.
    #[serde(default)]
    pub fields: Option<Map<String, Value>>,
    /// A snapshot's field versions (with `version`, only those that differ from it).
    #[serde(default)]
    pub versions: Option<BTreeMap<String, Version>>,
    /// A snapshot's common version, when the device asked for it
    /// ([`PullRequest::common_version`]): the version of every field not in `versions`.
    #[serde(default)]
    pub version: Option<Version>,
    /// Whether a snapshot is a tombstone.
    #[serde(default)]
    pub deleted: Option<bool>,
    /// A conflict entry's conflict.
    #[serde(default)]
    pub conflict: Option<Conflict>,
    /// Whether a conflict is resolved.
    #[serde(default)]
    pub resolved: Option<bool>,
}

impl TryFrom<RawPullEntry> for PullEntry {
    type Error = String;

    fn try_from(raw: RawPullEntry) -> Result<Self, String> {
        let missing = |field: &str| format!("a {} entry needs `{field}`", raw.kind);
        Ok(match raw.kind {
            PullEntryKind::Snapshot => {
                let fields = raw.fields.ok_or_else(|| missing("fields"))?;
                let versions = match raw.version {
                    // The common version sent once: every field not listed has it.
                    Some(common) => {
                        let mut versions = raw.versions.unwrap_or_default();
                        for field in fields.keys() {
                            versions.entry(field.clone()).or_insert(common);
                        }
                        versions
                    }
                    None => raw.versions.ok_or_else(|| missing("versions"))?,
                };
                PullEntry::Snapshot {
                    entity: raw.entity.ok_or_else(|| missing("entity"))?,
                    id: raw.id.ok_or_else(|| missing("id"))?,
                    fields,
                    versions,
                    deleted: raw.deleted.ok_or_else(|| missing("deleted"))?,
                    bucket: raw.bucket,
                }
            }
            PullEntryKind::Remove => PullEntry::Remove {
                entity: raw.entity.ok_or_else(|| missing("entity"))?,
                id: raw.id.ok_or_else(|| missing("id"))?,
                bucket: raw.bucket,
            },
            PullEntryKind::Conflict => PullEntry::Conflict {
                conflict: raw.conflict.ok_or_else(|| missing("conflict"))?,
                resolved: raw.resolved.ok_or_else(|| missing("resolved"))?,
                bucket: raw.bucket,
            },
            PullEntryKind::Unknown(kind) => PullEntry::Unknown {
                kind,
                bucket: raw.bucket,
            },
        })
    }
}

/// A page of a pull.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    /// The server's epoch; a device holding cursors of another epoch starts again from 0.
    pub epoch: String,
    /// The buckets this device may now see; cursors of any other bucket are to be dropped.
    pub buckets: Vec<String>,
    /// Entries in server order within each bucket.
    pub entries: Vec<PullEntry>,
    /// The cursor per bucket after this page.
    pub cursors: BTreeMap<String, u64>,
    /// Entries still to come after this page: counted exactly on a page asked with reference
    /// data (a sync's first), and on later pages only up to ten pages ahead (0 still means
    /// nothing is left).
    pub remaining: u64,
    /// The officer, their teams, colleagues and establishments as they stand now, when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Provisioning>,
}

#[cfg(feature = "openapi")]
crate::open_enum::open_enum_schema!(PullEntryKind);

/// Name of a team's bucket.
pub fn team_bucket(team_id: Uuid) -> String {
    format!("team:{team_id}")
}

/// Name of a team's sensitive bucket.
pub fn sensitive_bucket(team_id: Uuid) -> String {
    format!("sensitive:{team_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Hlc;
    use serde_json::json;

    fn version() -> Version {
        Version {
            hlc: Hlc {
                millis: 1_700_000_000_000,
                counter: 2,
            },
            node: Uuid::from_u128(7),
        }
    }

    #[test]
    fn every_pull_entry_round_trips_through_its_tagged_wire_form() {
        let id = Uuid::from_u128(1);
        let entries = vec![
            PullEntry::Snapshot {
                bucket: "team:a".into(),
                entity: Entity::Visit,
                id,
                fields: json!({"narrative": "n", "team_id": "t"})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                versions: [("narrative".to_string(), version())].into(),
                deleted: false,
            },
            PullEntry::Remove {
                bucket: "team:a".into(),
                entity: Entity::Concern,
                id,
            },
            PullEntry::Conflict {
                bucket: "team:a".into(),
                conflict: Conflict {
                    id: "c1".into(),
                    entity: Entity::Visit,
                    record_id: id,
                    field: "narrative".into(),
                    losing_value: json!("a"),
                    losing_version: version(),
                    winning_value: json!("b"),
                    winning_version: version(),
                },
                resolved: true,
            },
        ];
        for entry in entries {
            let wire = serde_json::to_value(&entry).unwrap();
            assert!(wire["type"].is_string(), "tagged by type: {wire}");
            let back: PullEntry = serde_json::from_value(wire).unwrap();
            assert_eq!(back, entry);
        }
    }

    #[test]
    fn a_common_version_sent_once_is_every_unlisted_field_s_version() {
        let later = Version {
            hlc: Hlc {
                millis: 1_700_000_000_001,
                counter: 0,
            },
            node: Uuid::from_u128(8),
        };
        let wire = json!({"type": "snapshot", "bucket": "b", "entity": "visit",
            "id": Uuid::from_u128(1), "fields": {"a": 1, "b": 2, "c": 3},
            "version": version(), "versions": {"b": later, "deleted": later},
            "deleted": true});
        let PullEntry::Snapshot { versions, .. } = serde_json::from_value(wire).unwrap() else {
            panic!("a snapshot");
        };
        assert_eq!(
            versions,
            BTreeMap::from([
                ("a".to_string(), version()),
                ("b".to_string(), later),
                ("c".to_string(), version()),
                ("deleted".to_string(), later),
            ]),
            "listed ones kept, even those not among the fields; the rest the common one"
        );
        // With the common version, `versions` may be left out; without it, it may not.
        let all_common = json!({"type": "snapshot", "bucket": "b", "entity": "visit",
            "id": Uuid::from_u128(1), "fields": {"a": 1}, "version": version(),
            "deleted": false});
        let PullEntry::Snapshot { versions, .. } = serde_json::from_value(all_common).unwrap()
        else {
            panic!("a snapshot");
        };
        assert_eq!(versions, BTreeMap::from([("a".to_string(), version())]));
        let neither = json!({"type": "snapshot", "bucket": "b", "entity": "visit",
            "id": Uuid::from_u128(1), "fields": {"a": 1}, "deleted": false});
        let err = serde_json::from_value::<PullEntry>(neither).unwrap_err();
        assert!(err.to_string().contains("versions"), "{err}");
        // A device that does not ask says nothing of it: the request is as it always was.
        let plain = serde_json::to_value(PullRequest::default()).unwrap();
        assert!(plain.get("common_version").is_none(), "{plain}");
    }

    #[test]
    fn a_pull_entry_missing_a_field_or_of_an_unknown_type_is_refused() {
        let missing = json!({"type": "snapshot", "bucket": "b", "entity": "visit",
            "id": Uuid::from_u128(1), "fields": {}, "versions": {}});
        let err = serde_json::from_value::<PullEntry>(missing).unwrap_err();
        assert!(err.to_string().contains("deleted"), "{err}");
    }

    #[test]
    fn a_page_with_an_unknown_entry_type_and_an_unknown_entity_still_decodes() {
        let page = json!({
            "epoch": "e",
            "buckets": ["team:a"],
            "entries": [
                {"type": "rumour", "bucket": "team:a", "whisper": 3},
                {"type": "snapshot", "bucket": "team:a", "entity": "homework",
                 "id": Uuid::from_u128(1), "fields": {"due": "monday"}, "versions": {},
                 "deleted": false},
                {"type": "remove", "bucket": "team:a", "entity": "visit",
                 "id": Uuid::from_u128(2)},
            ],
            "cursors": {"team:a": 3},
            "remaining": 0,
        });
        let page: PullResponse = serde_json::from_value(page).unwrap();
        assert_eq!(
            page.entries[0],
            PullEntry::Unknown {
                kind: "rumour".into(),
                bucket: "team:a".into()
            }
        );
        assert!(matches!(
            &page.entries[1],
            PullEntry::Snapshot { entity: Entity::Unknown(name), .. } if name == "homework"
        ));
        assert!(matches!(
            &page.entries[2],
            PullEntry::Remove {
                entity: Entity::Visit,
                ..
            }
        ));
    }
}
