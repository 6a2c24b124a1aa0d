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

/// What a caller gives to raise a concern.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConcernDraft {
    /// Young people involved.
    pub young_person_ids: Vec<Uuid>,
    /// When it happened.
    pub happened_at: Timestamp,
    /// Category.
    pub category: ConcernCategory,
    /// What happened.
    pub account: String,
    /// The child's own words.
    pub childs_words: Option<String>,
    /// Risk in words.
    pub risk_text: String,
    /// Action taken or proposed.
    pub action_text: String,
    /// THRIVE.
    pub thrive: Thrive,
    /// Risk level (required).
    pub risk: Option<Risk>,
    /// Marking (OFFICIAL-SENSITIVE unless given).
    pub marking: Option<Marking>,
}

impl From<ConcernDraft> for m::ConcernDraft {
    fn from(d: ConcernDraft) -> Self {
        m::ConcernDraft {
            young_person_ids: d.young_person_ids,
            happened_at: d.happened_at,
            category: d.category.into(),
            sub_categories: Vec::new(),
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
            assigned_lead: None,
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

/// A concern.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Concern {
    /// Id.
    pub id: Uuid,
    /// Marking.
    pub marking: Marking,
    /// Young people.
    pub young_person_ids: Vec<Uuid>,
    /// When it happened.
    pub happened_at: Timestamp,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Category.
    pub category: ConcernCategory,
    /// The account.
    pub account: String,
    /// The child's words.
    pub childs_words: Option<String>,
    /// Risk.
    pub risk: Risk,
    /// Status.
    pub status: ConcernStatus,
    /// How many triage changes (the first is the raising).
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
            account: c.account,
            childs_words: c.childs_words,
            risk: c.risk.into(),
            status: c.status.into(),
            triage_changes: c.triage_history.len().min(u32::MAX as usize) as u32,
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
