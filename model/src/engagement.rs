//! School engagement: assemblies, lessons, weapons sweeps and patrols. Names no child.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;

use super::common::{Marking, Record, RecordMeta};
use crate::error::ValidationError;

pocketbook_protocol::open_enum! {
    /// What kind of engagement.
    pub enum EngagementKind {
        /// An assembly.
        Assembly = "assembly",
        /// A lesson.
        Lesson = "lesson",
        /// A weapons sweep of the grounds.
        WeaponsSweep = "weapons_sweep",
        /// A patrol around the school.
        Patrol = "patrol",
        /// A drop-in session.
        DropIn = "drop_in",
        /// A session for parents.
        ParentSession = "parent_session",
        /// Training for staff.
        StaffTraining = "staff_training",
    }
}

pocketbook_protocol::open_enum! {
    /// Topics covered (a set).
    pub enum EngagementTopic {
        /// Knife crime.
        KnifeCrime = "knife_crime",
        /// Robbery, including of phones and other young people.
        Robbery = "robbery",
        /// Stop and search.
        StopAndSearch = "stop_and_search",
        /// Violence against women and girls.
        Vawg = "vawg",
        /// Online safety.
        OnlineSafety = "online_safety",
        /// Drugs and county lines.
        DrugsCountyLines = "drugs_county_lines",
        /// Anti-social behaviour.
        Asb = "asb",
        /// Hate crime.
        HateCrime = "hate_crime",
        /// Road safety.
        RoadSafety = "road_safety",
        /// Fireworks safety and the law.
        Fireworks = "fireworks",
        /// Healthy relationships.
        Relationships = "relationships",
    }
}

pocketbook_protocol::open_enum! {
    /// What a weapons sweep found.
    pub enum SweepResult {
        /// Nothing found.
        NothingFound = "nothing_found",
        /// A weapon was found.
        WeaponFound = "weapon_found",
        /// Something else of note was found.
        OtherItemFound = "other_item_found",
    }
}

/// A school engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    /// Record id.
    pub id: Uuid,
    /// Shared metadata.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// What kind of engagement it was.
    pub kind: EngagementKind,
    /// Topics (a set).
    pub topics: Vec<EngagementTopic>,
    /// The establishment.
    pub establishment_id: Uuid,
    /// Year groups present (a set).
    pub year_groups: Vec<u8>,
    /// How many attended.
    pub audience_size: u32,
    /// When it took place.
    pub at: DateTime<Utc>,
    /// Result of a weapons sweep.
    pub sweep_result: Option<SweepResult>,
    /// Concerns arising, in general terms (no child named).
    pub concerns_arising: String,
}

/// What a caller gives to record an engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagementDraft {
    /// What kind of engagement it was.
    pub kind: EngagementKind,
    /// The topics covered (a set).
    pub topics: Vec<EngagementTopic>,
    /// The establishment.
    pub establishment_id: Uuid,
    /// Year groups present.
    pub year_groups: Vec<u8>,
    /// How many attended.
    pub audience_size: u32,
    /// When it took place.
    pub at: DateTime<Utc>,
    /// Result of a weapons sweep (required for a sweep).
    pub sweep_result: Option<SweepResult>,
    /// Concerns arising.
    pub concerns_arising: String,
    /// Marking; OFFICIAL unless given.
    pub marking: Option<Marking>,
}

/// Which engagements to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngagementFilter {
    /// Only at this establishment.
    pub establishment_id: Option<Uuid>,
    /// Only this kind.
    pub kind: Option<EngagementKind>,
}

impl EngagementFilter {
    /// Whether the engagement passes this filter.
    pub fn matches(&self, e: &Engagement) -> bool {
        self.establishment_id
            .is_none_or(|x| e.establishment_id == x)
            && self.kind.as_ref().is_none_or(|k| e.kind == *k)
    }
}

impl EngagementDraft {
    /// Checks the draft and makes the engagement it describes, with its id and metadata.
    pub fn into_record(
        self,
        id: Uuid,
        meta: RecordMeta,
        now: DateTime<Utc>,
    ) -> Result<Engagement, ValidationError> {
        let mut topics = self.topics;
        topics.sort();
        topics.dedup();
        let mut year_groups = self.year_groups;
        year_groups.sort();
        year_groups.dedup();
        let engagement = Engagement {
            id,
            meta,
            kind: self.kind,
            topics,
            establishment_id: self.establishment_id,
            year_groups,
            audience_size: self.audience_size,
            at: self.at,
            sweep_result: self.sweep_result,
            concerns_arising: self.concerns_arising,
        };
        // One set of rules for a draft and a stored record (`RecordRules`), so the device
        // refuses exactly what the server would.
        crate::RecordRules::check(&engagement, now)?;
        Ok(engagement)
    }
}

impl Record for Engagement {
    const ENTITY: Entity = Entity::Engagement;
    fn id(&self) -> Uuid {
        self.id
    }
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
    fn happened_at(&self) -> DateTime<Utc> {
        self.at
    }
    fn young_people(&self) -> Vec<Uuid> {
        Vec::new()
    }
}
