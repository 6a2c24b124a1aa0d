//! Reference data managed on the server and sent to devices: teams, officers and
//! establishments (DESIGN §3), and the provisioning bundle that carries them at enrolment.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A ward or schools team: the unit of access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    /// Team id.
    pub id: Uuid,
    /// Display name, e.g. "Northfield Schools Team".
    pub name: String,
}

/// What an officer may do and see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Officer {
    /// Officer id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Shoulder / warrant number.
    pub shoulder_number: String,
    /// What the officer may do and see (decides buckets and, later, permissions).
    pub role: Role,
    /// Teams they belong to; the first is their home team.
    pub team_ids: Vec<Uuid>,
}

/// DfE-style phase/kind of an establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Establishment {
    /// Establishment id.
    pub id: Uuid,
    /// DfE unique reference number.
    pub urn: String,
    /// The establishment's name as GIAS gives it.
    pub name: String,
    /// The phase or kind of establishment (primary, secondary, PRU…).
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

/// Reference data for one officer's device: what the server sends at enrolment, and what a
/// provisioning file holds before enrolment exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provisioning {
    /// The officer who uses this device.
    pub officer: Officer,
    /// The teams visible to them (theirs at least).
    pub teams: Vec<Team>,
    /// Colleagues they may name on records (the officer may be included).
    #[serde(default)]
    pub officers: Vec<Officer>,
    /// Establishments they work with.
    #[serde(default)]
    pub establishments: Vec<Establishment>,
}

/// Why provisioning data was refused. Names the problem, never the content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisioningError {
    /// Not JSON of the right shape.
    #[error("not valid provisioning JSON (line {line}, column {column})")]
    Json {
        /// Line of the first error.
        line: usize,
        /// Column of the first error.
        column: usize,
    },
    /// JSON of the right shape whose parts do not fit together.
    #[error("provisioning data is inconsistent: {0}")]
    Inconsistent(&'static str),
}

impl Provisioning {
    /// Reads provisioning JSON and checks it hangs together.
    pub fn from_json(text: &str) -> Result<Self, ProvisioningError> {
        let p: Provisioning = serde_json::from_str(text).map_err(|e| ProvisioningError::Json {
            line: e.line(),
            column: e.column(),
        })?;
        p.validate()?;
        Ok(p)
    }

    /// Checks that teams are unique, every officer's teams are listed, and establishments
    /// have names and distinct URNs.
    pub fn validate(&self) -> Result<(), ProvisioningError> {
        let bad = |m| Err(ProvisioningError::Inconsistent(m));
        let teams: HashSet<Uuid> = self.teams.iter().map(|t| t.id).collect();
        if teams.len() != self.teams.len() {
            return bad("a team id appears twice");
        }
        if self.officer.team_ids.is_empty() {
            return bad("the officer belongs to no team");
        }
        if self.officer.name.trim().is_empty() {
            return bad("the officer has no name");
        }
        for officer in self.officers.iter().chain([&self.officer]) {
            if officer.team_ids.iter().any(|t| !teams.contains(t)) {
                return bad("an officer names a team that is not listed");
            }
        }
        let mut urns = HashSet::new();
        for e in &self.establishments {
            if e.name.trim().is_empty() || !urns.insert(e.urn.as_str()) {
                return bad("an establishment has no name or a repeated URN");
            }
        }
        Ok(())
    }
}
