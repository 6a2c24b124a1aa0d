//! Enrolment and sync from the terminal: enroll, reauthenticate, sync with a progress bar,
//! status, conflicts, resolve; refused changes (resubmit, discard) and records this build
//! cannot read.

use std::io::Write;
use std::sync::Arc;

use pocketbook_core::{ConflictChoice, CoreEvent, Pocketbook, SyncPhase, SyncProgress};

use crate::args::Format;
use crate::{output, CliError};

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| CliError::File {
            what: "cannot start the network runtime".into(),
            source,
        })
}

pub fn trust(book: &Pocketbook, file: &std::path::Path) -> Result<(), CliError> {
    let pem = std::fs::read_to_string(file).map_err(|source| CliError::File {
        what: format!("cannot read {}", file.display()),
        source,
    })?;
    book.trust_certificate(&pem)?;
    println!("Trusting the certificate in {} for sync", file.display());
    Ok(())
}

pub fn enroll(book: &Pocketbook, url: &str, code: &str) -> Result<(), CliError> {
    let session = runtime()?.block_on(book.enroll(url, code))?;
    println!(
        "Enrolled {} as {} ({}) with {url}",
        session.device_id, session.officer.name, session.officer.shoulder_number
    );
    Ok(())
}

pub fn reauthenticate(book: &Pocketbook, code: &str) -> Result<(), CliError> {
    let session = runtime()?.block_on(book.reauthenticate(code))?;
    println!(
        "Re-authenticated {} with {}",
        session.device_id,
        session.server_url.unwrap_or_default()
    );
    Ok(())
}

/// Draws a one-line progress bar on stderr.
fn draw(p: SyncProgress) {
    let phase = match p.phase {
        SyncPhase::Push => "push",
        SyncPhase::Pull => "pull",
    };
    let width: usize = 30;
    let filled = if p.total == 0 {
        width
    } else {
        let share = p.done.saturating_mul(30) / p.total.max(1);
        usize::try_from(share).unwrap_or(width)
    };
    let bar: String = "#".repeat(filled.min(width)) + &".".repeat(width - filled.min(width));
    eprint!("\r{phase} [{bar}] {}/{}   ", p.done, p.total);
    let _ = std::io::stderr().flush();
}

pub fn sync(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    // The bar is drawn from the core's own progress events, as an app's observer hears them.
    let bar = (!f.json).then(|| {
        book.observe(Arc::new(|event| {
            if let CoreEvent::SyncProgress(p) = event {
                draw(p);
            }
        }))
    });
    let report = runtime()?.block_on(book.sync());
    drop(bar);
    if !f.json {
        eprintln!();
    }
    let report = report?;
    if f.json {
        return output::json(&report);
    }
    println!(
        "Synced in {} ms ({} B up, {} B down): pushed {} ({} merged, {} refused, {} waiting \
         for the server), pulled {}, removed {}, conflicts {}",
        report.duration_ms,
        report.bytes_sent,
        report.bytes_received,
        report.pushed,
        report.merged,
        report.rejected,
        report.held,
        report.pulled,
        report.removed,
        report.conflicts
    );
    if report.unreadable > 0 {
        println!(
            "{} record(s) need a newer app to read: see `unreadable`",
            report.unreadable
        );
    }
    Ok(())
}

pub fn status(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    let s = book.sync_status()?;
    if f.json {
        return output::json(&s);
    }
    println!("Server:      {}", s.server_url);
    println!(
        "Last sync:   {}",
        s.last_sync_at
            .map(|t| output::time(&t))
            .unwrap_or_else(|| "never".into())
    );
    println!("Lease until: {}", output::time(&s.lease_expires_at));
    println!("Pending:     {}", s.pending);
    println!("Conflicts:   {}", s.open_conflicts);
    println!("Refused:     {}", s.rejected.len());
    for r in &s.rejected {
        let fields: Vec<&str> = r.fields.keys().map(String::as_str).collect();
        println!(
            "  #{} {} {} [{}]: {} ({}) — `resubmit {}` or `discard {}`",
            r.seq,
            r.entity,
            r.record_id,
            fields.join(", "),
            r.code,
            r.message,
            r.seq,
            r.seq
        );
    }
    println!(
        "Waiting for the server's upgrade: {}",
        s.waiting_for_server.len()
    );
    for r in &s.waiting_for_server {
        println!("  #{} {} {}", r.seq, r.entity, r.record_id);
    }
    // While the lease has lapsed the unreadable records are not listed (nor counted).
    let unreadable = match book.unreadable_records() {
        Ok(list) => list.len(),
        Err(pocketbook_core::Error::LeaseExpired) => 0,
        Err(e) => return Err(e.into()),
    };
    if unreadable > 0 {
        println!("Unreadable:  {unreadable} (update the app to read them)");
    }
    Ok(())
}

pub fn unreadable(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    let list = book.unreadable_records()?;
    if f.json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.entity.clone(),
                r.date.clone().unwrap_or_default(),
                r.risk.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output::table(&["ID", "KIND", "DATE", "RISK"], &rows);
    if !list.is_empty() {
        println!("Update the app to read these records.");
    }
    Ok(())
}

pub fn resubmit(book: &Pocketbook, seq: u64, set: &[String]) -> Result<(), CliError> {
    let mut corrections = std::collections::BTreeMap::new();
    for pair in set {
        let (field, value) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage("each --set is field=value".into()))?;
        let value = serde_json::from_str(value)
            .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        corrections.insert(field.trim().to_string(), value);
    }
    book.resubmit_refused(seq, corrections)?;
    println!("Resubmitted #{seq}: it goes with the next sync");
    Ok(())
}

pub fn discard(book: &Pocketbook, seq: u64) -> Result<(), CliError> {
    book.discard_refused(seq)?;
    println!("Discarded #{seq}");
    Ok(())
}

pub fn conflicts(book: &Pocketbook, f: Format) -> Result<(), CliError> {
    let list = book.conflicts()?;
    if f.json {
        return output::json(&list);
    }
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| {
            vec![
                c.id.clone(),
                c.entity.to_string(),
                c.record_id.to_string(),
                c.field.clone(),
                output::cell(&c.winning_value.to_string(), 30),
                output::cell(&c.losing_value.to_string(), 30),
            ]
        })
        .collect();
    output::table(&["ID", "ENTITY", "RECORD", "FIELD", "KEPT", "LOST"], &rows);
    Ok(())
}

pub fn resolve(book: &Pocketbook, id: &str, take_losing: bool) -> Result<(), CliError> {
    let choice = if take_losing {
        ConflictChoice::TakeLosing
    } else {
        ConflictChoice::KeepCurrent
    };
    book.resolve_conflict(id.trim(), choice)?;
    println!("Resolved {id}");
    Ok(())
}
