//! School engagement: assemblies, lessons, weapons sweeps and patrols. Names no child.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;

use super::common::{check_len, Marking, Record, RecordMeta, MAX_NARRATIVE};
use crate::error::ValidationError;

/// What kind of engagement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementKind {
    /// An assembly.
    Assembly,
    /// A lesson.
    Lesson,
    /// A weapons sweep of the grounds.
    WeaponsSweep,
    /// A patrol around the school.
    Patrol,
    /// A drop-in session.
    DropIn,
    /// A session for parents.
    ParentSession,
    /// Training for staff.
    StaffTraining,
}

/// Topics covered (a set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngagementTopic {
    /// Knife crime.
    KnifeCrime,
    /// Robbery.
    Robbery,
    /// Stop and search.
    StopAndSearch,
    /// Violence against women and girls.
    Vawg,
    /// Online safety.
    OnlineSafety,
    /// Drugs and county lines.
    DrugsCountyLines,
    /// Anti-social behaviour.
    Asb,
    /// Hate crime.
    HateCrime,
    /// Road safety.
    RoadSafety,
    /// Fireworks.
    Fireworks,
    /// Healthy relationships.
    Relationships,
}

/// What a weapons sweep found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepResult {
    /// Nothing found.
    NothingFound,
    /// A weapon was found.
    WeaponFound,
    /// Something else of note was found.
    OtherItemFound,
}

/// A school engagement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engagement {
    /// Record id.
    pub id: Uuid,
    /// Shared metadata.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Kind.
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
    /// Kind.
    pub kind: EngagementKind,
    /// Topics.
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
    pub(crate) fn matches(&self, e: &Engagement) -> bool {
        self.establishment_id
            .is_none_or(|x| e.establishment_id == x)
            && self.kind.is_none_or(|k| e.kind == k)
    }
}

impl EngagementDraft {
    pub(crate) fn into_record(
        self,
        id: Uuid,
        meta: RecordMeta,
        now: DateTime<Utc>,
    ) -> Result<Engagement, ValidationError> {
        if self.at > now + chrono::Duration::minutes(5) {
            return Err(ValidationError::InFuture { field: "at" });
        }
        if self.year_groups.iter().any(|y| *y > 14) {
            return Err(ValidationError::OutOfRange {
                field: "year_groups",
            });
        }
        match (self.kind, self.sweep_result) {
            (EngagementKind::WeaponsSweep, None) => {
                return Err(ValidationError::Missing {
                    field: "sweep_result",
                })
            }
            (k, Some(_)) if k != EngagementKind::WeaponsSweep => {
                return Err(ValidationError::OutOfRange {
                    field: "sweep_result",
                })
            }
            _ => {}
        }
        check_len("concerns_arising", &self.concerns_arising, MAX_NARRATIVE)?;
        let mut topics = self.topics;
        topics.sort();
        topics.dedup();
        let mut year_groups = self.year_groups;
        year_groups.sort();
        year_groups.dedup();
        Ok(Engagement {
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
        })
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
