//! FFI mirrors of school engagements (assemblies, lessons, weapons sweeps): the draft, the
//! record, and their kinds, topics and sweep results.

use pocketbook_core::model as m;
use uuid::Uuid;

use super::Timestamp;

mirror_open_enum!(
    /// Kind of engagement.
    EngagementKind = m::EngagementKind {
        /// Assembly.
        Assembly,
        /// Lesson.
        Lesson,
        /// Weapons sweep.
        WeaponsSweep,
        /// Patrol.
        Patrol,
        /// Drop-in.
        DropIn,
        /// Parent session.
        ParentSession,
        /// Staff training.
        StaffTraining
    }
);
mirror_open_enum!(
    /// Engagement topic.
    EngagementTopic = m::EngagementTopic {
        /// Knife crime.
        KnifeCrime,
        /// Robbery.
        Robbery,
        /// Stop and search.
        StopAndSearch,
        /// VAWG.
        Vawg,
        /// Online safety.
        OnlineSafety,
        /// Drugs, county lines.
        DrugsCountyLines,
        /// ASB.
        Asb,
        /// Hate crime.
        HateCrime,
        /// Road safety.
        RoadSafety,
        /// Fireworks.
        Fireworks,
        /// Relationships.
        Relationships
    }
);
mirror_open_enum!(
    /// What a weapons sweep found.
    SweepResult = m::SweepResult {
        /// Nothing.
        NothingFound,
        /// A weapon.
        WeaponFound,
        /// Something else of note.
        OtherItemFound
    }
);

/// What a caller gives to record an engagement.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EngagementDraft {
    /// Kind.
    pub kind: EngagementKind,
    /// Topics.
    pub topics: Vec<EngagementTopic>,
    /// Establishment.
    pub establishment_id: Uuid,
    /// Year groups present (0 = reception .. 14).
    pub year_groups: Vec<u32>,
    /// Audience size.
    pub audience_size: u32,
    /// When.
    pub at: Timestamp,
    /// Sweep result (for a weapons sweep).
    pub sweep_result: Option<SweepResult>,
    /// Concerns arising, in general terms.
    pub concerns_arising: String,
}

impl From<EngagementDraft> for m::EngagementDraft {
    fn from(d: EngagementDraft) -> Self {
        m::EngagementDraft {
            kind: d.kind.into(),
            topics: d.topics.into_iter().map(Into::into).collect(),
            establishment_id: d.establishment_id,
            // Out-of-range values become 255, which the core refuses as `year_groups`.
            year_groups: d
                .year_groups
                .into_iter()
                .map(|y| u8::try_from(y).unwrap_or(u8::MAX))
                .collect(),
            audience_size: d.audience_size,
            at: d.at,
            sweep_result: d.sweep_result.map(Into::into),
            concerns_arising: d.concerns_arising,
            marking: None,
        }
    }
}

/// A school engagement.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Engagement {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: EngagementKind,
    /// Topics.
    pub topics: Vec<EngagementTopic>,
    /// Establishment.
    pub establishment_id: Uuid,
    /// Year groups.
    pub year_groups: Vec<u32>,
    /// Audience size.
    pub audience_size: u32,
    /// When.
    pub at: Timestamp,
    /// Sweep result.
    pub sweep_result: Option<SweepResult>,
}

impl From<m::Engagement> for Engagement {
    fn from(e: m::Engagement) -> Self {
        Engagement {
            id: e.id,
            kind: e.kind.into(),
            topics: e.topics.into_iter().map(Into::into).collect(),
            establishment_id: e.establishment_id,
            year_groups: e.year_groups.into_iter().map(u32::from).collect(),
            audience_size: e.audience_size,
            at: e.at,
            sweep_result: e.sweep_result.map(Into::into),
        }
    }
}
