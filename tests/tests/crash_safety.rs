//! A writer killed with SIGKILL at a random instant leaves a store that is intact: every
//! record with its outbox entry and audit event, and an unbroken audit chain.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use pocketbook_tests::{open_at, raw_connection, Fixture};
use rand::Rng;

const ROUNDS: usize = 60;

fn scalar(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

#[test]
fn sigkill_at_random_instants_never_leaves_a_half_written_mutation() {
    let fixture = Fixture::new();
    let path = fixture.path.clone();
    drop(fixture.book);
    let mut rng = rand::rng();
    let mut last_records = 0;
    for round in 0..ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mutation-loop"))
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the writer");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("child stdout"))
            .read_line(&mut line)
            .expect("child says ready");
        assert_eq!(line.trim(), "ready", "round {round}: writer did not start");
        std::thread::sleep(Duration::from_micros(rng.random_range(0..=30_000)));
        child.kill().expect("SIGKILL the writer");
        let status = child.wait().expect("reap the writer");
        assert!(
            !status.success(),
            "round {round}: writer exited by itself: {status}"
        );

        let conn = raw_connection(&path);
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .expect("integrity check");
        assert_eq!(check, "ok", "round {round}");
        let records = scalar(&conn, "SELECT count(*) FROM records");
        assert!(
            records >= last_records,
            "round {round}: records went from {last_records} to {records}"
        );
        last_records = records;
        let without_outbox = scalar(
            &conn,
            "SELECT count(*) FROM records WHERE id NOT IN (SELECT record_id FROM outbox)",
        );
        assert_eq!(
            without_outbox, 0,
            "round {round}: a record has no outbox entry"
        );
        let without_audit = scalar(
            &conn,
            "SELECT count(*) FROM records
             WHERE id NOT IN (SELECT record_id FROM audit_trail WHERE record_id IS NOT NULL)",
        );
        assert_eq!(
            without_audit, 0,
            "round {round}: a record has no audit event"
        );
        let mutations = scalar(&conn, "SELECT count(*) FROM outbox");
        let mutation_events = scalar(
            &conn,
            "SELECT count(*) FROM audit_trail WHERE operation IN ('collect', 'alter', 'erase')",
        );
        assert_eq!(
            mutations, mutation_events,
            "round {round}: outbox and audit disagree"
        );
        drop(conn);

        let book = open_at(&path).expect("store reopens after the kill");
        book.verify_audit_chain()
            .unwrap_or_else(|e| panic!("round {round}: audit chain: {e}"));
        assert_eq!(
            i64::try_from(book.pending_changes().expect("outbox").len()).ok(),
            Some(mutations)
        );
    }
    assert!(
        usize::try_from(last_records).is_ok_and(|n| n > ROUNDS),
        "the writers recorded too little ({last_records} records) for the test to mean anything"
    );
}
