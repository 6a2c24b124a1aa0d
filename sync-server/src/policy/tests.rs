//! The push policy's table of unit tests: each rule answers its own code.

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
        versions: None,
        conflicts: None,
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
