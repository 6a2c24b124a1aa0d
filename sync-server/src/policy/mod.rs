//! The push policy (DESIGN §5, §6): a thin adapter that turns a device's mutation, and the
//! facts the server holds about the record, into questions for the authorisation table
//! ([`pocketbook_model::authz::decide`]) and answers with the first refusal. Pure: no
//! database, no IO; the store loads the facts (from its own tables, never the device's word),
//! asks, and quarantines what is refused.

use std::collections::BTreeSet;

use pocketbook_model::authz::{
    self, field_role, Ask, Decision, FieldGroup, FieldRole, Kind, Operation,
};
use pocketbook_model::MAX_SHORT;
use pocketbook_protocol::{Entity, Marking, Mutation, MutationKind, Officer, RejectCode};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::scope;

/// What the policy needs to know of a record the server already holds: where it is routed and
/// who wrote it, not what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentFacts {
    /// Its kind.
    pub entity: Entity,
    /// Its team.
    pub team_id: Uuid,
    /// Its marking.
    pub marking: Marking,
    /// Its author.
    pub created_by: Uuid,
}

/// A record the server holds, as the policy sees it: its routing facts and its fields (to tell
/// which fields a mutation really changes).
#[derive(Debug, Clone, Copy)]
pub struct Held<'a> {
    /// Kind, team, marking, author.
    pub facts: &'a CurrentFacts,
    /// The stored fields.
    pub fields: &'a Map<String, Value>,
}

/// Why a mutation is refused: the code and the message the device is answered with. Messages
/// name rules, never the record's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The stable code.
    pub code: RejectCode,
    /// The human message.
    pub message: &'static str,
}

impl Refusal {
    fn new(code: RejectCode, message: &'static str) -> Option<Refusal> {
        Some(Refusal { code, message })
    }
}

/// The facts of one question about a mutation, before the operation is named.
struct Facts<'a> {
    officer: &'a Officer,
    kind: Kind,
    author_is_me: bool,
    sees_record: bool,
    has_reason: bool,
    in_use: bool,
}

impl Facts<'_> {
    fn ask(&self, operation: Operation, target_team: Option<Uuid>) -> Option<Refusal> {
        let ask = Ask {
            role: self.officer.role,
            kind: self.kind,
            operation,
            author_is_me: self.author_is_me,
            value_lost_is_mine: false,
            sees_record: self.sees_record,
            member_of_target_team: target_team.is_some_and(|t| self.officer.team_ids.contains(&t)),
            has_reason: self.has_reason,
            in_use: self.in_use,
        };
        answer(&ask)
    }
}

fn answer(ask: &Ask) -> Option<Refusal> {
    match authz::decide(ask) {
        Decision::Allow => None,
        Decision::Refuse(code, message) => Some(Refusal { code, message }),
    }
}

fn has_reason(m: &Mutation) -> bool {
    m.reason.as_deref().is_some_and(|r| !r.trim().is_empty())
}

/// Why `officer` may not apply `m` to the record `held` (`None`: the server has never held
/// it), if they may not. `in_use`: for a young person's delete, whether another live record
/// names them. Checked before the merge.
pub fn refusal(
    officer: &Officer,
    m: &Mutation,
    held: Option<Held<'_>>,
    in_use: bool,
) -> Option<Refusal> {
    if let Some(held) = held {
        if held.facts.entity != m.entity {
            return Refusal::new(
                RejectCode::InvalidRecord,
                "the record id belongs to another kind of record",
            );
        }
    } else if m.kind != MutationKind::Create {
        return Refusal::new(
            RejectCode::UnknownRecord,
            "the record does not exist on the server",
        );
    }
    if m.reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > MAX_SHORT)
    {
        return Refusal::new(RejectCode::InvalidRecord, "reason is longer than allowed");
    }
    if m.kind != MutationKind::Delete && m.fields.is_empty() {
        return Refusal::new(
            RejectCode::InvalidRecord,
            "a change must carry at least one field",
        );
    }
    // A kind this build does not know is answered `server_too_old` by the record guard.
    let kind = Kind::of(&m.entity)?;
    let field = |name: &str| m.fields.get(name).and_then(Value::as_str);
    let Some(held) = held else {
        let facts = Facts {
            officer,
            kind,
            author_is_me: field("created_by") == Some(officer.id.to_string().as_str()),
            sees_record: true,
            has_reason: has_reason(m),
            in_use: false,
        };
        let team = field("team_id").and_then(|s| Uuid::parse_str(s).ok());
        return facts
            .ask(Operation::Create, Some(team.unwrap_or(m.team_id)))
            .or_else(|| landing_refusal(officer, m.team_id));
    };
    let cur = held.facts;
    let facts = Facts {
        officer,
        kind,
        author_is_me: cur.created_by == officer.id,
        sees_record: scope::may_alter(officer, cur.team_id, cur.marking, cur.created_by),
        has_reason: has_reason(m),
        in_use,
    };
    if m.kind == MutationKind::Delete {
        return facts
            .ask(Operation::Delete, None)
            .or_else(|| landing_refusal(officer, m.team_id));
    }
    let mut operations = BTreeSet::new();
    let mut target = None;
    for (name, value) in &m.fields {
        if held.fields.get(name) == Some(value) {
            continue;
        }
        match field_role(kind, name) {
            Some(FieldRole::Group(group)) => {
                operations.insert(Operation::Update(group));
            }
            Some(FieldRole::Team) => {
                let to = value.as_str().and_then(|s| Uuid::parse_str(s).ok());
                if to != Some(cur.team_id) {
                    target = to;
                    operations.insert(Operation::MoveTeam);
                }
            }
            Some(FieldRole::Marking) => match serde_json::from_value::<Marking>(value.clone()) {
                Ok(Marking::OfficialSensitive) if cur.marking == Marking::Official => {
                    operations.insert(Operation::RaiseMarking);
                }
                Ok(Marking::Official) if cur.marking == Marking::OfficialSensitive => {
                    operations.insert(Operation::LowerMarking);
                }
                _ => {}
            },
            None => {}
        }
    }
    if operations.is_empty() {
        // Nothing changes in value: still an edit the officer must be allowed to make.
        operations.insert(Operation::Update(FieldGroup::Details));
    }
    operations
        .into_iter()
        .find_map(|op| facts.ask(op, target))
        .or_else(|| landing_refusal(officer, m.team_id))
}

