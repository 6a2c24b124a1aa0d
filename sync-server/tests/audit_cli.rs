//! `pocketbook-server` records the admin who acted (`--as NAME`, else the OS user) in the
//! server audit chain, logs the chain's head at every admin action, and `audit verify
//! [--head H]` checks the chain and its head, naming the first row that breaks it.

use std::path::Path;
use std::process::{Command, Output};

fn server(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pocketbook-server"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("RUST_LOG", "info")
        .env("USER", "os-user")
        .output()
        .expect("run pocketbook-server")
}

/// The chain head an admin command logged.
fn logged_head(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("server audit chain head"))
        .unwrap_or_else(|| panic!("the head is logged: {stderr}"));
    // The one run of 64 hex digits on the line (colours or not).
    line.split(|c: char| !c.is_ascii_hexdigit())
        .find(|run| run.len() == 64)
        .unwrap_or_else(|| panic!("a 64-digit head on: {line}"))
        .to_string()
}

#[test]
fn admin_actions_name_their_admin_and_verify_catches_an_edit_and_a_wrong_head() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.db");
    let added = server(&db, &["--as", "sgt-jones", "team", "add", "Northfield"]);
    assert!(added.status.success());
    let first_head = logged_head(&added);
    let added = server(&db, &["team", "add", "Southfield"]);
    assert!(added.status.success());
    let head = logged_head(&added);
    assert_ne!(head, first_head);

    let audit = String::from_utf8(server(&db, &["audit"]).stdout).expect("utf-8");
    assert!(audit.contains("\"actor\":\"sgt-jones\""), "{audit}");
    assert!(
        audit.contains("\"actor\":\"os-user\""),
        "defaults to the OS user: {audit}"
    );

    let verified = server(&db, &["audit", "verify", "--head", &head]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(String::from_utf8_lossy(&verified.stdout).contains("audit chain holds"));

    let stale = server(&db, &["audit", "verify", "--head", &first_head]);
    assert!(
        !stale.status.success(),
        "a head that is not the chain's fails"
    );
    assert!(String::from_utf8_lossy(&stale.stderr).contains("not the head kept elsewhere"));

    let conn = rusqlite::Connection::open(&db).expect("open");
    let id: i64 = conn
        .query_row("SELECT id FROM audit WHERE actor = 'sgt-jones'", [], |r| {
            r.get(0)
        })
        .expect("row");
    conn.execute(
        "UPDATE audit SET actor = 'someone-else' WHERE id = ?1",
        [id],
    )
    .expect("edit");
    drop(conn);
    let broken = server(&db, &["audit", "verify"]);
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains(&format!("broken at row {id} ")), "{stderr}");
}
