//! Who may do what (issue 11): THE authorisation table, as one pure function over the role, the
//! kind of record, the operation, the fields touched (as groups), authorship and team. The
//! server's push policy asks it for every mutation and conflict resolution; `docs/AUTHORISATION.md`
//! is rendered from it (see [`render_doc`]), so the written table cannot drift from the code.

mod cells;
mod doc;
mod fields;

pub use cells::{cells, operations_of, variants_of, Cell, Variant};
pub use doc::render_doc;
pub use fields::{field_role, groups_of, FieldRole};

use pocketbook_protocol::{Entity, RejectCode, Role};

/// A kind of record the table has rows for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A young person.
    YoungPerson,
    /// A visit.
    Visit,
    /// A concern.
    Concern,
    /// An addendum to a concern.
    Addendum,
    /// An action (a referral or a task).
    Action,
    /// A school engagement.
    Engagement,
}

impl Kind {
    /// Every kind, in the table's order.
    pub const ALL: [Kind; 6] = [
        Kind::YoungPerson,
        Kind::Visit,
        Kind::Concern,
        Kind::Addendum,
        Kind::Action,
        Kind::Engagement,
    ];

    /// The kind of a wire entity (`None`: a kind this build does not know).
    pub fn of(entity: &Entity) -> Option<Kind> {
        Some(match entity {
            Entity::YoungPerson => Kind::YoungPerson,
            Entity::Visit => Kind::Visit,
            Entity::Concern => Kind::Concern,
            Entity::Addendum => Kind::Addendum,
            Entity::Action => Kind::Action,
            Entity::Engagement => Kind::Engagement,
            Entity::Unknown(_) => return None,
        })
    }

    /// The wire entity of this kind.
    pub fn entity(self) -> Entity {
        match self {
            Kind::YoungPerson => Entity::YoungPerson,
            Kind::Visit => Entity::Visit,
            Kind::Concern => Entity::Concern,
            Kind::Addendum => Entity::Addendum,
            Kind::Action => Entity::Action,
            Kind::Engagement => Entity::Engagement,
        }
    }
}

/// A group of fields of one kind that the table treats alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldGroup {
    /// The record's ordinary content (a visit's, a young person's but their flags, an
    /// action's, an engagement's).
    Details,
    /// A young person's vulnerability flags (adding one; removing one is
    /// [`Operation::RemoveFlag`]).
    Flags,
    /// A concern's account (what happened, the child's words, THRIVE): fixed once submitted.
    Account,
    /// The young people a concern names.
    LinkedChild,
    /// A concern's triage: risk, status, lead, action taken.
    Triage,
    /// A concern's triage history, appended to (rewriting it is
    /// [`Operation::RewriteHistory`]).
    TriageHistory,
    /// An addendum's text and what it is attached to.
    AddendumText,
    /// The review date that governs retention.
    Retention,
    /// Authorship: the id, `created_by`, `created_at`.
    Authorship,
}

impl FieldGroup {
    /// The group's name in the written table.
    pub fn label(self) -> &'static str {
        match self {
            FieldGroup::Details => "details",
            FieldGroup::Flags => "flags (add)",
            FieldGroup::Account => "account",
            FieldGroup::LinkedChild => "linked child",
            FieldGroup::Triage => "triage",
            FieldGroup::TriageHistory => "triage history (append)",
            FieldGroup::AddendumText => "text",
            FieldGroup::Retention => "review date",
            FieldGroup::Authorship => "authorship",
        }
    }
}

/// What the officer does to the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    /// Creates it.
    Create,
    /// Changes fields of one group.
    Update(FieldGroup),
    /// Removes a young person's vulnerability flag.
    RemoveFlag,
    /// Changes or drops an entry already in a concern's triage history.
    RewriteHistory,
    /// Deletes it (a tombstone).
    Delete,
    /// Raises its marking to OFFICIAL-SENSITIVE.
    RaiseMarking,
    /// Lowers its marking to OFFICIAL.
    LowerMarking,
    /// Moves it to another team (an update of `team_id`).
    MoveTeam,
    /// Resolves one of its conflicts.
    ResolveConflict,
}

impl Operation {
    /// The operation's name in the written table.
    pub fn label(self) -> String {
        match self {
            Operation::Create => "create".into(),
            Operation::Update(g) => format!("update: {}", g.label()),
            Operation::RemoveFlag => "update: flags (remove)".into(),
            Operation::RewriteHistory => "update: triage history (rewrite)".into(),
            Operation::Delete => "delete".into(),
            Operation::RaiseMarking => "raise marking".into(),
            Operation::LowerMarking => "lower marking".into(),
            Operation::MoveTeam => "move team".into(),
            Operation::ResolveConflict => "resolve conflict".into(),
        }
    }
}

