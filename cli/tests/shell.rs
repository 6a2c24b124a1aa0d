//! The terminal shell end to end: a real encrypted store driven through the binary, listings
//! in JSON, and errors as one clear line with a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

struct Shell {
    _dir: tempfile::TempDir,
    db: PathBuf,
}

impl Shell {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("book.db");
        Shell { _dir: dir, db }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pocketbook"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env_remove("POCKETBOOK_KEY_FILE")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?} failed: {stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs a command that must fail; returns its one-line message.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} should have failed");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed to stdout on failure"
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        stderr.trim_end().to_string()
    }

    fn provisioned() -> Self {
        let shell = Shell::new();
        shell.ok(&["init", "--device-name", "test"]);
        shell.ok(&["provision", provisioning().to_str().unwrap()]);
        shell
    }

    fn young_person(&self) -> String {
        self.ok(&[
            "young-person",
            "add",
            "--first-name",
            "Amira",
            "--last-name",
            "Testcase",
            "--dob",
            "2012-04-03",
            "--establishment",
            "103254",
            "--flag",
            "child-in-need",
            "-q",
        ])
        .trim()
        .to_string()
    }
}

fn provisioning() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/provisioning.json")
}

const THRIVE: [&str; 24] = [
    "--thrive",
    "threat",
    "Ongoing",
    "Repeated disclosures",
    "--thrive",
    "harm",
    "Emotional",
    "Child distressed",
    "--thrive",
    "risk",
    "Medium",
    "No immediate danger tonight",
    "--thrive",
    "investigation",
    "None yet",
    "MASH to decide",
    "--thrive",
    "vulnerability",
    "High",
    "Child in need",
    "--thrive",
    "engagement",
    "Good",
    "Mother engaged",
];

#[cfg(unix)]
#[test]
fn init_writes_an_owner_only_key_file_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let shell = Shell::new();
    let out = shell.ok(&["init"]);
    assert!(out.contains("Created encrypted store"));
    let key = shell.db.with_extension("db.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(std::fs::read_to_string(&key).unwrap().trim().len(), 64);
    assert!(shell.fails(&["init"]).contains("already exists"));
}

#[test]
fn an_officer_records_updates_and_reads_back_through_the_shell() {
    let shell = Shell::provisioned();
    let session = shell.json(&["session"]);
    assert_eq!(session["officer"]["shoulder_number"], "4172");
    let person = shell.young_person();
    let visit = shell
        .ok(&[
            "visit",
            "record",
            "--kind",
            "food-parcel",
            "--prompted-by",
            "council",
            "--young-person",
            &person,
            "--start",
            "2026-11-24T16:00:00Z",
            "--end",
            "2026-11-24T16:20:00Z",
            "--place",
            "Home address",
            "--present",
            "mother",
            "--outcome",
            "signposted",
            "--support",
            "food",
            "--signposted",
            "Food bank",
            "--narrative",
            "Parcel delivered; mother anxious about heating costs.",
            "-q",
        ])
        .trim()
        .to_string();
    let visits = shell.json(&["visit", "list"]);
    assert_eq!(visits.as_array().unwrap().len(), 1);
    assert_eq!(visits[0]["id"], visit.as_str());
    assert_eq!(visits[0]["kind"], "food_parcel");

    shell.ok(&[
        "visit",
        "update",
        &visit,
        "--narrative",
        "Parcel delivered. Heating advice given.",
    ]);
    let shown = shell.json(&["visit", "show", &visit]);
    assert_eq!(
        shown[0]["narrative"],
        "Parcel delivered. Heating advice given."
    );

    let mut raise = vec![
        "concern",
        "raise",
        "--young-person",
        &person,
        "--happened-at",
        "2026-11-20T08:00:00Z",
        "--category",
        "neglect",
        "--account",
        "Child says there is no food at weekends.",
        "--childs-words",
        "We just wait for Monday.",
        "--risk-text",
        "Ongoing neglect",
        "--risk",
        "medium",
        "-q",
    ];
    raise.extend(THRIVE);
    let concern = shell.ok(&raise).trim().to_string();
    shell.ok(&[
        "concern",
        "addendum",
        &concern,
        "School confirms free school meals.",
    ]);
    shell.ok(&[
        "concern", "triage", &concern, "--risk", "high", "--status", "open", "--note", "DSL call",
    ]);
    let shown = shell.json(&["concern", "show", &concern]);
    assert_eq!(shown["concern"]["risk"], "high");
    assert_eq!(
        shown["concern"]["account"],
        "Child says there is no food at weekends."
    );
    assert_eq!(shown["concern"]["marking"], "OFFICIAL-SENSITIVE");
    assert_eq!(
        shown["concern"]["triage_history"].as_array().unwrap().len(),
        2
    );
    assert_eq!(shown["addenda"].as_array().unwrap().len(), 1);

    let chronology = shell.json(&["chronology", &person, "--reason", "Strategy discussion"]);
    let kinds: Vec<&str> = chronology
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["concern", "visit", "addendum"],
        "backdated concern comes first"
    );

    let pending = shell.json(&["pending"]);
    let kinds: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["entity"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "young_person",
            "visit",
            "visit",
            "concern",
            "addendum",
            "concern"
        ]
    );

    shell.ok(&["visit", "delete", &visit, "--reason", "Recorded twice"]);
    assert_eq!(shell.json(&["visit", "list"]).as_array().unwrap().len(), 0);
    let verified = shell.json(&["audit", "--verify"]);
    assert_eq!(verified["events"], 8);

    // A correction of the concern's child needs a reason, kept in an addendum.
    let sibling = shell.young_person();
    let correct = |reason: &str| {
        vec![
            "concern".to_string(),
            "correct-child".into(),
            concern.clone(),
            "--young-person".into(),
            sibling.clone(),
            "--reason".into(),
            reason.into(),
        ]
    };
    let blank: Vec<String> = correct(" ");
    assert!(shell
        .fails(&blank.iter().map(String::as_str).collect::<Vec<_>>())
        .contains("reason"));
    let ok: Vec<String> = correct("Wrong child selected");
    shell.ok(&ok.iter().map(String::as_str).collect::<Vec<_>>());
    let shown = shell.json(&["concern", "show", &concern]);
    assert_eq!(shown["concern"]["young_person_ids"][0], sibling.as_str());
    let addenda = shown["addenda"].as_array().unwrap();
    assert_eq!(addenda.len(), 2);
    assert!(addenda[1]["text"]
        .as_str()
        .unwrap()
        .contains("Wrong child selected"));
}

