//! FFI mirrors of visits (welfare checks, food parcels, online-safety support): the draft, the
//! update, the record, and their kinds, prompts, outcomes and support.

use chrono::NaiveDate;
use pocketbook_core::model as m;
use uuid::Uuid;

use super::{Marking, Timestamp};

mirror_open_enum!(
    /// Kind of visit.
    VisitKind = m::VisitKind {
        /// Welfare check.
        WelfareCheck,
        /// Food parcel.
        FoodParcel,
        /// Online safety support.
        OnlineSafetySupport,
        /// Signposting.
        Signposting,
        /// Follow-up.
        FollowUp,
        /// Cadet support.
        CadetSupport,
        /// No access.
        NoAccess
    }
);
mirror_open_enum!(
    /// Who prompted a visit.
    PromptedBy = m::PromptedBy {
        /// School.
        School,
        /// Council.
        Council,
        /// MASH.
        Mash,
        /// Police.
        Police,
        /// Parent or the young person.
        ParentOrSelf
    }
);
mirror_open_enum!(
    /// How a visit ended.
    VisitOutcome = m::VisitOutcome {
        /// No concerns.
        NoConcerns,
        /// Advice given.
        AdviceGiven,
        /// Signposted.
        Signposted,
        /// Concern raised.
        ConcernRaised,
        /// Referral made.
        ReferralMade
    }
);

mirror_open_enum!(
    /// Support given on a visit.
    SupportGiven = m::SupportGiven {
        /// Food.
        Food,
        /// Safety advice.
        SafetyAdvice,
        /// Online safety advice.
        OnlineSafetyAdvice,
        /// Emotional support.
        EmotionalSupport,
        /// Attendance support.
        AttendanceSupport,
        /// School liaison.
        SchoolLiaison,
        /// Crime prevention.
        CrimePrevention
    }
);
/// What a caller gives to record a visit.
#[derive(Debug, Clone, uniffi::Record)]
pub struct VisitDraft {
    /// Kind.
    pub kind: VisitKind,
    /// Who prompted it.
    pub prompted_by: PromptedBy,
    /// Young people visited.
    pub young_person_ids: Vec<Uuid>,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Address or ward.
    pub place: String,
    /// Who was present.
    pub present: Vec<String>,
    /// Outcome.
    pub outcome: VisitOutcome,
    /// Support given.
    pub support_given: Vec<SupportGiven>,
    /// What happened.
    pub narrative: String,
    /// Follow-up date.
    pub follow_up: Option<NaiveDate>,
}

impl From<VisitDraft> for m::VisitDraft {
    fn from(d: VisitDraft) -> Self {
        m::VisitDraft {
            kind: d.kind.into(),
            prompted_by: d.prompted_by.into(),
            young_person_ids: d.young_person_ids,
            officer_ids: Vec::new(),
            start: d.start,
            end: d.end,
            place: d.place,
            location: None,
            present: d.present,
            outcome: d.outcome.into(),
            support_given: d.support_given.into_iter().map(Into::into).collect(),
            signposted_to: Vec::new(),
            narrative: d.narrative,
            follow_up: d.follow_up,
            marking: None,
        }
    }
}

/// A change to a visit: only the fields given change.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct VisitUpdate {
    /// New narrative.
    #[uniffi(default = None)]
    pub narrative: Option<String>,
    /// New outcome.
    #[uniffi(default = None)]
    pub outcome: Option<VisitOutcome>,
    /// New place.
    #[uniffi(default = None)]
    pub place: Option<String>,
    /// New start.
    #[uniffi(default = None)]
    pub start: Option<Timestamp>,
    /// New end.
    #[uniffi(default = None)]
    pub end: Option<Timestamp>,
}

impl From<VisitUpdate> for m::VisitUpdate {
    fn from(u: VisitUpdate) -> Self {
        m::VisitUpdate {
            narrative: u.narrative,
            outcome: u.outcome.map(Into::into),
            place: u.place,
            start: u.start,
            end: u.end,
            ..m::VisitUpdate::default()
        }
    }
}

/// A visit.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Visit {
    /// Id.
    pub id: Uuid,
    /// Team.
    pub team_id: Uuid,
    /// Marking.
    pub marking: Marking,
    /// Kind.
    pub kind: VisitKind,
    /// Who prompted it.
    pub prompted_by: PromptedBy,
    /// Young people.
    pub young_person_ids: Vec<Uuid>,
    /// Officers.
    pub officer_ids: Vec<Uuid>,
    /// Start.
    pub start: Timestamp,
    /// End.
    pub end: Timestamp,
    /// Place.
    pub place: String,
    /// Outcome.
    pub outcome: VisitOutcome,
    /// Narrative.
    pub narrative: String,
    /// Follow-up date.
    pub follow_up: Option<NaiveDate>,
}

impl From<m::Visit> for Visit {
    fn from(v: m::Visit) -> Self {
        Visit {
            id: v.id,
            team_id: v.meta.team_id,
            marking: v.meta.marking.into(),
            kind: v.kind.into(),
            prompted_by: v.prompted_by.into(),
            young_person_ids: v.young_person_ids,
            officer_ids: v.officer_ids,
            start: v.start,
            end: v.end,
            place: v.place,
            outcome: v.outcome.into(),
            narrative: v.narrative,
            follow_up: v.follow_up,
        }
    }
}
