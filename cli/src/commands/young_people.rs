//! Young people and their chronologies.

use pocketbook_core::model::{CarerContact, YoungPerson, YoungPersonDraft};
use pocketbook_core::Pocketbook;

use super::{created, establishment};
use crate::args::{Format, YoungPersonCommand};
use crate::{output, parse, CliError};

fn carer(text: &str) -> Result<CarerContact, CliError> {
    let mut parts = text.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), Some(relationship), phone) => Ok(CarerContact {
            name: name.trim().to_string(),
            relationship: relationship.trim().to_string(),
            phone: phone.map(|p| p.trim().to_string()),
        }),
        _ => Err(CliError::Usage(
            "--carer: expected NAME:RELATIONSHIP[:PHONE]".into(),
        )),
    }
}

fn print(list: &[YoungPerson], f: Format) -> Result<(), CliError> {
    if f.json {
        return output::json(list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                format!("{} {}", p.first_name, p.last_name),
                p.date_of_birth
                    .map(|d| d.to_string())
                    .or(p.age_band.as_ref().map(output::name))
                    .unwrap_or_default(),
                p.year_group.map(|y| format!("Y{y}")).unwrap_or_default(),
                p.flags
                    .iter()
                    .map(output::name)
                    .collect::<Vec<_>>()
                    .join(","),
            ]
        })
        .collect();
    output::table(&["ID", "NAME", "BORN", "YEAR", "FLAGS"], &rows);
    Ok(())
}

pub fn run(book: &Pocketbook, command: YoungPersonCommand) -> Result<(), CliError> {
    match command {
        YoungPersonCommand::Add {
            first_name,
            last_name,
            dob,
            age_band,
            establishment: school,
            year_group,
            flags,
            carers,
            out,
        } => {
            let draft = YoungPersonDraft {
                first_name,
                last_name,
                date_of_birth: dob.map(|d| parse::date("dob", &d)).transpose()?,
                age_band: age_band.map(|b| parse::name("age-band", &b)).transpose()?,
                establishment_id: school.map(|s| establishment(book, &s)).transpose()?,
                year_group,
                carers: parse::all(&carers, carer)?,
                flags: parse::all(&flags, |f| parse::name("flag", f))?,
            };
            let person = book.add_young_person(draft)?;
            created(out, "Added young person", person.id, &person)
        }
        YoungPersonCommand::List { query, format } => print(
            &book.find_young_people(query.as_deref().unwrap_or(""))?,
            format,
        ),
        YoungPersonCommand::Show { id, format } => {
            let person = book.young_person(parse::id("id", &id)?)?;
            print(&[person], format)
        }
    }
}

pub fn chronology(book: &Pocketbook, id: &str, reason: &str, f: Format) -> Result<(), CliError> {
    let entries = book.chronology(parse::id("young-person", id)?, reason)?;
    if f.json {
        return output::json(&entries);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                output::time(&e.happened_at),
                output::cell(&e.title, 50),
                output::cell(&e.detail, 60),
            ]
        })
        .collect();
    output::table(&["WHEN", "WHAT", "DETAIL"], &rows);
    Ok(())
}
