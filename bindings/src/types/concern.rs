//! FFI mirrors of safeguarding concerns: the draft with its THRIVE assessment, the triage
//! update, the record, its addenda, and the categories, risks and statuses they use.

use pocketbook_core::model as m;
use uuid::Uuid;

use super::{Marking, Timestamp};

mirror_open_enum!(
    /// Safeguarding category.
    ConcernCategory = m::ConcernCategory {
        /// Physical abuse.
        PhysicalAbuse,
        /// Emotional abuse.
        EmotionalAbuse,
        /// Sexual abuse.
        SexualAbuse,
        /// Neglect.
        Neglect,
        /// CSE.
        Cse,
        /// Criminal exploitation.
        CriminalExploitation,
        /// Serious violence.
        SeriousViolence,
        /// Child-on-child abuse.
        ChildOnChildAbuse,
        /// Online harm.
        OnlineHarm,
        /// Domestic abuse.
        DomesticAbuse,
        /// Missing.
        Missing,
        /// Radicalisation.
        Radicalisation,
        /// FGM, forced marriage, HBA.
        FgmForcedMarriageHba,
        /// Mental health, self-harm.
        MentalHealthSelfHarm,
        /// Substances.
        Substances,
        /// Trafficking.
        Trafficking,
        /// Other.
        Other
    }
);
mirror_open_enum!(
    /// Risk level.
    Risk = m::Risk {
        /// Low.
        Low,
        /// Medium.
        Medium,
        /// High.
        High
    }
);
mirror_open_enum!(
    /// Concern status.
    ConcernStatus = m::ConcernStatus {
        /// New.
        New,
        /// Open.
        Open,
        /// Monitoring.
        Monitoring,
        /// Closed.
        Closed,
        /// No further action.
        Nfa
    }
);

/// One THRIVE element.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ThriveElement {
    /// Finding.
    pub finding: String,
    /// Rationale (required).
    pub rationale: String,
}

/// THRIVE assessment.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Thrive {
    /// Threat.
    pub threat: ThriveElement,
    /// Harm.
    pub harm: ThriveElement,
    /// Risk.
    pub risk: ThriveElement,
    /// Investigation.
    pub investigation: ThriveElement,
    /// Vulnerability.
    pub vulnerability: ThriveElement,
    /// Engagement.
    pub engagement: ThriveElement,
}

fn element(e: ThriveElement) -> m::ThriveElement {
    m::ThriveElement {
        finding: e.finding,
        rationale: e.rationale,
    }
}

/// What a caller gives to raise a concern. Once raised its account (what happened, the
/// child's words, the risk and action in words, THRIVE) is fixed; corrections are addenda.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConcernDraft {
    /// The young people it involves (at least one, each already on this device).
    pub young_person_ids: Vec<Uuid>,
    /// When it happened (may be before it is recorded, never after).
    pub happened_at: Timestamp,
    /// The main safeguarding category.
    pub category: ConcernCategory,
    /// Further categories that also apply (a set: order and repeats do not matter).
    #[uniffi(default = [])]
    pub sub_categories: Vec<ConcernCategory>,
    /// What happened, in the officer's words.
    pub account: String,
    /// The child's own words, if they said anything to record verbatim.
    pub childs_words: Option<String>,
    /// The risk as the officer sees it, in words.
    pub risk_text: String,
    /// The action taken or proposed, in words.
    pub action_text: String,
    /// The THRIVE assessment made at the time (a rationale for every element).
    pub thrive: Thrive,
    /// The risk level; required (a draft without one is refused as `InvalidInput`).
    pub risk: Option<Risk>,
    /// The officer to lead on it, if one is assigned now (one of `officers()`).
    #[uniffi(default = None)]
    pub assigned_lead: Option<Uuid>,
    /// The protective marking; OFFICIAL-SENSITIVE unless given.
    pub marking: Option<Marking>,
}

