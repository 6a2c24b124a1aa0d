//! A frozen copy of the sync protocol's wire types as an app speaking version 1 knew them
//! (commit 7162c29): closed enumerations, codes as plain strings, no field added since. Never
//! edit it to follow the protocol; it exists so a test can act as that older app against the
//! current server and show the server still serves it.

#![allow(missing_docs)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// The version this copy speaks.
pub const VERSION: &str = "1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    YoungPerson,
    Visit,
    Concern,
    Addendum,
    Action,
    Engagement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MutationKind {
    Create,
    Update,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    pub device_id: Uuid,
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Officer {
    pub id: Uuid,
    pub name: String,
    pub shoulder_number: String,
    pub role: String,
    pub team_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provisioning {
    pub officer: Officer,
    pub teams: Vec<Team>,
    #[serde(default)]
    pub officers: Vec<Officer>,
    #[serde(default)]
    pub establishments: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub token: String,
    pub server_id: Uuid,
    pub provisioning: Provisioning,
    pub lease_seconds: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mutation {
    pub seq: u64,
    pub entity: Entity,
    pub record_id: Uuid,
    pub kind: MutationKind,
    pub team_id: Uuid,
    pub marking: String,
    pub fields: BTreeMap<String, Value>,
    #[serde(default)]
    pub base: BTreeMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sets: BTreeMap<String, Value>,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub mutations: Vec<Mutation>,
    #[serde(default)]
    pub audit: Vec<Value>,
    #[serde(default)]
    pub resolved: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PushOutcome {
    Applied,
    Merged { conflicts: Vec<String> },
    Rejected { code: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResult {
    pub seq: u64,
    #[serde(flatten)]
    pub outcome: PushOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
    pub acked_seq: u64,
    pub audit_acked_seq: u64,
    #[serde(default)]
    pub resolved: Vec<String>,
    pub server_time_ms: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    #[serde(default)]
    pub epoch: Option<String>,
    #[serde(default)]
    pub cursors: BTreeMap<String, u64>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub reference: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub id: String,
    pub entity: Entity,
    pub record_id: Uuid,
    pub field: String,
    pub losing_value: Value,
    pub losing_version: String,
    pub winning_value: Value,
    pub winning_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PullEntry {
    Snapshot {
        bucket: String,
        entity: Entity,
        id: Uuid,
        fields: Map<String, Value>,
        versions: BTreeMap<String, String>,
        deleted: bool,
    },
    Remove {
        bucket: String,
        entity: Entity,
        id: Uuid,
    },
    Conflict {
        bucket: String,
        conflict: Conflict,
        resolved: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub epoch: String,
    pub buckets: Vec<String>,
    pub entries: Vec<PullEntry>,
    pub cursors: BTreeMap<String, u64>,
    pub remaining: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Provisioning>,
}
