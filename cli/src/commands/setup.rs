//! Store set-up and housekeeping: init, provision, session, reference lists, pending changes
//! and the audit trail.

use std::path::Path;

use pocketbook_core::{OpenConfig, Pocketbook, Provisioning};

use crate::args::Format;
use crate::{keyfile, output, CliError};

pub fn init(db: &Path, key_path: &Path, device_name: &str) -> Result<(), CliError> {
    if db.exists() {
        return Err(CliError::Usage(format!("{} already exists", db.display())));
    }
    let (key, made) = if key_path.exists() {
        (keyfile::read(key_path)?, false)
    } else {
        (keyfile::create(key_path)?, true)
    };
    let book = Pocketbook::open(OpenConfig {
        db_path: db.to_path_buf(),
        key,
        device_name: device_name.to_string(),
    })?;
    println!(
        "Created encrypted store {} (device {})",
        db.display(),
        book.device_id()?
    );
    if made {
        println!("Wrote a new key to {} (owner-only). Keep it safe: without it the store cannot be read.", key_path.display());
    }
    Ok(())
}

pub fn provision(book: &Pocketbook, file: &Path) -> Result<(), CliError> {
    let text = std::fs::read_to_string(file).map_err(|source| CliError::File {
        what: format!("cannot read {}", file.display()),
        source,
    })?;
    let p = Provisioning::from_json(&text).map_err(pocketbook_core::Error::from)?;
    book.provision(&p)?;
    println!(
        "Provisioned {} ({}): {} team(s), {} officer(s), {} establishment(s)",
        p.officer.name,
        p.officer.shoulder_number,
        p.teams.len(),
        p.officers.len(),
        p.establishments.len()
    );
    Ok(())
}

pub fn session(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    let s = book.session()?;
    if f.json {
        return output::json(&s);
    }
    println!(
        "Officer: {} ({}), {}",
        s.officer.name,
        s.officer.shoulder_number,
        output::name(&s.officer.role)
    );
    for t in &s.teams {
        println!("Team:    {}", t.name);
    }
    println!("Device:  {} ({})", s.device_id, s.device_name);
    Ok(())
}

pub fn establishments(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    let list = book.establishments()?;
    if f.json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            vec![
                e.urn.clone(),
                output::cell(&e.name, 40),
                output::name(&e.kind),
                e.ward.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["URN", "NAME", "KIND", "WARD"], &rows);
    Ok(())
}

pub fn officers(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    let list = book.officers()?;
    if f.json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|o| {
            vec![
                o.id.to_string(),
                o.name.clone(),
                o.shoulder_number.clone(),
                output::name(&o.role),
            ]
        })
        .collect();
    output::table(&["ID", "NAME", "NUMBER", "ROLE"], &rows);
    Ok(())
}

pub fn pending(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    let list = book.pending_changes()?;
    if f.json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|m| {
            vec![
                m.seq.to_string(),
                output::name(&m.kind),
                m.entity.to_string(),
                m.record_id.to_string(),
                output::cell(&m.fields.keys().cloned().collect::<Vec<_>>().join(","), 50),
            ]
        })
        .collect();
    output::table(&["SEQ", "CHANGE", "ENTITY", "RECORD", "FIELDS"], &rows);
    Ok(())
}

pub fn audit(book: &Pocketbook, verify: bool, f: Format) -> Result<(), CliError> {
    if verify {
        let n = book.verify_audit_chain()?;
        if f.json {
            return output::json(&serde_json::json!({ "verified": true, "events": n }));
        }
        println!("Audit chain verified: {n} event(s), unbroken.");
        return Ok(());
    }
    let list = book.audit_events()?;
    if f.json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                output::time(&e.at),
                output::name(&e.operation),
                e.entity.as_ref().map(|x| x.to_string()).unwrap_or_default(),
                e.record_id.map(|x| x.to_string()).unwrap_or_default(),
                output::cell(e.justification.as_deref().unwrap_or(""), 40),
            ]
        })
        .collect();
    output::table(
        &["SEQ", "AT", "OPERATION", "ENTITY", "RECORD", "REASON"],
        &rows,
    );
    Ok(())
}
