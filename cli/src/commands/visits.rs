//! Visits: record, list, show, update, delete.

use pocketbook_core::model::{Marking, Visit, VisitDraft, VisitFilter, VisitUpdate};
use pocketbook_core::Pocketbook;

use super::created;
use crate::args::{Format, VisitCommand, VisitFields};
use crate::{output, parse, CliError};

fn required<T>(value: Option<T>, flag: &str) -> Result<T, CliError> {
    value.ok_or_else(|| CliError::Usage(format!("--{flag} is required")))
}

fn draft(f: VisitFields, sensitive: bool) -> Result<VisitDraft, CliError> {
    let start = parse::time("start", &required(f.start, "start")?)?;
    Ok(VisitDraft {
        kind: parse::name("kind", &required(f.kind, "kind")?)?,
        prompted_by: parse::name("prompted-by", &required(f.prompted_by, "prompted-by")?)?,
        young_person_ids: parse::all(&f.young_people, |v| parse::id("young-person", v))?,
        officer_ids: parse::all(&f.officers, |v| parse::id("officer", v))?,
        start,
        end: match f.end {
            Some(e) => parse::time("end", &e)?,
            None => start,
        },
        place: required(f.place, "place")?,
        location: None,
        present: f.present,
        outcome: parse::name("outcome", &required(f.outcome, "outcome")?)?,
        support_given: parse::all(&f.support, |v| parse::name("support", v))?,
        signposted_to: f.signposted,
        narrative: required(f.narrative, "narrative")?,
        follow_up: f
            .follow_up
            .map(|d| parse::date("follow-up", &d))
            .transpose()?,
        marking: sensitive.then_some(Marking::OfficialSensitive),
    })
}

fn update(f: VisitFields) -> Result<VisitUpdate, CliError> {
    let set = |v: Vec<String>| if v.is_empty() { None } else { Some(v) };
    Ok(VisitUpdate {
        kind: f.kind.map(|v| parse::name("kind", &v)).transpose()?,
        prompted_by: f
            .prompted_by
            .map(|v| parse::name("prompted-by", &v))
            .transpose()?,
        young_person_ids: set(f.young_people)
            .map(|v| parse::all(&v, |x| parse::id("young-person", x)))
            .transpose()?,
        officer_ids: set(f.officers)
            .map(|v| parse::all(&v, |x| parse::id("officer", x)))
            .transpose()?,
        start: f.start.map(|v| parse::time("start", &v)).transpose()?,
        end: f.end.map(|v| parse::time("end", &v)).transpose()?,
        place: f.place,
        present: set(f.present),
        outcome: f.outcome.map(|v| parse::name("outcome", &v)).transpose()?,
        support_given: set(f.support)
            .map(|v| parse::all(&v, |x| parse::name("support", x)))
            .transpose()?,
        signposted_to: set(f.signposted),
        narrative: f.narrative,
        follow_up: f
            .follow_up
            .map(|d| parse::date("follow-up", &d).map(Some))
            .transpose()?,
    })
}

fn print(list: &[Visit], f: Format) -> Result<(), CliError> {
    if f.json {
        return output::json(list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|v| {
            vec![
                v.id.to_string(),
                output::time(&v.start),
                output::name(&v.kind),
                output::name(&v.outcome),
                output::cell(&v.narrative, 50),
            ]
        })
        .collect();
    output::table(&["ID", "START", "KIND", "OUTCOME", "NARRATIVE"], &rows);
    Ok(())
}

pub fn run(book: &Pocketbook, command: VisitCommand) -> Result<(), CliError> {
    match command {
        VisitCommand::Record {
            fields,
            sensitive,
            out,
        } => {
            let visit = book.record_visit(draft(fields, sensitive)?)?;
            created(out, "Recorded visit", visit.id, &visit)
        }
        VisitCommand::List {
            young_person,
            since,
            kind,
            format,
        } => {
            let filter = VisitFilter {
                young_person_id: young_person
                    .map(|v| parse::id("young-person", &v))
                    .transpose()?,
                since: since.map(|v| parse::time("since", &v)).transpose()?,
                until: None,
                kind: kind.map(|v| parse::name("kind", &v)).transpose()?,
            };
            print(&book.visits(&filter)?, format)
        }
        VisitCommand::Show { id, format } => {
            let visit = book.visit(parse::id("id", &id)?)?;
            print(&[visit], format)
        }
        VisitCommand::Update { id, fields, format } => {
            let visit = book.update_visit(parse::id("id", &id)?, update(fields)?)?;
            if format.json {
                return output::json(&visit);
            }
            println!("Updated visit {}", visit.id);
            Ok(())
        }
        VisitCommand::Delete { id, reason } => {
            let id = parse::id("id", &id)?;
            book.delete_visit(id, &reason)?;
            println!("Deleted visit {id}");
            Ok(())
        }
    }
}
