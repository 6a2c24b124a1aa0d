//! Actions (referrals, information sharing) and school engagements.

use pocketbook_core::model::{
    ActionDraft, ActionFilter, ActionUpdate, EngagementDraft, EngagementFilter,
};
use pocketbook_core::Pocketbook;

use super::{created, establishment};
use crate::args::{ActionCommand, EngagementCommand};
use crate::{output, parse, CliError};

pub fn action(book: &Pocketbook, command: ActionCommand) -> Result<(), CliError> {
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

pub fn engagement(book: &Pocketbook, command: EngagementCommand) -> Result<(), CliError> {
    match command {
        EngagementCommand::Record {
            kind,
            establishment: school,
            topics,
            year_groups,
            audience,
            at,
            sweep_result,
            concerns_arising,
            out,
        } => {
            let draft = EngagementDraft {
                kind: parse::name("kind", &kind)?,
                topics: parse::all(&topics, |t| parse::name("topic", t))?,
                establishment_id: establishment(book, &school)?,
                year_groups,
                audience_size: audience,
                at: parse::time("at", &at)?,
                sweep_result: sweep_result
                    .map(|s| parse::name("sweep-result", &s))
                    .transpose()?,
                concerns_arising,
                marking: None,
            };
            let e = book.record_engagement(draft)?;
            created(out, "Recorded engagement", e.id, &e)
        }
        EngagementCommand::List(format) => {
            let list = book.engagements(&EngagementFilter::default())?;
            if format.json {
                return output::json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|e| {
                    vec![
                        e.id.to_string(),
                        output::time(&e.at),
                        output::name(&e.kind),
                        e.audience_size.to_string(),
                        e.topics
                            .iter()
                            .map(output::name)
                            .collect::<Vec<_>>()
                            .join(","),
                    ]
                })
                .collect();
            output::table(&["ID", "AT", "KIND", "AUDIENCE", "TOPICS"], &rows);
            Ok(())
        }
    }
}
