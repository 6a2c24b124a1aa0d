//! FFI mirrors of the reference data and session: who the officer is, their role, the
//! establishments they work with, and the protective marking every record carries.

use pocketbook_core::model as m;
use uuid::Uuid;

use super::Timestamp;

mirror_enum!(
    /// Protective marking.
    Marking = m::Marking {
        /// OFFICIAL.
        Official,
        /// OFFICIAL-SENSITIVE.
        OfficialSensitive
    }
);
mirror_enum!(
    /// What an officer may do and see.
    Role = m::Role {
        /// Officer.
        Officer,
        /// Supervisor.
        Supervisor,
        /// Safeguarding lead.
        SafeguardingLead,
        /// Auditor.
        Auditor,
        /// Admin.
        Admin
    }
);
mirror_enum!(
    /// Kind of establishment.
    EstablishmentKind = m::EstablishmentKind {
        /// Primary.
        Primary,
        /// Secondary.
        Secondary,
        /// All-through.
        AllThrough,
        /// Special.
        Special,
        /// PRU / alternative provision.
        PupilReferralUnit,
        /// Further education.
        FurtherEducation,
        /// Independent.
        Independent
    }
);

/// The officer's session.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Session {
    /// Officer id.
    pub officer_id: Uuid,
    /// Officer name.
    pub officer_name: String,
    /// Shoulder number.
    pub shoulder_number: String,
    /// Role.
    pub role: Role,
    /// Team ids.
    pub team_ids: Vec<Uuid>,
    /// This device's id.
    pub device_id: Uuid,
    /// The server, once enrolled.
    pub server_url: Option<String>,
    /// Last sync.
    pub last_sync_at: Option<Timestamp>,
    /// Lease expiry.
    pub lease_expires_at: Option<Timestamp>,
}

impl From<pocketbook_core::Session> for Session {
    fn from(s: pocketbook_core::Session) -> Self {
        Session {
            officer_id: s.officer.id,
            officer_name: s.officer.name,
            shoulder_number: s.officer.shoulder_number,
            role: s.officer.role.into(),
            team_ids: s.officer.team_ids,
            device_id: s.device_id,
            server_url: s.server_url,
            last_sync_at: s.last_sync_at,
            lease_expires_at: s.lease_expires_at,
        }
    }
}

/// An establishment.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Establishment {
    /// Id.
    pub id: Uuid,
    /// DfE URN.
    pub urn: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: EstablishmentKind,
    /// Ward.
    pub ward: Option<String>,
}

impl From<m::Establishment> for Establishment {
    fn from(e: m::Establishment) -> Self {
        Establishment {
            id: e.id,
            urn: e.urn,
            name: e.name,
            kind: e.kind.into(),
            ward: e.ward,
        }
    }
}

/// An officer.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Officer {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Shoulder number.
    pub shoulder_number: String,
    /// Role.
    pub role: Role,
}

impl From<m::Officer> for Officer {
    fn from(o: m::Officer) -> Self {
        Officer {
            id: o.id,
            name: o.name,
            shoulder_number: o.shoulder_number,
            role: o.role.into(),
        }
    }
}
