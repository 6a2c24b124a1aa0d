//! Kill-test child: opens the enrolled store named on the command line, says "ready", then
//! records and edits visits and syncs, over and over, until its parent kills it with SIGKILL
//! (at a random instant: often in the middle of a push or a pull).

use std::io::Write;

use pocketbook_core::model::VisitUpdate;
use pocketbook_tests::{open_at, person_draft, visit_draft};
use rand::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os().nth(1).ok_or("usage: sync-loop STORE")?;
    let book = open_at(std::path::Path::new(&path))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let person = match book.find_young_people("")?.first() {
        Some(p) => p.id,
        None => book.add_young_person(unschooled())?.id,
    };
    println!("ready");
    std::io::stdout().flush()?;
    let mut rng = rand::rng();
    let mut visits: Vec<uuid::Uuid> = Vec::new();
    loop {
        for _ in 0..rng.random_range(1..=20) {
            visits.push(book.record_visit(visit_draft(person, 2))?.id);
        }
        if let Some(&id) = visits.get(rng.random_range(0..visits.len())) {
            let update = VisitUpdate {
                narrative: Some(format!("Revised narrative {}", rng.random::<u32>())),
                ..VisitUpdate::default()
            };
            book.update_visit(id, update)?;
        }
        // The server may be down for a moment in some tests; a failed sync is tried again.
        let _ = runtime.block_on(book.sync());
    }
}

/// A child with no school named (the server here holds no establishments).
fn unschooled() -> pocketbook_core::model::YoungPersonDraft {
    pocketbook_core::model::YoungPersonDraft {
        establishment_id: None,
        ..person_draft()
    }
}