#[test]
fn errors_are_one_clear_line() {
    let shell = Shell::new();
    assert!(shell.fails(&["visit", "list"]).contains("no store at"));
    shell.ok(&["init"]);
    let not_enrolled = shell.fails(&[
        "young-person",
        "add",
        "--first-name",
        "A",
        "--last-name",
        "B",
        "--dob",
        "2012-01-01",
    ]);
    assert!(not_enrolled.contains("not enrolled"), "{not_enrolled}");
    shell.ok(&["provision", provisioning().to_str().unwrap()]);
    let person = shell.young_person();
    let bad_kind = shell.fails(&[
        "visit",
        "record",
        "--kind",
        "party",
        "--prompted-by",
        "school",
        "--young-person",
        &person,
        "--start",
        "now",
        "--place",
        "x",
        "--outcome",
        "no-concerns",
        "--narrative",
        "y",
    ]);
    assert!(
        bad_kind.contains("--kind") && bad_kind.contains("welfare_check"),
        "{bad_kind}"
    );
    let backwards = shell.fails(&[
        "visit",
        "record",
        "--kind",
        "welfare-check",
        "--prompted-by",
        "school",
        "--young-person",
        &person,
        "--start",
        "2026-11-24T10:00:00Z",
        "--end",
        "2026-11-24T09:00:00Z",
        "--place",
        "x",
        "--outcome",
        "no-concerns",
        "--narrative",
        "y",
    ]);
    assert_eq!(
        backwards,
        "pocketbook: invalid input: end is before the start"
    );
    let mut no_risk = vec![
        "concern",
        "raise",
        "--young-person",
        &person,
        "--category",
        "neglect",
        "--account",
        "a",
        "--risk-text",
        "r",
    ];
    no_risk.extend(THRIVE);
    assert_eq!(
        shell.fails(&no_risk),
        "pocketbook: invalid input: risk must be given"
    );
    assert!(shell
        .fails(&["visit", "show", "not-an-id"])
        .contains("not a record id"));
    assert!(shell
        .fails(&["chronology", &person, "--reason", " "])
        .contains("reason must not be empty"));

    let wrong_key = shell.db.with_extension("wrong.key");
    std::fs::write(&wrong_key, "11".repeat(32)).unwrap();
    let out = shell.run(&["--key-file", wrong_key.to_str().unwrap(), "visit", "list"]);
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "pocketbook: the key does not open this store"
    );
}
