//! Which group of the authorisation table each serialised field of each kind belongs to, so the
//! server can turn a mutation's fields into the operations it asks about (a test in
//! `model/tests/field_names.rs` holds every serialised field of every kind to a group).

use super::{FieldGroup, Kind};

/// What a field is to the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRole {
    /// A field of this group.
    Group(FieldGroup),
    /// `team_id`: changing it is a [`super::Operation::MoveTeam`].
    Team,
    /// `marking`: changing it raises or lowers the marking.
    Marking,
}

/// The groups an update of `kind` may touch, in the table's order.
pub fn groups_of(kind: Kind) -> &'static [FieldGroup] {
    use FieldGroup::*;
    match kind {
        Kind::YoungPerson => &[Details, Flags, Retention, Authorship],
        Kind::Visit | Kind::Action | Kind::Engagement => &[Details, Retention, Authorship],
        Kind::Concern => &[
            Account,
            LinkedChild,
            Triage,
            TriageHistory,
            Retention,
            Authorship,
        ],
        Kind::Addendum => &[AddendumText, Retention, Authorship],
    }
}

/// The role of field `field` of a record of `kind` (`None`: a field this build does not know,
/// which the record guard answers as `server_too_old`).
pub fn field_role(kind: Kind, field: &str) -> Option<FieldRole> {
    use FieldGroup::*;
    let group = match field {
        "team_id" => return Some(FieldRole::Team),
        "marking" => return Some(FieldRole::Marking),
        "id" | "created_by" | "created_at" => Authorship,
        "review_due" => Retention,
        _ => match kind {
            Kind::YoungPerson => match field {
                "flags" => Flags,
                "first_name" | "last_name" | "date_of_birth" | "age_band" | "establishment_id"
                | "year_group" | "carers" => Details,
                _ => return None,
            },
            Kind::Visit => match field {
                "kind" | "prompted_by" | "young_person_ids" | "officer_ids" | "start" | "end"
                | "place" | "location" | "present" | "outcome" | "support_given"
                | "signposted_to" | "narrative" | "follow_up" => Details,
                _ => return None,
            },
            Kind::Concern => match field {
                "young_person_ids" => LinkedChild,
                "happened_at" | "recorded_at" | "category" | "sub_categories" | "account"
                | "childs_words" | "risk_text" | "thrive" => Account,
                "action_text" | "risk" | "status" | "assigned_lead" => Triage,
                "triage_history" => TriageHistory,
                _ => return None,
            },
            Kind::Addendum => match field {
                "concern_id" | "young_person_ids" | "text" => AddendumText,
                _ => return None,
            },
            Kind::Action => match field {
                "kind" | "young_person_id" | "concern_id" | "recipient" | "justification"
                | "due" | "status" => Details,
                _ => return None,
            },
            Kind::Engagement => match field {
                "kind" | "topics" | "establishment_id" | "year_groups" | "audience_size" | "at"
                | "sweep_result" | "concerns_arising" => Details,
                _ => return None,
            },
        },
    };
    Some(FieldRole::Group(group))
}
