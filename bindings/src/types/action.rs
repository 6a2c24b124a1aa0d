//! FFI mirrors of actions: referrals and information shares, their draft, update and record,
//! with the kinds and statuses they use.

use chrono::NaiveDate;
use pocketbook_core::model as m;
use uuid::Uuid;

use super::Marking;

mirror_open_enum!(
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
mirror_open_enum!(
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
