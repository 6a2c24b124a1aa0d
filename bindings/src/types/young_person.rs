//! FFI mirrors of young people: the draft a caller gives, the record it reads, and the age
//! bands and vulnerability flags they carry.

use chrono::NaiveDate;
use pocketbook_core::model as m;
use uuid::Uuid;

mirror_open_enum!(
    /// Age band.
    AgeBand = m::AgeBand {
        /// Under 5.
        Under5,
        /// 5-10.
        From5To10,
        /// 11-13.
        From11To13,
        /// 14-15.
        From14To15,
        /// 16-17.
        From16To17,
        /// 18-25.
        From18To25
    }
);
mirror_open_enum!(
    /// Vulnerability flag.
    VulnerabilityFlag = m::VulnerabilityFlag {
        /// Child in need.
        ChildInNeed,
        /// Child protection plan.
        ChildProtectionPlan,
        /// Looked after.
        LookedAfter,
        /// SEND.
        Send,
        /// Missing episodes.
        MissingEpisodes,
        /// Young carer.
        YoungCarer,
        /// Known to youth justice.
        KnownToYouthJustice
    }
);

/// What a caller gives to add a young person.
#[derive(Debug, Clone, uniffi::Record)]
pub struct YoungPersonDraft {
    /// Given name(s).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth (YYYY-MM-DD).
    pub date_of_birth: Option<NaiveDate>,
    /// Age band when the date of birth is unknown.
    pub age_band: Option<AgeBand>,
    /// Establishment id.
    pub establishment_id: Option<Uuid>,
    /// Year group.
    pub year_group: Option<u8>,
    /// Vulnerability flags.
    pub flags: Vec<VulnerabilityFlag>,
}

impl From<YoungPersonDraft> for m::YoungPersonDraft {
    fn from(d: YoungPersonDraft) -> Self {
        m::YoungPersonDraft {
            first_name: d.first_name,
            last_name: d.last_name,
            date_of_birth: d.date_of_birth,
            age_band: d.age_band.map(Into::into),
            establishment_id: d.establishment_id,
            year_group: d.year_group,
            carers: Vec::new(),
            flags: d.flags.into_iter().map(Into::into).collect(),
        }
    }
}

/// A young person.
#[derive(Debug, Clone, uniffi::Record)]
pub struct YoungPerson {
    /// Id.
    pub id: Uuid,
    /// Given name(s).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth.
    pub date_of_birth: Option<NaiveDate>,
    /// Establishment id.
    pub establishment_id: Option<Uuid>,
    /// Year group.
    pub year_group: Option<u8>,
    /// Vulnerability flags.
    pub flags: Vec<VulnerabilityFlag>,
}

impl From<m::YoungPerson> for YoungPerson {
    fn from(p: m::YoungPerson) -> Self {
        YoungPerson {
            id: p.id,
            first_name: p.first_name,
            last_name: p.last_name,
            date_of_birth: p.date_of_birth,
            establishment_id: p.establishment_id,
            year_group: p.year_group,
            flags: p.flags.into_iter().map(Into::into).collect(),
        }
    }
}
