//! An action: a referral or information-sharing step taken for a child, with its status.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;

use super::common::{check_text, Marking, Record, RecordMeta, MAX_NARRATIVE, MAX_SHORT};
use crate::error::ValidationError;

pocketbook_protocol::open_enum! {
    /// Where a referral or information share goes.
    pub enum ActionKind {
        /// Public protection notice.
        Ppn = "ppn",
        /// Multi-agency safeguarding hub.
        Mash = "mash",
        /// Early help.
        EarlyHelp = "early_help",
        /// Children's social care.
        SocialCare = "social_care",
        /// The school's designated safeguarding lead.
        SchoolDsl = "school_dsl",
        /// Child and adolescent mental health services.
        Camhs = "camhs",
        /// Youth justice service.
        YouthJustice = "youth_justice",
        /// Prevent: a referral over a risk of radicalisation.
        Prevent = "prevent",
        /// Child Exploitation and Online Protection.
        Ceop = "ceop",
        /// Signposting only.
        Signpost = "signpost",
    }
}

pocketbook_protocol::open_enum! {
    /// Where an action stands.
    pub enum ActionStatus {
        /// Not sent yet.
        Draft = "draft",
        /// Sent to the recipient.
        Sent = "sent",
        /// The recipient acknowledged it.
        Acknowledged = "acknowledged",
        /// Past its due date without acknowledgement.
        Overdue = "overdue",
        /// Done: nothing further is needed.
        Done = "done",
    }
}

/// A referral or information-sharing action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Record id.
    pub id: Uuid,
    /// Shared metadata.
    #[serde(flatten)]
    pub meta: RecordMeta,
    /// What kind of referral or information sharing it is.
    pub kind: ActionKind,
    /// The young person it is for.
    pub young_person_id: Uuid,
    /// The concern it follows from, if any.
    pub concern_id: Option<Uuid>,
    /// Who receives it (team or role, not a private person).
    pub recipient: String,
    /// Why sharing is justified (lawful basis, necessity).
    pub justification: String,
    /// When it is due.
    pub due: Option<NaiveDate>,
    /// Where the action stands.
    pub status: ActionStatus,
}

/// What a caller gives to add an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDraft {
    /// What kind of referral or information sharing it is.
    pub kind: ActionKind,
    /// The young person it is for.
    pub young_person_id: Uuid,
    /// The concern it follows from, if any.
    pub concern_id: Option<Uuid>,
    /// Who receives it.
    pub recipient: String,
    /// Why sharing is justified.
    pub justification: String,
    /// When it is due.
    pub due: Option<NaiveDate>,
    /// Marking; OFFICIAL unless given.
    pub marking: Option<Marking>,
}

/// A change to an action: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionUpdate {
    /// New status.
    pub status: Option<ActionStatus>,
    /// New due date (`Some(None)` clears it).
    pub due: Option<Option<NaiveDate>>,
    /// New recipient.
    pub recipient: Option<String>,
    /// New justification.
    pub justification: Option<String>,
}

/// Which actions to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionFilter {
    /// Only actions for this young person.
    pub young_person_id: Option<Uuid>,
    /// Only actions in this status.
    pub status: Option<ActionStatus>,
}

impl ActionFilter {
    /// Whether the action passes this filter.
    pub fn matches(&self, a: &Action) -> bool {
        self.young_person_id.is_none_or(|y| a.young_person_id == y)
            && self.status.as_ref().is_none_or(|s| a.status == *s)
    }
}

impl ActionDraft {
    /// Makes the action this draft describes, with its id and metadata (validate first).
    pub fn into_record(self, id: Uuid, meta: RecordMeta) -> Action {
        Action {
            id,
            meta,
            kind: self.kind,
            young_person_id: self.young_person_id,
            concern_id: self.concern_id,
            recipient: self.recipient.trim().to_string(),
            justification: self.justification,
            due: self.due,
            status: ActionStatus::Draft,
        }
    }
}

impl Action {
    /// The action with `update` applied; fields the update leaves out keep their values.
    pub fn updated(&self, update: ActionUpdate) -> Action {
        let mut a = self.clone();
        a.status = update.status.unwrap_or(a.status);
        a.due = update.due.unwrap_or(a.due);
        if let Some(r) = update.recipient {
            a.recipient = r.trim().to_string();
        }
        a.justification = update.justification.unwrap_or(a.justification);
        a
    }

    /// Checks the rules that need no store: recipient and justification present and not too long.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check_text("recipient", &self.recipient, MAX_SHORT)?;
        check_text("justification", &self.justification, MAX_NARRATIVE)?;
        if matches!(self.due, Some(d) if d < self.meta.created_at.date_naive()) {
            return Err(ValidationError::EndBeforeStart { field: "due" });
        }
        Ok(())
    }
}

impl Record for Action {
    const ENTITY: Entity = Entity::Action;
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
        vec![self.young_person_id]
    }
}
