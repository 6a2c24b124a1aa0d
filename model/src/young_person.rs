//! A child or young person an officer works with, and the draft used to add one.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;

use super::common::{check_count, check_len, check_text, Record, RecordMeta, MAX_SHORT};
use crate::error::ValidationError;

pocketbook_protocol::open_enum! {
    /// An age band, used when the date of birth is not known.
    pub enum AgeBand {
        /// Under 5.
        Under5 = "under5",
        /// 5 to 10.
        From5To10 = "from5_to10",
        /// 11 to 13.
        From11To13 = "from11_to13",
        /// 14 to 15.
        From14To15 = "from14_to15",
        /// 16 to 17.
        From16To17 = "from16_to17",
        /// 18 to 25 (care leavers, SEND).
        From18To25 = "from18_to25",
    }
}

pocketbook_protocol::open_enum! {
    /// Known vulnerabilities, shown on the child's record.
    pub enum VulnerabilityFlag {
        /// Child in need (Children Act 1989 s17).
        ChildInNeed = "child_in_need",
        /// Subject of a child protection plan.
        ChildProtectionPlan = "child_protection_plan",
        /// Looked-after child.
        LookedAfter = "looked_after",
        /// Special educational needs and disabilities.
        Send = "send",
        /// Has had missing episodes.
        MissingEpisodes = "missing_episodes",
        /// Young carer.
        YoungCarer = "young_carer",
        /// Known to youth justice.
        KnownToYouthJustice = "known_to_youth_justice",
    }
}

/// A parent or carer contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarerContact {
    /// The carer's name.
    pub name: String,
    /// Relationship to the child.
    pub relationship: String,
    /// Phone number, if known.
    #[serde(default)]
    pub phone: Option<String>,
}

/// A child or young person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YoungPerson {
    /// Record id.
    pub id: Uuid,
    /// Shared metadata.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Given name(s).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth, when known.
    pub date_of_birth: Option<NaiveDate>,
    /// Age band, when the date of birth is not known.
    pub age_band: Option<AgeBand>,
    /// The establishment they attend.
    pub establishment_id: Option<Uuid>,
    /// School year group (0 = reception .. 14).
    pub year_group: Option<u8>,
    /// Parent and carer contacts.
    pub carers: Vec<CarerContact>,
    /// Vulnerability flags (a set).
    pub flags: Vec<VulnerabilityFlag>,
}

/// What a caller gives to add a young person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YoungPersonDraft {
    /// Given name(s).
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Date of birth, when known.
    pub date_of_birth: Option<NaiveDate>,
    /// Age band, when the date of birth is not known.
    pub age_band: Option<AgeBand>,
    /// The establishment they attend.
    pub establishment_id: Option<Uuid>,
    /// School year group (0 = reception .. 14).
    pub year_group: Option<u8>,
    /// Parent and carer contacts.
    pub carers: Vec<CarerContact>,
    /// Vulnerability flags.
    pub flags: Vec<VulnerabilityFlag>,
}

impl YoungPersonDraft {
    /// Checks the rules that need no store.
    pub fn validate(&self, today: NaiveDate) -> Result<(), ValidationError> {
        check_text("first_name", &self.first_name, MAX_SHORT)?;
        check_text("last_name", &self.last_name, MAX_SHORT)?;
        match (self.date_of_birth, &self.age_band) {
            (None, None) => {
                return Err(ValidationError::Missing {
                    field: "date_of_birth",
                })
            }
            (Some(dob), _) if dob > today => {
                return Err(ValidationError::InFuture {
                    field: "date_of_birth",
                })
            }
            _ => {}
        }
        if matches!(self.year_group, Some(y) if y > 14) {
            return Err(ValidationError::OutOfRange {
                field: "year_group",
            });
        }
        check_count("carers", self.carers.len())?;
        check_count("flags", self.flags.len())?;
        for carer in &self.carers {
            check_text("carers.name", &carer.name, MAX_SHORT)?;
            check_len("carers.relationship", &carer.relationship, MAX_SHORT)?;
            if let Some(phone) = &carer.phone {
                check_len("carers.phone", phone, MAX_SHORT)?;
            }
        }
        Ok(())
    }

    /// Makes the young person this draft describes, with its id and metadata (validate first).
    pub fn into_record(self, id: Uuid, meta: RecordMeta) -> YoungPerson {
        let mut flags = self.flags;
        flags.sort();
        flags.dedup();
        YoungPerson {
            id,
            meta,
            first_name: self.first_name.trim().to_string(),
            last_name: self.last_name.trim().to_string(),
            date_of_birth: self.date_of_birth,
            age_band: self.age_band,
            establishment_id: self.establishment_id,
            year_group: self.year_group,
            carers: self.carers,
            flags,
        }
    }
}

impl Record for YoungPerson {
    const ENTITY: Entity = Entity::YoungPerson;
    fn id(&self) -> Uuid {
        self.id
    }
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
    fn happened_at(&self) -> DateTime<Utc> {
        self.meta.created_at
    }
    fn young_people(&self) -> Vec<Uuid> {
        vec![self.id]
    }
}
