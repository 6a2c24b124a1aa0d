//! A visit: a welfare check, food parcel, online-safety support and the like, with its draft,
//! update and filter.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;

use super::common::{
    check_count, check_len, check_text, Record, RecordMeta, MAX_NARRATIVE, MAX_SHORT,
};
use crate::error::ValidationError;

pocketbook_protocol::open_enum! {
    /// What kind of visit it was.
    pub enum VisitKind {
        /// A welfare check on a child.
        WelfareCheck = "welfare_check",
        /// Delivering a food parcel.
        FoodParcel = "food_parcel",
        /// Help with online bullying or other online harm.
        OnlineSafetySupport = "online_safety_support",
        /// Pointing a family to services.
        Signposting = "signposting",
        /// Following up an earlier visit or concern.
        FollowUp = "follow_up",
        /// Supporting a volunteer police cadet.
        CadetSupport = "cadet_support",
        /// Nobody answered.
        NoAccess = "no_access",
    }
}

pocketbook_protocol::open_enum! {
    /// Who asked for the visit.
    pub enum PromptedBy {
        /// The school.
        School = "school",
        /// The council.
        Council = "council",
        /// The multi-agency safeguarding hub.
        Mash = "mash",
        /// The police.
        Police = "police",
        /// The parent or the young person.
        ParentOrSelf = "parent_or_self",
    }
}

pocketbook_protocol::open_enum! {
    /// How the visit ended.
    pub enum VisitOutcome {
        /// Nothing of concern.
        NoConcerns = "no_concerns",
        /// Advice was given.
        AdviceGiven = "advice_given",
        /// The family was signposted to services.
        Signposted = "signposted",
        /// A safeguarding concern was raised.
        ConcernRaised = "concern_raised",
        /// A referral was made.
        ReferralMade = "referral_made",
    }
}

pocketbook_protocol::open_enum! {
    /// Support given during a visit (a set).
    pub enum SupportGiven {
        /// Food or a food parcel.
        Food = "food",
        /// Safety advice.
        SafetyAdvice = "safety_advice",
        /// Online safety advice.
        OnlineSafetyAdvice = "online_safety_advice",
        /// Emotional support.
        EmotionalSupport = "emotional_support",
        /// Help with school attendance.
        AttendanceSupport = "attendance_support",
        /// Liaison with the school.
        SchoolLiaison = "school_liaison",
        /// Crime prevention advice.
        CrimePrevention = "crime_prevention",
    }
}

/// A visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    /// Record id.
    pub id: Uuid,
    /// Shared metadata.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// Kind of visit.
    pub kind: VisitKind,
    /// Who prompted it.
    pub prompted_by: PromptedBy,
    /// The young people visited.
    pub young_person_ids: Vec<Uuid>,
    /// The officers who attended.
    pub officer_ids: Vec<Uuid>,
    /// When it started.
    pub start: DateTime<Utc>,
    /// When it ended.
    pub end: DateTime<Utc>,
    /// Address or ward.
    pub place: String,
    /// Optional location (latitude, longitude).
    pub location: Option<(f64, f64)>,
    /// Who was present (roles, e.g. "mother", "DSL").
    pub present: Vec<String>,
    /// How it ended.
    pub outcome: VisitOutcome,
    /// Support given (a set).
    pub support_given: Vec<SupportGiven>,
    /// Services signposted to (a set).
    pub signposted_to: Vec<String>,
    /// What happened.
    pub narrative: String,
    /// When to follow up.
    pub follow_up: Option<NaiveDate>,
}

/// What a caller gives to record a visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitDraft {
    /// Kind of visit.
    pub kind: VisitKind,
    /// Who prompted it.
    pub prompted_by: PromptedBy,
    /// The young people visited (at least one).
    pub young_person_ids: Vec<Uuid>,
    /// Other officers who attended (the recording officer is added).
    pub officer_ids: Vec<Uuid>,
    /// When it started.
    pub start: DateTime<Utc>,
    /// When it ended.
    pub end: DateTime<Utc>,
    /// Address or ward.
    pub place: String,
    /// Optional location (latitude, longitude).
    pub location: Option<(f64, f64)>,
    /// Who was present.
    pub present: Vec<String>,
    /// How it ended.
    pub outcome: VisitOutcome,
    /// Support given.
    pub support_given: Vec<SupportGiven>,
    /// Services signposted to.
    pub signposted_to: Vec<String>,
    /// What happened.
    pub narrative: String,
    /// When to follow up.
    pub follow_up: Option<NaiveDate>,
    /// Marking; OFFICIAL unless given.
    pub marking: Option<super::Marking>,
}

/// A change to a visit: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VisitUpdate {
    /// New kind.
    pub kind: Option<VisitKind>,
    /// New prompt.
    pub prompted_by: Option<PromptedBy>,
    /// New set of young people.
    pub young_person_ids: Option<Vec<Uuid>>,
    /// New set of officers.
    pub officer_ids: Option<Vec<Uuid>>,
    /// New start.
    pub start: Option<DateTime<Utc>>,
    /// New end.
    pub end: Option<DateTime<Utc>>,
    /// New place.
    pub place: Option<String>,
    /// New people present.
    pub present: Option<Vec<String>>,
    /// New outcome.
    pub outcome: Option<VisitOutcome>,
    /// New support given.
    pub support_given: Option<Vec<SupportGiven>>,
    /// New services signposted to.
    pub signposted_to: Option<Vec<String>>,
    /// New narrative.
    pub narrative: Option<String>,
    /// New follow-up date (`Some(None)` clears it).
    pub follow_up: Option<Option<NaiveDate>>,
}

