//! Spot checks of the table's rows from policing practice (every cell is checked end to end in
//! `tests/tests/trust/authorisation_table.rs`).

use pocketbook_protocol::{RejectCode, Role};

use super::*;

fn ask(role: Role, kind: Kind, operation: Operation) -> Ask {
    Ask {
        role,
        kind,
        operation,
        author_is_me: true,
        value_lost_is_mine: false,
        sees_record: true,
        member_of_target_team: true,
        has_reason: false,
        in_use: false,
    }
}

fn code(a: &Ask) -> Option<RejectCode> {
    match decide(a) {
        Decision::Allow => None,
        Decision::Refuse(code, _) => Some(code),
    }
}

#[test]
fn rows_from_policing_practice() {
    use Operation::*;
    let lead = Role::SafeguardingLead;
    assert_eq!(
        code(&ask(lead, Kind::Concern, Delete)),
        Some(RejectCode::Forbidden)
    );
    assert_eq!(
        code(&ask(Role::Officer, Kind::Visit, Delete)),
        Some(RejectCode::ReasonRequired)
    );
    let with_reason = Ask {
        has_reason: true,
        author_is_me: false,
        ..ask(Role::Supervisor, Kind::Visit, Delete)
    };
    assert_eq!(code(&with_reason), None);
    assert_eq!(
        code(&ask(Role::Auditor, Kind::Visit, Create)),
        Some(RejectCode::Forbidden)
    );
    assert_eq!(
        code(&ask(Role::Officer, Kind::Visit, LowerMarking)),
        Some(RejectCode::Forbidden)
    );
    assert_eq!(code(&ask(Role::Officer, Kind::Visit, RaiseMarking)), None);
    let in_use = Ask {
        in_use: true,
        ..ask(Role::Officer, Kind::YoungPerson, Delete)
    };
    assert_eq!(code(&in_use), Some(RejectCode::InUse));
    assert_eq!(
        code(&ask(Role::Officer, Kind::Concern, MoveTeam)),
        Some(RejectCode::Immutable)
    );
    assert_eq!(code(&ask(Role::Supervisor, Kind::Concern, MoveTeam)), None);
}

#[test]
fn every_kind_has_every_operation_and_every_cell_a_variant() {
    for kind in Kind::ALL {
        let ops = operations_of(kind);
        for op in [
            Operation::Create,
            Operation::Delete,
            Operation::RaiseMarking,
            Operation::LowerMarking,
            Operation::MoveTeam,
            Operation::ResolveConflict,
        ] {
            assert!(ops.contains(&op), "{kind:?} lacks {op:?}");
            assert!(!variants_of(kind, op).is_empty());
        }
    }
    assert!(cells().len() > 500);
}