/// Why the merged fields may not replace the stored ones, if they may not: a young person's
/// flag removed (only a supervisor or lead may), an entry of a concern's triage history changed
/// or dropped (the stored history must stay, in order, as a prefix). Checked after the merge;
/// a delete (judged by [`refusal`]) is not asked again here.
pub fn merged_refusal(
    officer: &Officer,
    m: &Mutation,
    held: Held<'_>,
    merged: &Map<String, Value>,
) -> Option<Refusal> {
    if m.kind == MutationKind::Delete {
        return None;
    }
    let kind = Kind::of(&m.entity)?;
    let list = |fields: &Map<String, Value>, name: &str| {
        fields
            .get(name)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let operation = match kind {
        Kind::YoungPerson => {
            let after = list(merged, "flags");
            let removed = list(held.fields, "flags")
                .iter()
                .any(|flag| !after.contains(flag));
            removed.then_some(Operation::RemoveFlag)?
        }
        Kind::Concern => {
            let (before, after) = (
                list(held.fields, "triage_history"),
                list(merged, "triage_history"),
            );
            let kept = after.len() >= before.len() && after[..before.len()] == before[..];
            (!kept).then_some(Operation::RewriteHistory)?
        }
        _ => return None,
    };
    let cur = held.facts;
    answer(&Ask {
        role: officer.role,
        kind,
        operation,
        author_is_me: cur.created_by == officer.id,
        value_lost_is_mine: false,
        sees_record: scope::may_alter(officer, cur.team_id, cur.marking, cur.created_by),
        member_of_target_team: officer.team_ids.contains(&cur.team_id),
        has_reason: has_reason(m),
        in_use: false,
    })
}

/// Why `officer` may not resolve a conflict of the record `current`, if they may not;
/// `value_lost_is_mine`: the conflict's losing version was stamped by one of their devices.
pub fn resolution_refusal(
    officer: &Officer,
    current: &CurrentFacts,
    value_lost_is_mine: bool,
) -> Option<Refusal> {
    let kind = Kind::of(&current.entity)?;
    answer(&Ask {
        role: officer.role,
        kind,
        operation: Operation::ResolveConflict,
        author_is_me: current.created_by == officer.id,
        value_lost_is_mine,
        sees_record: may_alter(officer, current),
        member_of_target_team: officer.team_ids.contains(&current.team_id),
        has_reason: false,
        in_use: false,
    })
}

/// Why the merged record may not land in `team_id` (the team it has once merged, which a
/// mutation may move), if it may not. Checked after the merge.
pub fn landing_refusal(officer: &Officer, team_id: Uuid) -> Option<Refusal> {
    if scope::may_write(officer, team_id) {
        None
    } else {
        Refusal::new(
            RejectCode::ForbiddenBucket,
            "the officer may not write into that team",
        )
    }
}

/// Whether `officer` may see, and so change, the record.
pub fn may_alter(officer: &Officer, record: &CurrentFacts) -> bool {
    scope::may_alter(officer, record.team_id, record.marking, record.created_by)
}

#[cfg(test)]
mod tests;