/// Which visits to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VisitFilter {
    /// Only visits to this young person.
    pub young_person_id: Option<Uuid>,
    /// Only visits starting at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only visits starting before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only this kind.
    pub kind: Option<VisitKind>,
}

impl VisitFilter {
    /// Whether the visit passes this filter.
    pub fn matches(&self, v: &Visit) -> bool {
        self.young_person_id
            .is_none_or(|yp| v.young_person_ids.contains(&yp))
            && self.since.is_none_or(|t| v.start >= t)
            && self.until.is_none_or(|t| v.start < t)
            && self.kind.as_ref().is_none_or(|k| v.kind == *k)
    }
}

impl VisitDraft {
    /// Makes the visit this draft describes, with its id and metadata (validate first).
    pub fn into_record(self, id: Uuid, meta: RecordMeta) -> Visit {
        let mut officer_ids = self.officer_ids;
        officer_ids.insert(0, meta.created_by);
        let mut visit = Visit {
            id,
            meta,
            kind: self.kind,
            prompted_by: self.prompted_by,
            young_person_ids: self.young_person_ids,
            officer_ids,
            start: self.start,
            end: self.end,
            place: self.place.trim().to_string(),
            location: self.location,
            present: self.present,
            outcome: self.outcome,
            support_given: self.support_given,
            signposted_to: self.signposted_to,
            narrative: self.narrative,
            follow_up: self.follow_up,
        };
        visit.normalise();
        visit
    }
}

impl Visit {
    /// Applies an update to a copy of this visit.
    pub fn updated(&self, update: VisitUpdate) -> Visit {
        let mut v = self.clone();
        if let Some(x) = update.kind {
            v.kind = x;
        }
        if let Some(x) = update.prompted_by {
            v.prompted_by = x;
        }
        if let Some(x) = update.young_person_ids {
            v.young_person_ids = x;
        }
        if let Some(x) = update.officer_ids {
            v.officer_ids = x;
        }
        if let Some(x) = update.start {
            v.start = x;
        }
        if let Some(x) = update.end {
            v.end = x;
        }
        if let Some(x) = update.place {
            v.place = x.trim().to_string();
        }
        if let Some(x) = update.present {
            v.present = x;
        }
        if let Some(x) = update.outcome {
            v.outcome = x;
        }
        if let Some(x) = update.support_given {
            v.support_given = x;
        }
        if let Some(x) = update.signposted_to {
            v.signposted_to = x;
        }
        if let Some(x) = update.narrative {
            v.narrative = x;
        }
        if let Some(x) = update.follow_up {
            v.follow_up = x;
        }
        v.normalise();
        v
    }

    /// Sets are kept sorted and without duplicates so equal sets compare equal.
    fn normalise(&mut self) {
        dedup_keep_order(&mut self.young_person_ids);
        dedup_keep_order(&mut self.officer_ids);
        self.support_given.sort();
        self.support_given.dedup();
        self.signposted_to.sort();
        self.signposted_to.dedup();
    }

    /// Checks the rules that need no store.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if self.young_person_ids.is_empty() {
            return Err(ValidationError::NoneGiven {
                field: "young_person_ids",
            });
        }
        check_count("young_person_ids", self.young_person_ids.len())?;
        check_count("officer_ids", self.officer_ids.len())?;
        check_count("present", self.present.len())?;
        check_count("support_given", self.support_given.len())?;
        check_count("signposted_to", self.signposted_to.len())?;
        if self.end < self.start {
            return Err(ValidationError::EndBeforeStart { field: "end" });
        }
        if self.start > now + chrono::Duration::minutes(5) {
            return Err(ValidationError::InFuture { field: "start" });
        }
        check_text("place", &self.place, MAX_SHORT)?;
        check_text("narrative", &self.narrative, MAX_NARRATIVE)?;
        for p in &self.present {
            check_text("present", p, MAX_SHORT)?;
        }
        for s in &self.signposted_to {
            check_text("signposted_to", s, MAX_SHORT)?;
        }
        if let Some((lat, lon)) = self.location {
            if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lon) {
                return Err(ValidationError::OutOfRange { field: "location" });
            }
        }
        if matches!(self.follow_up, Some(d) if d < self.start.date_naive()) {
            return Err(ValidationError::EndBeforeStart { field: "follow_up" });
        }
        check_len("narrative", &self.narrative, MAX_NARRATIVE)
    }
}

fn dedup_keep_order(ids: &mut Vec<Uuid>) {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
}

impl Record for Visit {
    const ENTITY: Entity = Entity::Visit;
    fn id(&self) -> Uuid {
        self.id
    }
    fn meta(&self) -> &RecordMeta {
        &self.meta
    }
    fn happened_at(&self) -> DateTime<Utc> {
        self.start
    }
    fn young_people(&self) -> Vec<Uuid> {
        self.young_person_ids.clone()
    }
}