/// One question put to the table: the facts the server loads from its own tables (never the
/// device's word) about who asks, what and on which record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// The officer's role, as the server holds it.
    pub role: Role,
    /// The kind of record.
    pub kind: Kind,
    /// The operation.
    pub operation: Operation,
    /// The record's author is the asking officer (for a create: the record names them).
    pub author_is_me: bool,
    /// For a conflict resolution: the losing value was written by one of the officer's devices.
    pub value_lost_is_mine: bool,
    /// The officer may see the record: a member of its team, and for a sensitive record its
    /// author or a role that opens sensitive buckets. Not used for a create.
    pub sees_record: bool,
    /// The officer is a member of the team the record lands in (a create's team, a move's
    /// target). A force-wide lead is a member of every team.
    pub member_of_target_team: bool,
    /// The mutation carries a reason.
    pub has_reason: bool,
    /// For a young person's delete: another live record names them.
    pub in_use: bool,
}

/// The table's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Refused with this code and message (the message names rules, never content).
    Refuse(RejectCode, &'static str),
}

fn refuse(code: RejectCode, message: &'static str) -> Decision {
    Decision::Refuse(code, message)
}

/// Whether the role leads a team: a supervisor or a safeguarding lead.
pub fn leads(role: Role) -> bool {
    matches!(role, Role::Supervisor | Role::SafeguardingLead)
}

/// THE authorisation table: whether the asked operation is allowed, and if not, why.
pub fn decide(ask: &Ask) -> Decision {
    use Operation as Op;
    let lead = leads(ask.role);
    if !matches!(ask.role, Role::Officer) && !lead {
        return refuse(
            RejectCode::Forbidden,
            "auditors and admins never write records through sync",
        );
    }
    if ask.operation == Op::Create {
        if !ask.author_is_me {
            return refuse(
                RejectCode::Forbidden,
                "a record must be created by its own officer",
            );
        }
        if !ask.member_of_target_team {
            return refuse(
                RejectCode::ForbiddenBucket,
                "the officer may not write into that team",
            );
        }
        return Decision::Allow;
    }
    if !ask.sees_record {
        return refuse(
            RejectCode::Forbidden,
            "the officer may not change this record",
        );
    }
    let author_or_lead = ask.author_is_me || lead;
    match ask.operation {
        Op::Create => Decision::Allow,
        Op::Update(FieldGroup::Authorship) => refuse(
            RejectCode::Immutable,
            "who created a record, and when, never changes",
        ),
        Op::Update(FieldGroup::Account) => refuse(
            RejectCode::AccountImmutable,
            "a concern's account cannot change after submission; add an addendum",
        ),
        Op::Update(FieldGroup::AddendumText) => refuse(
            RejectCode::Immutable,
            "an addendum cannot change; add another",
        ),
        Op::RewriteHistory => refuse(
            RejectCode::Immutable,
            "triage history is append-only: every entry stays, in order",
        ),
        Op::Update(FieldGroup::LinkedChild) if !lead => refuse(
            RejectCode::Forbidden,
            "only a supervisor or safeguarding lead may correct a concern's linked child",
        ),
        Op::Update(FieldGroup::LinkedChild) if !ask.has_reason => refuse(
            RejectCode::ReasonRequired,
            "correcting a concern's linked child needs a reason",
        ),
        Op::Update(FieldGroup::Retention) if !lead => refuse(
            RejectCode::Forbidden,
            "only a supervisor or safeguarding lead may change a review date",
        ),
        Op::RemoveFlag if !lead => refuse(
            RejectCode::Forbidden,
            "only a supervisor or safeguarding lead may remove a vulnerability flag",
        ),
        Op::Update(_) | Op::RemoveFlag | Op::RaiseMarking => Decision::Allow,
        Op::LowerMarking if lead => Decision::Allow,
        Op::LowerMarking => refuse(
            RejectCode::Forbidden,
            "only a supervisor or safeguarding lead may lower a marking",
        ),
        Op::Delete => delete(ask, author_or_lead),
        Op::MoveTeam => move_team(ask, lead),
        Op::ResolveConflict if lead || ask.value_lost_is_mine => Decision::Allow,
        Op::ResolveConflict => refuse(
            RejectCode::Forbidden,
            "a conflict is resolved by a supervisor, a lead or the officer whose value lost",
        ),
    }
}

fn delete(ask: &Ask, author_or_lead: bool) -> Decision {
    match ask.kind {
        Kind::Concern | Kind::Addendum => refuse(
            RejectCode::Forbidden,
            "concerns and addenda are never deleted by a device; erasure is an admin action",
        ),
        _ if !author_or_lead => refuse(
            RejectCode::Forbidden,
            "a record is deleted only by its author, a supervisor or a lead",
        ),
        Kind::Visit if !ask.has_reason => refuse(
            RejectCode::ReasonRequired,
            "deleting a visit needs a reason",
        ),
        Kind::YoungPerson if ask.in_use => refuse(
            RejectCode::InUse,
            "a young person another record names cannot be deleted",
        ),
        _ => Decision::Allow,
    }
}

fn move_team(ask: &Ask, lead: bool) -> Decision {
    if ask.kind == Kind::Addendum {
        return refuse(
            RejectCode::Immutable,
            "an addendum moves only with its concern",
        );
    }
    if !lead {
        return refuse(
            RejectCode::Immutable,
            "a record's team changes only by a supervisor's or lead's move",
        );
    }
    if !ask.member_of_target_team {
        return refuse(
            RejectCode::ForbiddenBucket,
            "a move needs a supervisor or lead of both teams",
        );
    }
    Decision::Allow
}

#[cfg(test)]
mod tests;
