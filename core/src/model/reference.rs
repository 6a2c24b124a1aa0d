//! Reference data managed on the server and pulled to devices: teams, officers and
//! establishments (DESIGN §3).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A ward or schools team: the unit of access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Team id.
    pub id: Uuid,
    /// Display name, e.g. "Northfield Schools Team".
    pub name: String,
}

/// What an officer may do and see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A Safer Schools or ward officer.
    Officer,
    /// Supervises a team; sees its sensitive records.
    Supervisor,
    /// Safeguarding lead; may cover several teams.
    SafeguardingLead,
    /// Reads for audit; may cover the whole force.
    Auditor,
    /// Runs the system.
    Admin,
}

/// An officer as the device knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    /// Officer id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Shoulder / warrant number.
    pub shoulder_number: String,
    /// Role.
    pub role: Role,
    /// Teams they belong to; the first is their home team.
    pub team_ids: Vec<Uuid>,
}

/// DfE-style phase/kind of an establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstablishmentKind {
    /// Primary school.
    Primary,
    /// Secondary school.
    Secondary,
    /// All-through school.
    AllThrough,
    /// Special school.
    Special,
    /// Pupil referral unit or alternative provision.
    PupilReferralUnit,
    /// Further education college.
    FurtherEducation,
    /// Independent school.
    Independent,
}

/// A school or college.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Establishment {
    /// Establishment id.
    pub id: Uuid,
    /// DfE unique reference number.
    pub urn: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: EstablishmentKind,
    /// Ward it lies in.
    #[serde(default)]
    pub ward: Option<String>,
    /// Designated safeguarding lead contact (name, phone or email).
    #[serde(default)]
    pub dsl_contact: Option<String>,
    /// The officer dedicated to it.
    #[serde(default)]
    pub dedicated_officer: Option<Uuid>,
    /// Priority score (higher is higher priority).
    #[serde(default)]
    pub priority: u32,
    /// Whether it has closed (kept for history).
    #[serde(default)]
    pub closed: bool,
}
