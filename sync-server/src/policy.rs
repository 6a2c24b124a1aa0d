//! The push policy (DESIGN §5, §6): whether a device's mutation may be applied, decided from
//! plain values — the pushing officer, the mutation, and the routing facts of the record the
//! server already holds. Pure: no database, no IO; the store loads the facts, asks, and
//! quarantines what is refused.

use pocketbook_protocol::merge::CONCERN_ACCOUNT_FIELDS;
use pocketbook_protocol::{Entity, Marking, Mutation, MutationKind, Officer, RejectCode};
use serde_json::Value;
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

/// Why `officer` may not apply `m` to the record described by `current` (`None`: the server
/// has never held it), if they may not. Checked before the merge.
pub fn refusal(officer: &Officer, m: &Mutation, current: Option<&CurrentFacts>) -> Option<Refusal> {
    if let Some(cur) = current {
        if cur.entity != m.entity {
            return Refusal::new(
                RejectCode::InvalidRecord,
                "the record id belongs to another kind of record",
            );
        }
        if !may_alter(officer, cur) {
            return Refusal::new(
                RejectCode::Forbidden,
                "the officer may not change this record",
            );
        }
        if m.entity == Entity::Concern
            && m.kind != MutationKind::Delete
            && m.fields
                .keys()
                .any(|f| CONCERN_ACCOUNT_FIELDS.contains(&f.as_str()))
        {
            return Refusal::new(
                RejectCode::AccountImmutable,
                "a concern's account cannot change after submission; add an addendum",
            );
        }
    } else {
        if m.kind != MutationKind::Create {
            return Refusal::new(
                RejectCode::UnknownRecord,
                "the record does not exist on the server",
            );
        }
        if m.fields.get("created_by").and_then(Value::as_str)
            != Some(officer.id.to_string().as_str())
        {
            return Refusal::new(
                RejectCode::Forbidden,
                "a record must be created by its own officer",
            );
        }
    }
    if let Some(refused) = landing_refusal(officer, m.team_id) {
        return Some(refused);
    }
    if m.kind != MutationKind::Delete && m.fields.is_empty() {
        return Refusal::new(
            RejectCode::InvalidRecord,
            "a change must carry at least one field",
        );
    }
    None
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

/// Whether `officer` may change the record (and so resolve its conflicts).
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
                "a held record moved to a team not the officer's",
                Role::Officer,
                mutation(Visit, Update, OTHER_TEAM, Official, &[note()]),
                held(Visit, Official, ME),
                Some(RejectCode::ForbiddenBucket),
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
                "a delete carries no fields, even of a concern",
                Role::Officer,
                mutation(Concern, Delete, TEAM, Official, &[]),
                held(Concern, Official, ME),
                None,
            ),
            (
                "an admin writes into any team",
                Role::Admin,
                mutation(Visit, Update, OTHER_TEAM, Official, &[note()]),
                Some(facts(Visit, OTHER_TEAM, Official, COLLEAGUE)),
                None,
            ),
        ];
        for (rule, role, m, current, expected) in cases {
            let got = refusal(&officer(role), &m, current.as_ref()).map(|r| r.code);
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
