//! The `pocketbook-server` admin commands on a real database file: teams, officers, codes,
//! GIAS import and re-import (updates in place, closes, never deletes), devices, errors.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn server(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pocketbook-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = server(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const HEADER: &[u8] = b"URN,EstablishmentName,TypeOfEstablishment (name),EstablishmentStatus (name),PhaseOfEducation (name),Postcode,AdministrativeWard (name)\r\n";

#[test]
fn gias_reimport_updates_in_place_marks_closed_and_never_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let first = dir.path().join("gias-1.csv");
    let mut bytes = HEADER.to_vec();
    bytes.extend_from_slice(
        b"200001,Brookside Primary School,Community school,Open,Primary,B1 1AA,Northfield\r\n",
    );
    bytes.extend_from_slice(
        b"200002,Northfield Academy,Academy converter,Open,Secondary,B1 2AA,Northfield\r\n",
    );
    bytes.extend_from_slice(b"200003,St Anne\x92s Special School,Community special school,Open,Not applicable,B1 3AA,Kings Norton\r\n");
    std::fs::write(&first, &bytes).unwrap();
    let out = ok(
        &db,
        &["establishment", "import-gias", first.to_str().unwrap()],
    );
    assert_eq!(
        out.trim(),
        "added 3, updated 0 (0 closed), skipped 0 of other kinds"
    );
    let before = lines(&ok(&db, &["establishment", "list"]));
    assert_eq!(before[2]["name"], "St Anne’s Special School");
    assert_eq!(before[2]["kind"], "special");

    let second = dir.path().join("gias-2.csv");
    let mut bytes = HEADER.to_vec();
    bytes.extend_from_slice(
        b"200001,Brookside Primary School,Community school,Closed,Primary,B1 1AA,Northfield\r\n",
    );
    bytes.extend_from_slice(
        b"200002,Northfield Academy Trust,Academy converter,Open,Secondary,B1 2AA,Northfield\r\n",
    );
    bytes.extend_from_slice(b"200009,University of Northfield,Higher education institutions,Open,Not applicable,B1 9AA,Northfield\r\n");
    std::fs::write(&second, &bytes).unwrap();
    let out = ok(
        &db,
        &["establishment", "import-gias", second.to_str().unwrap()],
    );
    assert_eq!(
        out.trim(),
        "added 0, updated 2 (1 closed), skipped 1 of other kinds"
    );
    let after = lines(&ok(&db, &["establishment", "list"]));
    assert_eq!(after.len(), 3, "nothing deleted");
    assert_eq!(after[0]["closed"], true);
    assert_eq!(after[1]["name"], "Northfield Academy Trust");
    assert_eq!(after[1]["id"], before[1]["id"], "updated in place");
}

#[test]
fn teams_officers_codes_and_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let team = ok(&db, &["team", "add", "Northfield"]).trim().to_string();
    let officer = ok(
        &db,
        &[
            "officer", "add", "--name", "PC A", "--number", "1", "--team", &team,
        ],
    )
    .trim()
    .to_string();
    let code = ok(&db, &["code", "--officer", &officer]);
    assert_eq!(code.trim().len(), 14, "XXXX-XXXX-XXXX");
    let audit = ok(&db, &["audit"]);
    assert!(
        !audit.contains(code.trim()),
        "the code itself is never logged"
    );
    assert_eq!(lines(&audit).len(), 3);

    for (args, expected) in [
        (
            vec!["team", "add", "Northfield"],
            "a team with that name exists",
        ),
        (
            vec![
                "officer", "add", "--name", "x", "--number", "2", "--role", "chief",
            ],
            "--role",
        ),
        (
            vec!["code", "--officer", "01a2149d-8e51-7091-86a2-aae773eca591"],
            "unknown officer",
        ),
        (
            vec!["device", "revoke", "01a2149d-8e51-7091-86a2-aae773eca591"],
            "no live device",
        ),
    ] {
        let out = server(&db, &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
}
