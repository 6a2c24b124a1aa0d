//! A safeguarding concern: its account, fixed once submitted, its triage fields (risk, status,
//! lead) that change with history kept, and the dated addenda that correct or add to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::merge::CONCERN_ACCOUNT_FIELDS;
use pocketbook_protocol::Entity;

use super::common::{
    check_count, check_len, check_text, Marking, Record, RecordMeta, MAX_NARRATIVE,
};
use crate::error::ValidationError;

pocketbook_protocol::open_enum! {
    /// Safeguarding categories (main and sub-categories).
    pub enum ConcernCategory {
        /// Physical abuse.
        PhysicalAbuse = "physical_abuse",
        /// Emotional abuse.
        EmotionalAbuse = "emotional_abuse",
        /// Sexual abuse.
        SexualAbuse = "sexual_abuse",
        /// Neglect: persistent failure to meet a child's basic needs.
        Neglect = "neglect",
        /// Child sexual exploitation.
        Cse = "cse",
        /// Criminal exploitation, county lines.
        CriminalExploitation = "criminal_exploitation",
        /// Serious violence and weapons.
        SeriousViolence = "serious_violence",
        /// Child-on-child abuse, bullying.
        ChildOnChildAbuse = "child_on_child_abuse",
        /// Online harm.
        OnlineHarm = "online_harm",
        /// Domestic abuse.
        DomesticAbuse = "domestic_abuse",
        /// Missing from home, care or education.
        Missing = "missing",
        /// Radicalisation: risk of being drawn into terrorism (a Prevent matter).
        Radicalisation = "radicalisation",
        /// FGM, forced marriage, honour-based abuse.
        FgmForcedMarriageHba = "fgm_forced_marriage_hba",
        /// Mental health, self-harm.
        MentalHealthSelfHarm = "mental_health_self_harm",
        /// Substance misuse.
        Substances = "substances",
        /// Trafficking, modern slavery.
        Trafficking = "trafficking",
        /// Anything else.
        Other = "other",
    }
}

pocketbook_protocol::open_enum! {
    /// Assessed level of risk; ordered, so the higher risk compares greater.
    pub enum Risk {
        /// Low risk: no immediate action beyond the usual.
        Low = "low",
        /// Medium risk: action needed, but not immediately.
        Medium = "medium",
        /// High risk: immediate safeguarding action needed.
        High = "high",
    }
}

pocketbook_protocol::open_enum! {
    /// Where a concern stands.
    pub enum ConcernStatus {
        /// Just raised.
        New = "new",
        /// Being worked.
        Open = "open",
        /// Being watched.
        Monitoring = "monitoring",
        /// Closed: nothing further is needed.
        Closed = "closed",
        /// No further action.
        Nfa = "nfa",
    }
}

/// One element of a THRIVE assessment: what was found and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThriveElement {
    /// The officer's finding for this element.
    pub finding: String,
    /// The rationale behind it (required).
    pub rationale: String,
}

/// THRIVE: threat, harm, risk, investigation, vulnerability, engagement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThriveAssessment {
    /// Threat: what threat the child faces.
    pub threat: ThriveElement,
    /// Harm: what harm has been or could be done.
    pub harm: ThriveElement,
    /// Risk: how likely further harm is.
    pub risk: ThriveElement,
    /// Investigation: what investigation is needed.
    pub investigation: ThriveElement,
    /// Vulnerability: what makes the child vulnerable.
    pub vulnerability: ThriveElement,
    /// Engagement: how the child and family engage with help.
    pub engagement: ThriveElement,
}

impl ThriveAssessment {
    pub(crate) fn validate(&self) -> Result<(), ValidationError> {
        let elements = [
            ("threat", &self.threat),
            ("harm", &self.harm),
            ("risk", &self.risk),
            ("investigation", &self.investigation),
            ("vulnerability", &self.vulnerability),
            ("engagement", &self.engagement),
        ];
        for (element, e) in elements {
            if e.rationale.trim().is_empty() {
                return Err(ValidationError::MissingThriveRationale { element });
            }
            check_len("thrive.rationale", &e.rationale, MAX_NARRATIVE)?;
            check_len("thrive.finding", &e.finding, MAX_NARRATIVE)?;
        }
        Ok(())
    }
}

/// One change of a concern's triage, kept in its history.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TriageChange {
    /// When it changed.
    pub at: DateTime<Utc>,
    /// Who changed it.
    pub by: Uuid,
    /// Risk after the change.
    pub risk: Risk,
    /// Status after the change.
    pub status: ConcernStatus,
    /// Lead after the change.
    pub assigned_lead: Option<Uuid>,
    /// Why, if given.
    pub note: Option<String>,
}

