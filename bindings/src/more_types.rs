//! FFI mirrors of actions (referrals, information sharing) and school engagements.

use chrono::NaiveDate;
use pocketbook_core::model as m;
use uuid::Uuid;

use crate::types::{Marking, Timestamp};

crate::types::mirror_open_enum!(
    /// Where a referral or information share goes.
    ActionKind = m::ActionKind {
        /// Public protection notice.
        Ppn,
        /// MASH.
        Mash,
        /// Early help.
        EarlyHelp,
        /// Children's social care.
        SocialCare,
        /// The school's DSL.
        SchoolDsl,
        /// CAMHS.
        Camhs,
        /// Youth justice.
        YouthJustice,
        /// Prevent.
        Prevent,
        /// CEOP.
        Ceop,
        /// Signposting only.
        Signpost
    }
);
crate::types::mirror_open_enum!(
    /// Where an action stands.
    ActionStatus = m::ActionStatus {
        /// Draft.
        Draft,
        /// Sent.
        Sent,
        /// Acknowledged.
        Acknowledged,
        /// Overdue.
        Overdue,
        /// Done.
        Done
    }
);
crate::types::mirror_open_enum!(
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
crate::types::mirror_open_enum!(
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
crate::types::mirror_open_enum!(
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

/// What a caller gives to add an action.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ActionDraft {
    /// Kind.
    pub kind: ActionKind,
    /// The young person.
    pub young_person_id: Uuid,
    /// The concern it follows from.
    pub concern_id: Option<Uuid>,
    /// Recipient.
    pub recipient: String,
    /// Why sharing is justified.
    pub justification: String,
    /// Due date.
    pub due: Option<NaiveDate>,
}

impl From<ActionDraft> for m::ActionDraft {
    fn from(d: ActionDraft) -> Self {
        m::ActionDraft {
            kind: d.kind.into(),
            young_person_id: d.young_person_id,
            concern_id: d.concern_id,
            recipient: d.recipient,
            justification: d.justification,
            due: d.due,
            marking: None,
        }
    }
}

/// A change to an action.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ActionUpdate {
    /// New status.
    #[uniffi(default = None)]
    pub status: Option<ActionStatus>,
    /// New due date.
    #[uniffi(default = None)]
    pub due: Option<NaiveDate>,
}

impl From<ActionUpdate> for m::ActionUpdate {
    fn from(u: ActionUpdate) -> Self {
        m::ActionUpdate {
            status: u.status.map(Into::into),
            due: u.due.map(Some),
            recipient: None,
            justification: None,
        }
    }
}

/// A referral or information share.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Action {
    /// Id.
    pub id: Uuid,
    /// Marking.
    pub marking: Marking,
    /// Kind.
    pub kind: ActionKind,
    /// The young person.
    pub young_person_id: Uuid,
    /// The concern.
    pub concern_id: Option<Uuid>,
    /// Recipient.
    pub recipient: String,
    /// Justification.
    pub justification: String,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Status.
    pub status: ActionStatus,
}

impl From<m::Action> for Action {
    fn from(a: m::Action) -> Self {
        Action {
            id: a.id,
            marking: a.meta.marking.into(),
            kind: a.kind.into(),
            young_person_id: a.young_person_id,
            concern_id: a.concern_id,
            recipient: a.recipient,
            justification: a.justification,
            due: a.due,
            status: a.status.into(),
        }
    }
}

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
