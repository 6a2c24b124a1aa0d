//! Actions from the terminal: add a referral or information share, update its status or due
//! date, list them.

use pocketbook_core::model::{ActionDraft, ActionFilter, ActionUpdate};
use pocketbook_core::Pocketbook;

use super::created;
use crate::args::ActionCommand;
use crate::{output, parse, CliError};

/// Runs one `pocketbook action` subcommand.
pub fn run(book: &Pocketbook, command: ActionCommand) -> Result<(), CliError> {
    match command {
        ActionCommand::Add {
            kind,
            young_person,
            concern,
            recipient,
            justification,
            due,
            out,
        } => {
            let draft = ActionDraft {
                kind: parse::name("kind", &kind)?,
                young_person_id: parse::id("young-person", &young_person)?,
                concern_id: concern.map(|c| parse::id("concern", &c)).transpose()?,
                recipient,
                justification,
                due: due.map(|d| parse::date("due", &d)).transpose()?,
                marking: None,
            };
            let action = book.add_action(draft)?;
            created(out, "Added action", action.id, &action)
        }
        ActionCommand::Update {
            id,
            status,
            due,
            format,
        } => {
            let update = ActionUpdate {
                status: status.map(|s| parse::name("status", &s)).transpose()?,
                due: due.map(|d| parse::date("due", &d).map(Some)).transpose()?,
                recipient: None,
                justification: None,
            };
            let action = book.update_action(parse::id("id", &id)?, update)?;
            if format.json {
                return output::json(&action);
            }
            println!("Action {}: {}", action.id, output::name(&action.status));
            Ok(())
        }
        ActionCommand::List {
            young_person,
            format,
        } => {
            let filter = ActionFilter {
                young_person_id: young_person
                    .map(|v| parse::id("young-person", &v))
                    .transpose()?,
                status: None,
            };
            let list = book.actions(&filter)?;
            if format.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|a| {
                    vec![
                        a.id.to_string(),
                        output::name(&a.kind),
                        output::cell(&a.recipient, 30),
                        output::name(&a.status),
                        a.due.map(|d| d.to_string()).unwrap_or_default(),
                    ]
                })
                .collect();
            output::table(&["ID", "KIND", "RECIPIENT", "STATUS", "DUE"], &rows);
            Ok(())
        }
    }
}