/// A safeguarding concern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Concern {
    /// Record id.
    pub id: Uuid,
    /// Shared metadata.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// The young people it involves.
    pub young_person_ids: Vec<Uuid>,
    /// When it happened (may be before it was recorded).
    pub happened_at: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Main category.
    pub category: ConcernCategory,
    /// Sub-categories (a set).
    pub sub_categories: Vec<ConcernCategory>,
    /// What happened (part of the immutable account).
    pub account: String,
    /// The child's own words, if any.
    pub childs_words: Option<String>,
    /// The risk as the officer sees it, in words.
    pub risk_text: String,
    /// Action taken or proposed, in words.
    pub action_text: String,
    /// THRIVE assessment made at the time.
    pub thrive: ThriveAssessment,
    /// Current risk (triage).
    pub risk: Risk,
    /// Current status (triage).
    pub status: ConcernStatus,
    /// Current lead (triage).
    pub assigned_lead: Option<Uuid>,
    /// Every triage change, oldest first (an add-only set).
    pub triage_history: Vec<TriageChange>,
}

/// What a caller gives to raise a concern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernDraft {
    /// The young people it involves (at least one).
    pub young_person_ids: Vec<Uuid>,
    /// When it happened.
    pub happened_at: DateTime<Utc>,
    /// Main category.
    pub category: ConcernCategory,
    /// Further categories the concern also falls under (a set).
    pub sub_categories: Vec<ConcernCategory>,
    /// What happened.
    pub account: String,
    /// The child's own words, if any.
    pub childs_words: Option<String>,
    /// The risk in words.
    pub risk_text: String,
    /// Action taken or proposed.
    pub action_text: String,
    /// THRIVE assessment.
    pub thrive: ThriveAssessment,
    /// Risk level (required).
    pub risk: Option<Risk>,
    /// Lead, if one is assigned now.
    pub assigned_lead: Option<Uuid>,
    /// Marking; OFFICIAL-SENSITIVE unless given.
    pub marking: Option<Marking>,
}

/// A triage change: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConcernTriageUpdate {
    /// New risk.
    pub risk: Option<Risk>,
    /// New status.
    pub status: Option<ConcernStatus>,
    /// New lead (`Some(None)` unassigns).
    pub assigned_lead: Option<Option<Uuid>>,
    /// New marking (e.g. lowered once the sensitivity has passed).
    pub marking: Option<Marking>,
    /// Why the triage changed.
    pub note: Option<String>,
}

/// Which concerns to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConcernFilter {
    /// Only concerns involving this young person.
    pub young_person_id: Option<Uuid>,
    /// Only concerns at this risk or above.
    pub min_risk: Option<Risk>,
    /// Only concerns in this status.
    pub status: Option<ConcernStatus>,
}

impl ConcernFilter {
    /// Whether the concern passes this filter.
    pub fn matches(&self, c: &Concern) -> bool {
        self.young_person_id
            .is_none_or(|yp| c.young_person_ids.contains(&yp))
            && self.min_risk.as_ref().is_none_or(|r| c.risk >= *r)
            && self.status.as_ref().is_none_or(|s| c.status == *s)
    }
}

impl ConcernDraft {
    /// Checks the rules that need no store and makes the record.
    pub fn into_record(
        self,
        id: Uuid,
        meta: RecordMeta,
        now: DateTime<Utc>,
    ) -> Result<Concern, ValidationError> {
        if self.young_person_ids.is_empty() {
            return Err(ValidationError::NoneGiven {
                field: "young_person_ids",
            });
        }
        if self.happened_at > now + chrono::Duration::minutes(5) {
            return Err(ValidationError::InFuture {
                field: "happened_at",
            });
        }
        check_text("account", &self.account, MAX_NARRATIVE)?;
        if let Some(words) = &self.childs_words {
            check_len("childs_words", words, MAX_NARRATIVE)?;
        }
        check_text("risk_text", &self.risk_text, MAX_NARRATIVE)?;
        check_len("action_text", &self.action_text, MAX_NARRATIVE)?;
        let risk = self.risk.ok_or(ValidationError::MissingRisk)?;
        self.thrive.validate()?;
        check_count("young_person_ids", self.young_person_ids.len())?;
        check_count("sub_categories", self.sub_categories.len())?;
        let mut young_person_ids = self.young_person_ids;
        young_person_ids.dedup();
        let mut sub_categories = self.sub_categories;
        sub_categories.sort();
        sub_categories.dedup();
        let status = ConcernStatus::New;
        let by = meta.created_by;
        Ok(Concern {
            id,
            meta,
            young_person_ids,
            happened_at: self.happened_at,
            recorded_at: now,
            category: self.category,
            sub_categories,
            account: self.account,
            childs_words: self.childs_words.filter(|w| !w.trim().is_empty()),
            risk_text: self.risk_text,
            action_text: self.action_text,
            thrive: self.thrive,
            risk: risk.clone(),
            status: status.clone(),
            assigned_lead: self.assigned_lead,
            triage_history: vec![TriageChange {
                at: now,
                by,
                risk,
                status,
                assigned_lead: self.assigned_lead,
                note: None,
            }],
        })
    }
}

