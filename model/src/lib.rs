#![warn(missing_docs)]
//! The domain model of DESIGN §3, shared by the device core and the server: records, their
//! enumerations, the drafts callers fill in and the validation rules that need no store. Pure
//! data; does no IO; safe on any thread.

mod action;
pub mod authz;
mod common;
mod concern;
mod engagement;
mod error;
mod record_checks;
mod visit;
mod young_person;

pub use action::{Action, ActionDraft, ActionFilter, ActionKind, ActionStatus, ActionUpdate};
pub use common::{Marking, RecordMeta};
pub use concern::{
    Addendum, Concern, ConcernCategory, ConcernDraft, ConcernFilter, ConcernStatus,
    ConcernTriageUpdate, Risk, ThriveAssessment, ThriveElement, TriageChange,
};
pub use engagement::{
    Engagement, EngagementDraft, EngagementFilter, EngagementKind, EngagementTopic, SweepResult,
};
pub use pocketbook_protocol::{AuditEvent, AuditOperation};
pub use pocketbook_protocol::{Establishment, EstablishmentKind, Officer, Role, Team};
pub use visit::{
    PromptedBy, SupportGiven, Visit, VisitDraft, VisitFilter, VisitKind, VisitOutcome, VisitUpdate,
};
pub use young_person::{AgeBand, CarerContact, VulnerabilityFlag, YoungPerson, YoungPersonDraft};

pub use common::{
    check_count, check_len, check_text, Record, MAX_ENTRIES, MAX_NARRATIVE, MAX_SHORT,
};
pub use error::ValidationError;
pub use record_checks::RecordRules;

/// The generation of this model: raised whenever a kind, field or choice is added, so a server
/// that knows more than it did tells devices (in `PushResponse::model_generation`) to resend the
/// mutations it refused as `server_too_old`. Never lowered.
pub const MODEL_GENERATION: u32 = 1;
