//! Runs one parsed command against the store.

mod actions;
mod concerns;
mod engagements;
mod setup;
mod sync;
mod visits;
mod young_people;

use std::path::PathBuf;

use pocketbook_core::{OpenConfig, Pocketbook};
use uuid::Uuid;

use crate::args::{Cli, Command, Created};
use crate::{keyfile, output, CliError};

/// The key file to use: the one given, or the store path with `.key` appended.
fn key_path(cli: &Cli) -> PathBuf {
    cli.key_file.clone().unwrap_or_else(|| {
        let mut name = cli.db.as_os_str().to_owned();
        name.push(".key");
        PathBuf::from(name)
    })
}

/// Opens an existing store with its key file.
fn open(cli: &Cli) -> Result<Pocketbook, CliError> {
    if !cli.db.exists() {
        return Err(CliError::Usage(format!(
            "no store at {} (create one with `pocketbook init`)",
            cli.db.display()
        )));
    }
    let key = keyfile::read(&key_path(cli))?;
    Ok(Pocketbook::open(OpenConfig {
        db_path: cli.db.clone(),
        key,
        device_name: String::new(),
    })?)
}

/// Reports a new record as the caller asked: JSON, just its id, or a sentence.
fn created<T: serde::Serialize>(
    out: Created,
    what: &str,
    id: Uuid,
    record: &T,
) -> Result<(), CliError> {
    if out.json {
        output::json(record)
    } else if out.quiet {
        println!("{id}");
        Ok(())
    } else {
        println!("{what} {id}");
        Ok(())
    }
}

/// Runs the command.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Command::Init { device_name } = &cli.command {
        return setup::init(&cli.db, &key_path(&cli), device_name);
    }
    let book = open(&cli)?;
    match cli.command {
        Command::Init { .. } => Ok(()),
        Command::Provision { file } => setup::provision(&book, &file),
        Command::Session(f) => setup::session(&book, f),
        Command::Establishments(f) => setup::establishments(&book, f),
        Command::Officers(f) => setup::officers(&book, f),
        Command::Pending(f) => setup::pending(&book, f),
        Command::Trust { file } => sync::trust(&book, &file),
        Command::Enroll { url, code } => sync::enroll(&book, &url, &code),
        Command::Reauthenticate { code } => sync::reauthenticate(&book, &code),
        Command::Sync(f) => sync::sync(&book, f),
        Command::Status(f) => sync::status(&book, f),
        Command::Conflicts(f) => sync::conflicts(&book, f),
        Command::Resolve { id, take_losing } => sync::resolve(&book, &id, take_losing),
        Command::Unreadable(f) => sync::unreadable(&book, f),
        Command::Resubmit { seq, set } => sync::resubmit(&book, seq, &set),
        Command::Discard { seq } => sync::discard(&book, seq),
        Command::Audit { verify, format } => setup::audit(&book, verify, format),
        Command::YoungPerson(c) => young_people::run(&book, c),
        Command::Chronology {
            young_person,
            reason,
            format,
        } => young_people::chronology(&book, &young_person, &reason, format),
        Command::Visit(c) => visits::run(&book, c),
        Command::Concern(c) => concerns::run(&book, c),
        Command::Action(c) => actions::run(&book, c),
        Command::Engagement(c) => engagements::run(&book, c),
    }
}

/// Finds an establishment by URN or id.
fn establishment(book: &Pocketbook, text: &str) -> Result<Uuid, CliError> {
    let text = text.trim();
    let found = book
        .establishments()?
        .into_iter()
        .find(|e| e.urn == text || e.id.to_string() == text);
    match found {
        Some(e) => Ok(e.id),
        // An unknown id goes to the core, which reports it as the typed validation error.
        None => Uuid::parse_str(text)
            .map_err(|_| CliError::Usage("--establishment: no establishment with that URN".into())),
    }
}
