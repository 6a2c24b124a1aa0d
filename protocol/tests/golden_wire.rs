//! Golden wire files: one request and one response of every kind, serialised from the wire
//! types and compared byte for byte with the files committed under `tests/golden/`. A change
//! to the wire (a renamed field, a new required field, a reordered struct) fails here, so it is
//! made on purpose and under the protocol-version policy, never by a refactor.
//!
//! `POCKETBOOK_BLESS_GOLDEN=1 cargo test -p pocketbook-protocol --test golden_wire` rewrites
//! the files after a deliberate change.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::wire::{
    EnrollRequest, EnrollResponse, ErrorBody, ProtocolRange, PullEntry, PullRequest, PullResponse,
    PushOutcome, PushRequest, PushResponse, PushResult,
};
use pocketbook_protocol::{
    AuditEvent, AuditOperation, Entity, ErrorCode, Establishment, EstablishmentKind, Hlc, Marking,
    Mutation, MutationKind, Officer, Provisioning, RejectCode, Role, SetDelta, Team, Version,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n)
}

fn version(millis: u64, counter: u32, node: u128) -> Version {
    Version {
        hlc: Hlc { millis, counter },
        node: id(node),
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn fields(value: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    value
        .as_object()
        .map(|o| o.clone().into_iter().collect())
        .unwrap_or_default()
}

fn provisioning() -> Provisioning {
    let officer = Officer {
        id: id(10),
        name: "PC Example One".into(),
        shoulder_number: "4172".into(),
        role: Role::Officer,
        team_ids: vec![id(20)],
    };
    Provisioning {
        officer: officer.clone(),
        teams: vec![Team {
            id: id(20),
            name: "Northfield Safer Schools Team".into(),
        }],
        officers: vec![
            officer,
            Officer {
                id: id(11),
                name: "PS Example Two".into(),
                shoulder_number: "2210".into(),
                role: Role::Supervisor,
                team_ids: vec![id(20)],
            },
        ],
        establishments: vec![Establishment {
            id: id(30),
            urn: "103254".into(),
            name: "Example Primary School".into(),
            kind: EstablishmentKind::Primary,
            ward: Some("Northfield".into()),
            dsl_contact: Some("DSL, 0100 000 0000".into()),
            dedicated_officer: Some(id(10)),
            priority: 3,
            closed: false,
        }],
    }
}

fn create_visit() -> Mutation {
    Mutation {
        reason: None,
        seq: 1,
        entity: Entity::Visit,
        record_id: id(40),
        kind: MutationKind::Create,
        team_id: id(20),
        marking: Marking::Official,
        fields: fields(json!({
            "kind": "welfare_check",
            "prompted_by": "school",
            "young_person_ids": [id(50)],
            "officer_ids": [id(10)],
            "start": "2026-11-30T09:00:00Z",
            "end": "2026-11-30T09:30:00Z",
            "narrative": "Visited at home.",
            "support_given": ["advice"],
            "team_id": id(20),
            "created_by": id(10),
            "created_at": "2026-11-30T09:31:00Z",
            "marking": "OFFICIAL",
        })),
        base: BTreeMap::new(),
        sets: BTreeMap::new(),
        version: version(1_764_494_000_000, 0, 1),
        versions: None,
        conflicts: None,
    }
}

fn update_visit() -> Mutation {
    Mutation {
        seq: 2,
        kind: MutationKind::Update,
        fields: fields(json!({
            "narrative": "Visited at home; carer present.",
            "support_given": ["advice", "food_parcel"],
        })),
        base: [
            (
                "narrative".to_string(),
                Some(version(1_764_494_000_000, 0, 1)),
            ),
            (
                "support_given".to_string(),
                Some(version(1_764_494_000_000, 0, 1)),
            ),
        ]
        .into(),
        sets: [(
            "support_given".to_string(),
            SetDelta {
                added: vec![json!("food_parcel")],
                removed: vec![],
            },
        )]
        .into(),
        version: version(1_764_494_100_000, 1, 1),
        ..create_visit()
    }
}

fn delete_visit() -> Mutation {
    Mutation {
        seq: 3,
        kind: MutationKind::Delete,
        fields: BTreeMap::new(),
        base: BTreeMap::new(),
        sets: BTreeMap::new(),
        version: version(1_764_494_200_000, 0, 1),
        ..create_visit()
    }
}

fn audit_event() -> AuditEvent {
    AuditEvent {
        seq: 1,
        operation: AuditOperation::Collect,
        officer_id: id(10),
        device_id: id(1),
        at: at("2026-11-30T09:31:00.000000Z"),
        entity: Some(Entity::Visit),
        record_id: Some(id(40)),
        justification: None,
        recipient: None,
        prev_hash: pocketbook_protocol::GENESIS_HASH.into(),
        hash: "5f".repeat(32),
    }
}

fn conflict() -> Conflict {
    Conflict {
        id: "0123456789abcdef0123456789abcdef".into(),
        entity: Entity::Visit,
        record_id: id(40),
        field: "narrative".into(),
        losing_value: json!("Visited at home."),
        losing_version: version(1_764_494_000_000, 0, 2),
        winning_value: json!("Visited at home; carer present."),
        winning_version: version(1_764_494_100_000, 1, 1),
    }
}

fn team_bucket() -> String {
    pocketbook_protocol::wire::team_bucket(id(20))
}

fn pull_response() -> PullResponse {
    let snapshot_fields = create_visit()
        .fields
        .into_iter()
        .collect::<serde_json::Map<_, _>>();
    let versions = snapshot_fields
        .keys()
        .map(|k| (k.clone(), version(1_764_494_000_000, 0, 1)))
        .collect();
    PullResponse {
        epoch: id(90).to_string(),
        buckets: vec![
            team_bucket(),
            pocketbook_protocol::wire::sensitive_bucket(id(20)),
        ],
        entries: vec![
            PullEntry::Snapshot {
                bucket: team_bucket(),
                entity: Entity::Visit,
                id: id(40),
                fields: snapshot_fields,
                versions,
                deleted: false,
            },
            PullEntry::Remove {
                bucket: team_bucket(),
                entity: Entity::Concern,
                id: id(41),
            },
            PullEntry::Conflict {
                bucket: team_bucket(),
                conflict: conflict(),
                resolved: false,
            },
        ],
        cursors: [(team_bucket(), 17)].into(),
        remaining: 0,
        reference: Some(provisioning()),
    }
}

/// Every golden file: its name and its wire text made from today's types.
fn golden() -> Vec<(&'static str, String)> {
    vec![
        (
            "enroll_request",
            text(&EnrollRequest {
                token: None,
                code: "ABCD-EFGH-JKLM".into(),
                device_id: id(1),
                device_name: "PC 4172 phone".into(),
            }),
        ),
        (
            "enroll_response",
            text(&EnrollResponse {
                token: "ab".repeat(32),
                server_id: id(2),
                provisioning: provisioning(),
                lease_seconds: 604_800,
            }),
        ),
        (
            "push_request",
            text(&PushRequest {
                mutations: vec![create_visit(), update_visit(), delete_visit()],
                audit: vec![audit_event()],
                resolved: vec![conflict().id],
                epoch: None,
                acked: None,
                refused: Vec::new(),
            }),
        ),
        (
            "push_response",
            text(&PushResponse {
                results: vec![
                    PushResult {
                        seq: 1,
                        outcome: PushOutcome::Applied,
                    },
                    PushResult {
                        seq: 2,
                        outcome: PushOutcome::Merged {
                            conflicts: vec![conflict().id],
                        },
                    },
                    PushResult {
                        seq: 3,
                        outcome: PushOutcome::Rejected {
                            code: RejectCode::ForbiddenBucket,
                            message: "this device may not write to that bucket".into(),
                        },
                    },
                ],
                acked_seq: 3,
                audit_acked_seq: 1,
                resolved: vec![conflict().id],
                model_generation: None,
                server_time_ms: 1_764_494_300_000,
            }),
        ),
        (
            "pull_request",
            text(&PullRequest {
                epoch: Some(id(90).to_string()),
                cursors: [(team_bucket(), 12)].into(),
                limit: Some(500),
                reference: true,
                common_version: false,
            }),
        ),
        (
            "pull_request_common_version",
            text(&PullRequest {
                epoch: Some(id(90).to_string()),
                cursors: [(team_bucket(), 12)].into(),
                limit: Some(500),
                reference: false,
                common_version: true,
            }),
        ),
        ("pull_response", text(&pull_response())),
        (
            "error_body",
            text(&ErrorBody {
                code: ErrorCode::DeviceRevoked,
                message: "this device has been revoked".into(),
                server_time_ms: None,
                supported_protocols: None,
                epoch: None,
                position: None,
                buckets: None,
            }),
        ),
        (
            "error_body_upgrade_required",
            text(&ErrorBody {
                code: ErrorCode::UpgradeRequired,
                message: "protocol version not supported; update the app".into(),
                server_time_ms: None,
                supported_protocols: Some(ProtocolRange { min: 1, max: 1 }),
                epoch: None,
                position: None,
                buckets: None,
            }),
        ),
        (
            "error_body_clock_skew",
            text(&ErrorBody {
                code: ErrorCode::ClockSkew,
                message: "the device's clock is ahead of the server's".into(),
                server_time_ms: Some(1_764_494_300_000),
                supported_protocols: None,
                epoch: None,
                position: None,
                buckets: None,
            }),
        ),
    ]
}

fn text<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(s) => s + "\n",
        Err(e) => panic!("a wire type failed to serialise: {e}"),
    }
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn every_request_and_response_serialises_byte_for_byte_as_its_golden_file() {
    let bless = std::env::var_os("POCKETBOOK_BLESS_GOLDEN").is_some();
    for (name, made) in golden() {
        let path = dir().join(format!("{name}.json"));
        if bless {
            std::fs::create_dir_all(dir()).unwrap();
            std::fs::write(&path, &made).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} is missing: {e}", path.display()));
        assert_eq!(
            made, committed,
            "{name}: the wire form changed; if on purpose, follow the protocol-version policy \
             and bless the golden files"
        );
    }
}

fn round_trips<T: Serialize + DeserializeOwned>(name: &str) {
    let committed = std::fs::read_to_string(dir().join(format!("{name}.json"))).unwrap();
    let value: T = serde_json::from_str(&committed)
        .unwrap_or_else(|e| panic!("{name} no longer decodes: {e}"));
    assert_eq!(
        text(&value),
        committed,
        "{name} does not re-encode as it was"
    );
}

#[test]
fn every_golden_file_decodes_and_re_encodes_unchanged() {
    if std::env::var_os("POCKETBOOK_BLESS_GOLDEN").is_some() {
        return; // the files are being rewritten by the other test
    }
    round_trips::<EnrollRequest>("enroll_request");
    round_trips::<EnrollResponse>("enroll_response");
    round_trips::<PushRequest>("push_request");
    round_trips::<PushResponse>("push_response");
    round_trips::<PullRequest>("pull_request");
    round_trips::<PullRequest>("pull_request_common_version");
    round_trips::<PullResponse>("pull_response");
    round_trips::<ErrorBody>("error_body");
    round_trips::<ErrorBody>("error_body_clock_skew");
    round_trips::<ErrorBody>("error_body_upgrade_required");
}

/// The hashes both sides compute and compare (the audit chain, a mutation's digest, a
/// conflict's id): pinned, so a change in how they are written out breaks here and not between
/// a device and a server of different builds.
#[test]
fn the_audit_hash_the_mutation_digest_and_the_conflict_id_are_what_they_were() {
    assert_eq!(
        audit_event().compute_hash(),
        "b1c50ca9956f76e64cb05174a58de3ce883908cb99fcccc5a28d7b0825ac738b"
    );
    assert_eq!(
        pocketbook_protocol::digest::mutation_digest(&create_visit()),
        "d3999f3a0a26a9387ee2b10e0e0c8cf37005bca0f6786163ea6a24b2359c6243"
    );
    assert_eq!(
        pocketbook_protocol::merge::conflict_id(id(40), "narrative", version(5, 1, 2)),
        "1c6fa850b49414679a3c73e6340611b6"
    );
}
