//! The cells of the authorisation table: every role × kind × operation × variant of authorship,
//! team, reason and use that the written table shows and the end-to-end test pushes.

use pocketbook_protocol::Role;

use super::{decide, groups_of, Ask, Decision, FieldGroup, Kind, Operation};

/// The roles, in the table's order.
pub const ROLES: [Role; 5] = [
    Role::Officer,
    Role::Supervisor,
    Role::SafeguardingLead,
    Role::Auditor,
    Role::Admin,
];

/// The facts that vary between cells of one role, kind and operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// The record is the officer's own (for a create: it names them as author).
    pub mine: bool,
    /// The officer sees the record (it is in one of their teams).
    pub seen: bool,
    /// The mutation carries a reason.
    pub reason: bool,
    /// Another live record names the young person.
    pub in_use: bool,
    /// The officer is a member of the team the record lands in.
    pub target_member: bool,
    /// The conflict's losing value is the officer's.
    pub lost_mine: bool,
}

const OWN: Variant = Variant {
    mine: true,
    seen: true,
    reason: false,
    in_use: false,
    target_member: true,
    lost_mine: false,
};
const COLLEAGUES: Variant = Variant { mine: false, ..OWN };
const UNSEEN: Variant = Variant {
    mine: false,
    seen: false,
    ..OWN
};

impl Variant {
    /// The variant's description in the written table.
    pub fn label(&self, operation: Operation) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if operation == Operation::Create {
            parts.push(if self.mine {
                "in own name"
            } else {
                "in a colleague's name"
            });
            parts.push(if self.target_member {
                "own team"
            } else {
                "another team"
            });
            return parts.join(", ");
        }
        parts.push(match (self.seen, self.mine) {
            (false, _) => "another team's record",
            (true, true) => "own record",
            (true, false) => "colleague's record",
        });
        if operation == Operation::MoveTeam {
            parts.push(if self.target_member {
                "member of target team"
            } else {
                "not member of target team"
            });
        }
        if operation == Operation::ResolveConflict {
            parts.push(if self.lost_mine {
                "own value lost"
            } else {
                "colleague's value lost"
            });
        }
        if self.reason {
            parts.push("with reason");
        }
        if self.in_use {
            parts.push("named by another record");
        }
        parts.join(", ")
    }
}

/// The operations the table has rows for on `kind`, in order.
pub fn operations_of(kind: Kind) -> Vec<Operation> {
    let mut ops = vec![Operation::Create];
    ops.extend(groups_of(kind).iter().map(|g| Operation::Update(*g)));
    if kind == Kind::YoungPerson {
        ops.push(Operation::RemoveFlag);
    }
    if kind == Kind::Concern {
        ops.push(Operation::RewriteHistory);
    }
    ops.extend([
        Operation::Delete,
        Operation::RaiseMarking,
        Operation::LowerMarking,
        Operation::MoveTeam,
        Operation::ResolveConflict,
    ]);
    ops
}

/// The variants the table shows for `operation` on `kind`.
pub fn variants_of(kind: Kind, operation: Operation) -> Vec<Variant> {
    let with_reason = |v: Variant| Variant { reason: true, ..v };
    match operation {
        Operation::Create => vec![
            OWN,
            Variant {
                target_member: false,
                ..OWN
            },
            Variant { mine: false, ..OWN },
        ],
        Operation::Update(FieldGroup::LinkedChild) => vec![
            with_reason(OWN),
            with_reason(COLLEAGUES),
            COLLEAGUES,
            with_reason(UNSEEN),
        ],
        Operation::Delete if kind == Kind::Visit => vec![
            with_reason(OWN),
            OWN,
            with_reason(COLLEAGUES),
            with_reason(UNSEEN),
        ],
        Operation::Delete if kind == Kind::YoungPerson => vec![
            OWN,
            COLLEAGUES,
            Variant {
                in_use: true,
                ..OWN
            },
            UNSEEN,
        ],
        Operation::MoveTeam => vec![
            OWN,
            COLLEAGUES,
            Variant {
                target_member: false,
                ..OWN
            },
            UNSEEN,
        ],
        Operation::ResolveConflict => vec![
            Variant {
                lost_mine: true,
                ..COLLEAGUES
            },
            COLLEAGUES,
            Variant {
                lost_mine: true,
                ..UNSEEN
            },
        ],
        _ => vec![OWN, COLLEAGUES, UNSEEN],
    }
}

/// One cell of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    /// Who asks.
    pub role: Role,
    /// The kind of record.
    pub kind: Kind,
    /// The operation.
    pub operation: Operation,
    /// Authorship, team, reason and use.
    pub variant: Variant,
}

impl Cell {
    /// The question this cell puts to [`decide`].
    pub fn ask(&self) -> Ask {
        let v = self.variant;
        Ask {
            role: self.role,
            kind: self.kind,
            operation: self.operation,
            author_is_me: v.mine,
            value_lost_is_mine: v.lost_mine,
            sees_record: v.seen,
            member_of_target_team: v.target_member,
            has_reason: v.reason,
            in_use: v.in_use,
        }
    }

    /// The table's answer for this cell.
    pub fn decision(&self) -> Decision {
        decide(&self.ask())
    }
}

/// Every cell of the table, in order: kind, operation, variant, role.
pub fn cells() -> Vec<Cell> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        for operation in operations_of(kind) {
            for variant in variants_of(kind, operation) {
                for role in ROLES {
                    out.push(Cell {
                        role,
                        kind,
                        operation,
                        variant,
                    });
                }
            }
        }
    }
    out
}