impl Concern {
    /// Applies a triage change, recording it in the history. `None` when nothing changes.
    pub fn triaged(
        &self,
        update: ConcernTriageUpdate,
        by: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<Concern>, ValidationError> {
        if let Some(note) = &update.note {
            check_len("note", note, MAX_NARRATIVE)?;
        }
        let mut c = self.clone();
        c.risk = update.risk.unwrap_or(c.risk);
        c.status = update.status.unwrap_or(c.status);
        c.assigned_lead = update.assigned_lead.unwrap_or(c.assigned_lead);
        c.meta.marking = update.marking.unwrap_or(c.meta.marking);
        if c == *self {
            return Ok(None);
        }
        check_count("triage_history", c.triage_history.len() + 1)?;
        c.triage_history.push(TriageChange {
            at: now,
            by,
            risk: c.risk.clone(),
            status: c.status.clone(),
            assigned_lead: c.assigned_lead,
            note: update.note.filter(|n| !n.trim().is_empty()),
        });
        Ok(Some(c))
    }
}

impl Concern {
    /// The first field of the immutable account that differs between the two, if any.
    pub fn altered_account_field(&self, other: &Concern) -> Option<&'static str> {
        let (Ok(a), Ok(b)) = (serde_json::to_value(self), serde_json::to_value(other)) else {
            return Some("account");
        };
        CONCERN_ACCOUNT_FIELDS
            .into_iter()
            .find(|field| a.get(field) != b.get(field))
    }
}

impl Record for Concern {
    const ENTITY: Entity = Entity::Concern;
    fn id(&self) -> Uuid {
        self.id
    }
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
    fn happened_at(&self) -> DateTime<Utc> {
        self.happened_at
    }
    fn young_people(&self) -> Vec<Uuid> {
        self.young_person_ids.clone()
    }
}

/// A dated addendum to a concern: how its account is corrected or added to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addendum {
    /// Record id.
    pub id: Uuid,
    /// Shared metadata (team and marking follow the concern).
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// The concern it adds to.
    pub concern_id: Uuid,
    /// The concern's young people, so the addendum shows in their chronologies.
    pub young_person_ids: Vec<Uuid>,
    /// The text.
    pub text: String,
}

impl Addendum {
    /// Checks an addendum's text: not blank and not longer than a narrative may be.
    pub fn validate_text(text: &str) -> Result<(), ValidationError> {
        check_text("text", text, MAX_NARRATIVE)
    }
}

impl Record for Addendum {
    const ENTITY: Entity = Entity::Addendum;
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
        self.young_person_ids.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concern() -> Concern {
        let now = Utc::now();
        let element = ThriveElement {
            finding: "f".into(),
            rationale: "r".into(),
        };
        let draft = ConcernDraft {
            young_person_ids: vec![Uuid::now_v7()],
            happened_at: now,
            category: ConcernCategory::OnlineHarm,
            sub_categories: vec![],
            account: "account".into(),
            childs_words: None,
            risk_text: "risk".into(),
            action_text: String::new(),
            thrive: ThriveAssessment {
                threat: element.clone(),
                harm: element.clone(),
                risk: element.clone(),
                investigation: element.clone(),
                vulnerability: element.clone(),
                engagement: element,
            },
            risk: Some(Risk::Low),
            assigned_lead: None,
            marking: None,
        };
        let meta = RecordMeta {
            team_id: Uuid::now_v7(),
            created_by: Uuid::now_v7(),
            created_at: now,
            marking: Marking::OfficialSensitive,
            review_due: now.date_naive(),
        };
        draft.into_record(Uuid::now_v7(), meta, now).unwrap()
    }

    #[test]
    fn any_change_to_the_account_is_named_and_triage_is_not() {
        let original = concern();
        let mut changed = original.clone();
        changed.thrive.harm.rationale = "rewritten".into();
        assert_eq!(changed.altered_account_field(&original), Some("thrive"));
        let mut changed = original.clone();
        changed.childs_words = Some("new words".into());
        assert_eq!(
            changed.altered_account_field(&original),
            Some("childs_words")
        );
        let update = ConcernTriageUpdate {
            risk: Some(Risk::High),
            ..Default::default()
        };
        let triaged = original
            .triaged(update, Uuid::now_v7(), Utc::now())
            .unwrap()
            .unwrap();
        assert_eq!(triaged.altered_account_field(&original), None);
    }

    #[test]
    fn a_triage_update_that_changes_nothing_is_none() {
        let original = concern();
        let same = ConcernTriageUpdate {
            risk: Some(Risk::Low),
            ..Default::default()
        };
        assert_eq!(
            original.triaged(same, Uuid::now_v7(), Utc::now()).unwrap(),
            None
        );
    }
}
