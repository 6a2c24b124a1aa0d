//! Concerns: raise, list, show, addendum, triage.

use pocketbook_core::model::{
    Concern, ConcernDraft, ConcernFilter, ConcernTriageUpdate, ThriveAssessment, ThriveElement,
};
use pocketbook_core::Pocketbook;

use super::created;
use crate::args::{ConcernCommand, Format};
use crate::{output, parse, CliError};

/// Builds the THRIVE assessment from ELEMENT FINDING RATIONALE triples. Elements left out stay
/// empty, and the core reports the first one without a rationale.
fn thrive(values: &[String]) -> Result<ThriveAssessment, CliError> {
    let mut t = ThriveAssessment::default();
    for triple in values.chunks(3) {
        let [element, finding, rationale] = triple else {
            return Err(CliError::Usage(
                "--thrive takes ELEMENT FINDING RATIONALE".into(),
            ));
        };
        let slot = match element.trim().to_lowercase().as_str() {
            "threat" => &mut t.threat,
            "harm" => &mut t.harm,
            "risk" => &mut t.risk,
            "investigation" => &mut t.investigation,
            "vulnerability" => &mut t.vulnerability,
            "engagement" => &mut t.engagement,
            _ => {
                return Err(CliError::Usage(
                    "--thrive: ELEMENT is one of threat, harm, risk, investigation, \
                     vulnerability, engagement"
                        .into(),
                ))
            }
        };
        *slot = ThriveElement {
            finding: finding.clone(),
            rationale: rationale.clone(),
        };
    }
    Ok(t)
}

fn print(list: &[Concern], f: Format) -> Result<(), CliError> {
    if f.json {
        return output::json(list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                output::time(&c.happened_at),
                output::name(&c.category),
                output::name(&c.risk),
                output::name(&c.status),
                c.meta.marking.as_str().to_string(),
                output::cell(&c.account, 40),
            ]
        })
        .collect();
    output::table(
        &[
            "ID", "HAPPENED", "CATEGORY", "RISK", "STATUS", "MARKING", "ACCOUNT",
        ],
        &rows,
    );
    Ok(())
}

fn show(book: &Pocketbook, concern: &Concern, f: Format) -> Result<(), CliError> {
    let addenda = book.addenda(concern.id)?;
    if f.json {
        return output::json(&serde_json::json!({ "concern": concern, "addenda": addenda }));
    }
    println!("Concern {} [{}]", concern.id, concern.meta.marking.as_str());
    println!("Happened:  {}", output::time(&concern.happened_at));
    println!("Recorded:  {}", output::time(&concern.recorded_at));
    println!("Category:  {}", output::name(&concern.category));
    println!("Account:   {}", concern.account);
    if let Some(words) = &concern.childs_words {
        println!("In the child's words: \"{words}\"");
    }
    println!(
        "Risk:      {} ({})",
        output::name(&concern.risk),
        concern.risk_text
    );
    println!("Status:    {}", output::name(&concern.status));
    for change in &concern.triage_history {
        println!(
            "  triage {}: risk {}, status {}{}",
            output::time(&change.at),
            output::name(&change.risk),
            output::name(&change.status),
            change
                .note
                .as_ref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default()
        );
    }
    for a in &addenda {
        println!("Addendum {}: {}", output::time(&a.meta.created_at), a.text);
    }
    Ok(())
}

pub fn run(book: &Pocketbook, command: ConcernCommand) -> Result<(), CliError> {
    match command {
        ConcernCommand::Raise {
            young_people,
            happened_at,
            category,
            sub_categories,
            account,
            childs_words,
            risk_text,
            action_text,
            thrive: thrive_args,
            risk,
            lead,
            marking,
            out,
        } => {
            let draft = ConcernDraft {
                young_person_ids: parse::all(&young_people, |v| parse::id("young-person", v))?,
                happened_at: parse::time("happened-at", &happened_at)?,
                category: parse::name("category", &category)?,
                sub_categories: parse::all(&sub_categories, |v| parse::name("sub-category", v))?,
                account,
                childs_words,
                risk_text,
                action_text,
                thrive: thrive(&thrive_args)?,
                risk: risk.map(|r| parse::name("risk", &r)).transpose()?,
                assigned_lead: lead.map(|l| parse::id("lead", &l)).transpose()?,
                marking: marking.map(|m| parse::marking(&m)).transpose()?,
            };
            let concern = book.raise_concern(draft)?;
            created(out, "Raised concern", concern.id, &concern)
        }
        ConcernCommand::List {
            young_person,
            min_risk,
            status,
            format,
        } => {
            let filter = ConcernFilter {
                young_person_id: young_person
                    .map(|v| parse::id("young-person", &v))
                    .transpose()?,
                min_risk: min_risk.map(|v| parse::name("min-risk", &v)).transpose()?,
                status: status.map(|v| parse::name("status", &v)).transpose()?,
            };
            print(&book.concerns(&filter)?, format)
        }
        ConcernCommand::Show { id, format } => {
            let concern = book.concern(parse::id("id", &id)?)?;
            show(book, &concern, format)
        }
        ConcernCommand::Addendum { id, text, out } => {
            let addendum = book.add_addendum(parse::id("id", &id)?, &text)?;
            created(out, "Added addendum", addendum.id, &addendum)
        }
        ConcernCommand::CorrectChild {
            id,
            young_people,
            reason,
            format,
        } => {
            let ids = young_people
                .iter()
                .map(|v| parse::id("young-person", v))
                .collect::<Result<Vec<_>, _>>()?;
            let concern = book.correct_concern_child(parse::id("id", &id)?, ids, &reason)?;
            if format.json {
                return output::json(&concern);
            }
            println!("Concern {}: linked young people corrected", concern.id);
            Ok(())
        }
        ConcernCommand::Triage {
            id,
            risk,
            status,
            lead,
            unassign,
            marking,
            note,
            format,
        } => {
            let update = ConcernTriageUpdate {
                risk: risk.map(|v| parse::name("risk", &v)).transpose()?,
                status: status.map(|v| parse::name("status", &v)).transpose()?,
                assigned_lead: if unassign {
                    Some(None)
                } else {
                    lead.map(|l| parse::id("lead", &l).map(Some)).transpose()?
                },
                marking: marking.map(|m| parse::marking(&m)).transpose()?,
                note,
            };
            let concern = book.update_concern_triage(parse::id("id", &id)?, update)?;
            if format.json {
                return output::json(&concern);
            }
            println!(
                "Concern {}: risk {}, status {}",
                concern.id,
                output::name(&concern.risk),
                output::name(&concern.status)
            );
            Ok(())
        }
    }
}