impl From<ConcernDraft> for m::ConcernDraft {
    fn from(d: ConcernDraft) -> Self {
        m::ConcernDraft {
            young_person_ids: d.young_person_ids,
            happened_at: d.happened_at,
            category: d.category.into(),
            sub_categories: d.sub_categories.into_iter().map(Into::into).collect(),
            account: d.account,
            childs_words: d.childs_words,
            risk_text: d.risk_text,
            action_text: d.action_text,
            thrive: m::ThriveAssessment {
                threat: element(d.thrive.threat),
                harm: element(d.thrive.harm),
                risk: element(d.thrive.risk),
                investigation: element(d.thrive.investigation),
                vulnerability: element(d.thrive.vulnerability),
                engagement: element(d.thrive.engagement),
            },
            risk: d.risk.map(Into::into),
            assigned_lead: d.assigned_lead,
            marking: d.marking.map(Into::into),
        }
    }
}

/// A triage change.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ConcernTriageUpdate {
    /// New risk.
    #[uniffi(default = None)]
    pub risk: Option<Risk>,
    /// New status.
    #[uniffi(default = None)]
    pub status: Option<ConcernStatus>,
    /// New marking.
    #[uniffi(default = None)]
    pub marking: Option<Marking>,
    /// Why.
    #[uniffi(default = None)]
    pub note: Option<String>,
}

impl From<ConcernTriageUpdate> for m::ConcernTriageUpdate {
    fn from(u: ConcernTriageUpdate) -> Self {
        m::ConcernTriageUpdate {
            risk: u.risk.map(Into::into),
            status: u.status.map(Into::into),
            assigned_lead: None,
            marking: u.marking.map(Into::into),
            note: u.note,
        }
    }
}

/// A safeguarding concern as it stands: its fixed account and its current triage.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Concern {
    /// The concern's id.
    pub id: Uuid,
    /// Its protective marking (who may see it).
    pub marking: Marking,
    /// The young people it involves.
    pub young_person_ids: Vec<Uuid>,
    /// When it happened.
    pub happened_at: Timestamp,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// The main safeguarding category.
    pub category: ConcernCategory,
    /// Further categories that also apply, sorted, without repeats.
    pub sub_categories: Vec<ConcernCategory>,
    /// What happened, as recorded (fixed once raised).
    pub account: String,
    /// The child's own words, if any were recorded.
    pub childs_words: Option<String>,
    /// The current risk level (triage).
    pub risk: Risk,
    /// Where the concern stands (triage).
    pub status: ConcernStatus,
    /// The officer leading on it, if one is assigned (triage).
    pub assigned_lead: Option<Uuid>,
    /// How many triage changes it has had (the first is the raising).
    pub triage_changes: u32,
}

impl From<m::Concern> for Concern {
    fn from(c: m::Concern) -> Self {
        Concern {
            id: c.id,
            marking: c.meta.marking.into(),
            young_person_ids: c.young_person_ids,
            happened_at: c.happened_at,
            recorded_at: c.recorded_at,
            category: c.category.into(),
            sub_categories: c.sub_categories.into_iter().map(Into::into).collect(),
            account: c.account,
            childs_words: c.childs_words,
            risk: c.risk.into(),
            status: c.status.into(),
            assigned_lead: c.assigned_lead,
            triage_changes: u32::try_from(c.triage_history.len()).unwrap_or(u32::MAX),
        }
    }
}

/// An addendum.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Addendum {
    /// Id.
    pub id: Uuid,
    /// The concern.
    pub concern_id: Uuid,
    /// When it was added.
    pub created_at: Timestamp,
    /// Text.
    pub text: String,
}

impl From<m::Addendum> for Addendum {
    fn from(a: m::Addendum) -> Self {
        Addendum {
            id: a.id,
            concern_id: a.concern_id,
            created_at: a.meta.created_at,
            text: a.text,
        }
    }
}
