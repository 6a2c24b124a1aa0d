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
mod tests {
    use std::collections::BTreeMap;

    use pocketbook_protocol::{Hlc, Role, Version};
    use serde_json::json;

    use super::*;

    const ME: u128 = 1;
    const COLLEAGUE: u128 = 2;
    const TEAM: u128 = 10;
    const OTHER_TEAM: u128 = 20;

    fn officer(role: Role) -> Officer {
        Officer {
            id: Uuid::from_u128(ME),
            name: "PC Test".into(),
            shoulder_number: "1".into(),
            role,
            team_ids: vec![Uuid::from_u128(TEAM)],
        }
    }

    fn mutation(
        entity: Entity,
        kind: MutationKind,
        team: u128,
        marking: Marking,
        fields: &[(&str, Value)],
    ) -> Mutation {
        Mutation {
            reason: None,
            seq: 1,
            entity,
            record_id: Uuid::from_u128(100),
            kind,
            team_id: Uuid::from_u128(team),
            marking,
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            base: BTreeMap::new(),
            sets: BTreeMap::new(),
            version: Version {
                hlc: Hlc {
                    millis: 1,
                    counter: 0,
                },
                node: Uuid::from_u128(7),
            },
        }
    }

    fn facts(entity: Entity, team: u128, marking: Marking, author: u128) -> CurrentFacts {
        CurrentFacts {
            entity,
            team_id: Uuid::from_u128(team),
            marking,
            created_by: Uuid::from_u128(author),
        }
    }

    /// One row of the table: the rule, who pushes, what, onto which held record (if any), and
    /// the code expected (`None`: allowed).
    type Case = (
        &'static str,
        Role,
        Mutation,
        Option<CurrentFacts>,
        Option<RejectCode>,
    );

    #[test]
    fn each_rule_answers_its_own_code() {
        use Entity::{Concern, Visit};
        use Marking::{Official, OfficialSensitive};
        use MutationKind::{Create, Delete, Update};
        let mine = json!(Uuid::from_u128(ME).to_string());
        let theirs = json!(Uuid::from_u128(COLLEAGUE).to_string());
        let note = || ("notes", json!("x"));
        let held = |entity, marking, author| Some(facts(entity, TEAM, marking, author));
        let cases: Vec<Case> = vec![
            (
                "another kind of record under the same id",
                Role::Officer,
                mutation(Visit, Update, TEAM, Official, &[note()]),
                held(Concern, Official, ME),
                Some(RejectCode::InvalidRecord),
            ),
            (
                "may not alter a colleague's sensitive record",
                Role::Officer,
                mutation(Visit, Update, TEAM, OfficialSensitive, &[note()]),
                held(Visit, OfficialSensitive, COLLEAGUE),
                Some(RejectCode::Forbidden),
            ),
            (
                "may not alter a record of another team",
                Role::Officer,
                mutation(Visit, Update, TEAM, Official, &[note()]),
                Some(facts(Visit, OTHER_TEAM, Official, ME)),
                Some(RejectCode::Forbidden),
            ),
            (
                "a concern's account is immutable",
                Role::Officer,
                mutation(
                    Concern,
                    Update,
                    TEAM,
                    Official,
                    &[("happened_at", json!("x"))],
                ),
                held(Concern, Official, ME),
                Some(RejectCode::AccountImmutable),
            ),
            (
                "an update of a record the server never held",
                Role::Officer,
                mutation(Visit, Update, TEAM, Official, &[note()]),
                None,
                Some(RejectCode::UnknownRecord),
            ),
            (
                "a delete of a record the server never held",
                Role::Officer,
                mutation(Visit, Delete, TEAM, Official, &[]),
                None,
                Some(RejectCode::UnknownRecord),
            ),
            (
                "a record created in someone else's name",
                Role::Officer,
                mutation(Visit, Create, TEAM, Official, &[("created_by", theirs)]),
                None,
                Some(RejectCode::Forbidden),
            ),
            (
                "a record created with no author",
                Role::Officer,
                mutation(Visit, Create, TEAM, Official, &[note()]),
                None,
                Some(RejectCode::Forbidden),
            ),
            (
                "a record created in a team not the officer's",
                Role::Officer,
                mutation(
                    Visit,
                    Create,
                    OTHER_TEAM,
                    Official,
                    &[("created_by", mine.clone())],
                ),
                None,
                Some(RejectCode::ForbiddenBucket),
            ),
            (
                "an officer may not move a record to another team",
                Role::Officer,
                mutation(
                    Visit,
                    Update,
                    OTHER_TEAM,
                    Official,
                    &[("team_id", json!(Uuid::from_u128(OTHER_TEAM).to_string()))],
                ),
                held(Visit, Official, ME),
                Some(RejectCode::Immutable),
            ),
            (
                "an update that changes nothing",
                Role::Officer,
                mutation(Visit, Update, TEAM, Official, &[]),
                held(Visit, Official, ME),
                Some(RejectCode::InvalidRecord),
            ),
            (
                "a create with the officer's own name",
                Role::Officer,
                mutation(
                    Visit,
                    Create,
                    TEAM,
                    Official,
                    &[("created_by", mine.clone())],
                ),
                None,
                None,
            ),
            (
                "an update of a team record a colleague wrote",
                Role::Officer,
                mutation(Visit, Update, TEAM, Official, &[note()]),
                held(Visit, Official, COLLEAGUE),
                None,
            ),
            (
                "an update of the officer's own sensitive record",
                Role::Officer,
                mutation(Visit, Update, TEAM, OfficialSensitive, &[note()]),
                held(Visit, OfficialSensitive, ME),
                None,
            ),
            (
                "a supervisor updating a colleague's sensitive record",
                Role::Supervisor,
                mutation(Visit, Update, TEAM, OfficialSensitive, &[note()]),
                held(Visit, OfficialSensitive, COLLEAGUE),
                None,
            ),
            (
                "a concern's other fields may change",
                Role::Officer,
                mutation(Concern, Update, TEAM, Official, &[("risk", json!("high"))]),
                held(Concern, Official, ME),
                None,
            ),
            (
                "a concern is never deleted by a device",
                Role::Officer,
                mutation(Concern, Delete, TEAM, Official, &[]),
                held(Concern, Official, ME),
                Some(RejectCode::Forbidden),
            ),
            (
                "an admin never writes records through sync",
                Role::Admin,
                mutation(Visit, Update, OTHER_TEAM, Official, &[note()]),
                Some(facts(Visit, OTHER_TEAM, Official, COLLEAGUE)),
                Some(RejectCode::Forbidden),
            ),
        ];
        let none = Map::new();
        for (rule, role, m, current, expected) in cases {
            let held = current.as_ref().map(|facts| Held {
                facts,
                fields: &none,
            });
            let got = refusal(&officer(role), &m, held, false).map(|r| r.code);
            assert_eq!(got, expected, "{rule}");
        }
    }

    #[test]
    fn a_merge_may_not_land_outside_the_officers_teams() {
        let me = officer(Role::Officer);
        assert_eq!(landing_refusal(&me, Uuid::from_u128(TEAM)), None);
        let refused = landing_refusal(&me, Uuid::from_u128(OTHER_TEAM)).map(|r| r.code);
        assert_eq!(refused, Some(RejectCode::ForbiddenBucket));
        assert_eq!(
            landing_refusal(&officer(Role::Auditor), Uuid::from_u128(OTHER_TEAM)),
            None
        );
    }
}
