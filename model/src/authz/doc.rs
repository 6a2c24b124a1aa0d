//! Renders the authorisation table as Markdown: `docs/AUTHORISATION.md` is this function's
//! output, and `model/tests/authz_doc.rs` fails when the file differs from it.

use std::fmt::Write as _;

use super::cells::ROLES;
use super::{operations_of, variants_of, Cell, Decision, FieldGroup, Kind};
use pocketbook_protocol::Role;

fn kind_title(kind: Kind) -> &'static str {
    match kind {
        Kind::YoungPerson => "Young person",
        Kind::Visit => "Visit",
        Kind::Concern => "Concern",
        Kind::Addendum => "Addendum",
        Kind::Action => "Action",
        Kind::Engagement => "Engagement",
    }
}

fn role_title(role: Role) -> &'static str {
    match role {
        Role::Officer => "Officer",
        Role::Supervisor => "Supervisor",
        Role::SafeguardingLead => "Safeguarding lead",
        Role::Auditor => "Auditor",
        Role::Admin => "Admin",
    }
}

fn group_fields(kind: Kind, group: FieldGroup) -> &'static str {
    use FieldGroup::*;
    match (kind, group) {
        (_, Authorship) => "`id`, `created_by`, `created_at`",
        (_, Retention) => "`review_due`",
        (Kind::YoungPerson, Flags) => "`flags`",
        (Kind::YoungPerson, _) => "every other field",
        (Kind::Concern, LinkedChild) => "`young_person_ids`",
        (Kind::Concern, Account) => {
            "`happened_at`, `recorded_at`, `category`, `sub_categories`, `account`, \
             `childs_words`, `risk_text`, `thrive`"
        }
        (Kind::Concern, Triage) => "`risk`, `status`, `assigned_lead`, `action_text`",
        (Kind::Concern, _) => "`triage_history`",
        (Kind::Addendum, _) => "`concern_id`, `young_person_ids`, `text`",
        _ => "every other field",
    }
}

const HEADER: &str = "# Who may do what: the authorisation table

<!-- Generated from `model/src/authz` by `UPDATE_AUTHZ_DOC=1 cargo test -p pocketbook-model \
--test authz_doc`. Do not edit by hand. -->

The sync server asks `pocketbook_model::authz::decide` about every mutation a device pushes and
every conflict resolution it sends, from facts it reads from its own tables on every request
(the officer's role and teams, the stored record's author, team and marking, the conflict's
losing device) — never the device's word. A mutation touching several groups of fields asks once
per group; the first refusal is the answer. Refused mutations are quarantined with their code;
an unauthorised conflict resolution is not acknowledged and is audited.

Facts in the variants:

- *own record*: the officer created it; *colleague's record*: another officer of the same team
  did; *another team's record*: the record's team is not one of the officer's (or it is
  OFFICIAL-SENSITIVE and the officer is neither its author nor a role that opens sensitive
  buckets) — the officer cannot see it.
- *member of target team*: for a create, the team it is created in; for a move, the team it
  moves to. A force-wide lead (a safeguarding lead who covers every team) is a member of every
  team, so may move any record.
- *with reason*: the mutation carries `reason` (at most 500 characters), kept in the server's
  audit trail.
- *named by another record*: a live visit, concern, addendum or action names the young person.

Rules the table encodes: concerns and addenda are never deleted by a device (erasure is
`pocketbook-server erase RECORD_ID --reason TEXT`); a concern's account and an addendum are
immutable; triage history is append-only (the server compares the stored history with the
merged one: every stored entry must stay, in order, as a prefix); a record a device deletes (a
visit, a young person, an action, an engagement) reaches devices as a tombstone while the server
keeps its content unserved until an admin erasure or its review date
(`pocketbook-server purge-reviewed`, run daily by the operator); a move takes the record's
addenda, actions and conflicts with it; auditors and admins never write records through sync
(their devices' audit events, such as consults, are still accepted).

Cells: `allow`, or the refusal code the device is answered with.
";

/// The Markdown of the whole table.
pub fn render_doc() -> String {
    let mut out = String::from(HEADER);
    for kind in Kind::ALL {
        let _ = write!(out, "\n## {}\n\nField groups:", kind_title(kind));
        for group in super::groups_of(kind) {
            let _ = write!(out, " {} = {};", group.label(), group_fields(kind, *group));
        }
        out.push_str(" changing `team_id` is a move; changing `marking` raises or lowers it.\n\n");
        out.push_str("| Operation | Variant |");
        for role in ROLES {
            let _ = write!(out, " {} |", role_title(role));
        }
        out.push_str("\n|---|---|");
        for _ in ROLES {
            out.push_str("---|");
        }
        out.push('\n');
        for operation in operations_of(kind) {
            for variant in variants_of(kind, operation) {
                let _ = write!(
                    out,
                    "| {} | {} |",
                    operation.label(),
                    variant.label(operation)
                );
                for role in ROLES {
                    let cell = Cell {
                        role,
                        kind,
                        operation,
                        variant,
                    };
                    match cell.decision() {
                        Decision::Allow => out.push_str(" allow |"),
                        Decision::Refuse(code, _) => {
                            let _ = write!(out, " `{}` |", code.as_str());
                        }
                    }
                }
                out.push('\n');
            }
        }
    }
    out
}
