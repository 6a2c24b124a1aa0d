//! School engagements from the terminal: record one at an establishment (by URN or id), list
//! them.

use pocketbook_core::model::{EngagementDraft, EngagementFilter};
use pocketbook_core::Pocketbook;

use super::{created, establishment};
use crate::args::EngagementCommand;
use crate::{output, parse, CliError};

/// Runs one `pocketbook engagement` subcommand.
pub fn run(book: &Pocketbook, command: EngagementCommand) -> Result<(), CliError> {
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
