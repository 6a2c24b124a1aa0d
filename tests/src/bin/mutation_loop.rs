//! Crash-test child: opens the store named on the command line, says "ready", then records,
//! updates, deletes and triages without end until its parent kills it with SIGKILL.

use std::io::Write;

use pocketbook_core::model::{ConcernTriageUpdate, Risk, VisitUpdate};
use pocketbook_tests::{concern_draft, open_at, person_draft, visit_draft};
use rand::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: mutation-loop STORE")?;
    let book = open_at(std::path::Path::new(&path))?;
    let mut people = vec![book.add_young_person(person_draft())?.id];
    let mut visits = Vec::new();
    let mut concerns = Vec::new();
    println!("ready");
    std::io::stdout().flush()?;
    let mut rng = rand::rng();
    loop {
        let person = people[rng.random_range(0..people.len())];
        match rng.random_range(0..10) {
            0 => people.push(book.add_young_person(person_draft())?.id),
            1..=3 => visits.push(book.record_visit(visit_draft(person, 2))?.id),
            4 | 5 if !visits.is_empty() => {
                let id = visits[rng.random_range(0..visits.len())];
                let update = VisitUpdate {
                    narrative: Some(format!("Revised narrative {}", rng.random::<u32>())),
                    ..VisitUpdate::default()
                };
                book.update_visit(id, update)?;
            }
            6 if !visits.is_empty() => {
                let id = visits.swap_remove(rng.random_range(0..visits.len()));
                book.delete_visit(id, "Recorded in error")?;
            }
            7 => concerns.push(book.raise_concern(concern_draft(person, 30))?.id),
            8 if !concerns.is_empty() => {
                let id = concerns[rng.random_range(0..concerns.len())];
                book.add_addendum(id, "Further information from the school.")?;
            }
            9 if !concerns.is_empty() => {
                let id = concerns[rng.random_range(0..concerns.len())];
                let risk = Risk::KNOWN[rng.random_range(0..3)].clone();
                let update = ConcernTriageUpdate {
                    risk: Some(risk),
                    ..ConcernTriageUpdate::default()
                };
                book.update_concern_triage(id, update)?;
            }
            _ => visits.push(book.record_visit(visit_draft(person, 1))?.id),
        }
    }
}
