//! Versioned, forward-only migrations of the device store. Each runs inside a transaction with
//! the `user_version` bump, so a crash leaves the previous version intact.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// SQL for the microseconds since 1970 that `$text`, a time as the store writes it
/// (`time_text`: fixed-width RFC 3339 with six decimals, UTC), names: NULL for text that is
/// not a time, so a row whose time is not one fails its write.
macro_rules! micros {
    ($text:literal) => {
        concat!(
            "(unixepoch(substr(",
            $text,
            ", 1, 19)) * 1000000 + CAST(substr(",
            $text,
            ", 21, 6) AS INTEGER))"
        )
    };
}
pub(crate) use micros;

/// The triggers that keep `records_by_time` as `records` changes (migration 23, and again
/// when a bulk load ends): one entry a record, deleted records' too, as the index had. A
/// record whose id is not a UUID has no entry to write (`unhex` gives NULL, which REPLACE
/// cannot fill), so its write fails whole.
macro_rules! records_by_time_triggers {
    () => {
        concat!(
            r#"
    CREATE TRIGGER records_timed AFTER INSERT ON records
    BEGIN
        INSERT OR REPLACE INTO records_by_time (entity, happened_at, id)
        VALUES (NEW.entity, "#,
            micros!("NEW.happened_at"),
            r#", unhex(NEW.id, '-'));
    END;
    CREATE TRIGGER records_retimed AFTER UPDATE OF id, entity, happened_at ON records
    WHEN OLD.id IS NOT NEW.id OR OLD.entity IS NOT NEW.entity
      OR OLD.happened_at IS NOT NEW.happened_at
    BEGIN
        DELETE FROM records_by_time
        WHERE entity = OLD.entity AND happened_at = "#,
            micros!("OLD.happened_at"),
            r#" AND id = unhex(OLD.id, '-');
        INSERT OR REPLACE INTO records_by_time (entity, happened_at, id)
        VALUES (NEW.entity, "#,
            micros!("NEW.happened_at"),
            r#", unhex(NEW.id, '-'));
    END;
    CREATE TRIGGER records_untimed AFTER DELETE ON records
    BEGIN
        DELETE FROM records_by_time
        WHERE entity = OLD.entity AND happened_at = "#,
            micros!("OLD.happened_at"),
            r#" AND id = unhex(OLD.id, '-');
    END;
    "#
        )
    };
}
pub(crate) use records_by_time_triggers;

/// The migrations, in order; migration `i` takes the store from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: device identity and clock, session, reference data, records, outbox and audit trail.
    r#"
    CREATE TABLE device (
        id            INTEGER PRIMARY KEY CHECK (id = 1),
        device_id     TEXT NOT NULL,
        device_name   TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        clock_millis  INTEGER NOT NULL,
        clock_counter INTEGER NOT NULL,
        next_seq      INTEGER NOT NULL,
        audit_seq     INTEGER NOT NULL,
        audit_head    TEXT NOT NULL
    );
    CREATE TABLE session (
        id             INTEGER PRIMARY KEY CHECK (id = 1),
        officer        TEXT NOT NULL,
        provisioned_at TEXT NOT NULL
    );
    CREATE TABLE reference (
        kind TEXT NOT NULL,
        id   TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    CREATE TABLE records (
        id          TEXT PRIMARY KEY,
        entity      TEXT NOT NULL,
        team_id     TEXT NOT NULL,
        marking     TEXT NOT NULL,
        happened_at TEXT NOT NULL,
        deleted     INTEGER NOT NULL DEFAULT 0,
        data        TEXT NOT NULL,
        versions    TEXT NOT NULL
    );
    CREATE INDEX records_by_entity ON records (entity, happened_at);
    CREATE TABLE outbox (
        seq       INTEGER PRIMARY KEY,
        entity    TEXT NOT NULL,
        record_id TEXT NOT NULL,
        kind      TEXT NOT NULL,
        team_id   TEXT NOT NULL,
        marking   TEXT NOT NULL,
        fields    TEXT NOT NULL,
        base      TEXT NOT NULL,
        sets      TEXT NOT NULL DEFAULT '{}',
        version   TEXT NOT NULL
    );
    CREATE TABLE audit_events (
        seq           INTEGER PRIMARY KEY,
        operation     TEXT NOT NULL,
        officer_id    TEXT NOT NULL,
        device_id     TEXT NOT NULL,
        at            TEXT NOT NULL,
        entity        TEXT,
        record_id     TEXT,
        justification TEXT,
        recipient     TEXT,
        prev_hash     TEXT NOT NULL,
        hash          TEXT NOT NULL
    );
    "#,
    // 2: which records (visits, concerns, addenda, actions) concern which young person, for
    //    chronologies; backfilled from the records already held.
    r#"
    CREATE TABLE record_people (
        young_person_id TEXT NOT NULL,
        record_id       TEXT NOT NULL,
        PRIMARY KEY (young_person_id, record_id)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO record_people (young_person_id, record_id)
        SELECT j.value, r.id FROM records r, json_each(r.data, '$.young_person_ids') j
        WHERE r.deleted = 0;
    INSERT OR IGNORE INTO record_people (young_person_id, record_id)
        SELECT json_extract(r.data, '$.young_person_id'), r.id FROM records r
        WHERE r.deleted = 0 AND r.entity = 'action';
    "#,
    // 3: sync: the server and token (kept only in this encrypted file), cursors per bucket,
    //    which bucket each pulled record came from, conflicts and refused mutations.
    r#"
    CREATE TABLE sync_state (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        server_url      TEXT NOT NULL,
        token           TEXT NOT NULL,
        server_id       TEXT NOT NULL,
        lease_seconds   INTEGER NOT NULL,
        enrolled_at     TEXT NOT NULL,
        last_sync_at    TEXT,
        epoch           TEXT,
        audit_acked_seq INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE cursors (
        bucket TEXT PRIMARY KEY,
        cursor INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE record_buckets (
        record_id TEXT NOT NULL,
        bucket    TEXT NOT NULL,
        PRIMARY KEY (record_id, bucket)
    ) WITHOUT ROWID;
    CREATE INDEX record_buckets_by_bucket ON record_buckets (bucket);
    CREATE TABLE conflicts (
        id        TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        data      TEXT NOT NULL,
        resolved  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE rejected (
        seq       INTEGER PRIMARY KEY,
        entity    TEXT NOT NULL,
        record_id TEXT NOT NULL,
        code      TEXT NOT NULL,
        message   TEXT NOT NULL,
        at        TEXT NOT NULL
    );
    "#,
    // 4: the correction the server's clock gave this device's clock (clock_skew).
    r#"
    ALTER TABLE device ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;
    "#,
    // 5: conflicts resolved on this device whose resolution the server has not yet taken.
    r#"
    ALTER TABLE conflicts ADD COLUMN push_pending INTEGER NOT NULL DEFAULT 0;
    "#,
    // 6: certificate authorities trusted for the sync server besides the system's (a force's
    //    private CA), PEM.
    r#"
    CREATE TABLE trusted_certificates (pem TEXT PRIMARY KEY);
    "#,
    // 7: a record's young people and conflicts looked up by record: every pulled snapshot
    //    rewrites its links, which without these scanned the whole table (a first sync of 100k
    //    records went quadratic).
    r#"
    CREATE INDEX record_people_by_record ON record_people (record_id);
    CREATE INDEX conflicts_by_record ON conflicts (record_id);
    "#,
    // 8: the server guard. `unreadable` holds raw the records this build cannot read (read
    //    again on every open); `acknowledged` the server's state of each record with edits
    //    still pending (what a refused edit falls back to); `rejected` keeps the refused
    //    mutation itself (to correct and resubmit) and, for one refused `server_too_old`, the
    //    model generation it waits to pass.
    r#"
    CREATE TABLE unreadable (
        id       TEXT PRIMARY KEY,
        entity   TEXT NOT NULL,
        deleted  INTEGER NOT NULL DEFAULT 0,
        data     TEXT NOT NULL,
        versions TEXT NOT NULL,
        held_at  TEXT NOT NULL
    );
    CREATE TABLE acknowledged (
        id       TEXT PRIMARY KEY,
        deleted  INTEGER NOT NULL DEFAULT 0,
        data     TEXT NOT NULL,
        versions TEXT NOT NULL
    );
    ALTER TABLE rejected ADD COLUMN mutation TEXT;
    ALTER TABLE rejected ADD COLUMN held_generation INTEGER;
    "#,
    // 9: who may do what. `outbox.reason` keeps why the officer made a change where the
    //    server asks for one (a visit delete, a concern's linked-child correction);
    //    `sync_state.lapsed_at` the instant the server said the lease had lapsed (cleared by
    //    re-enrolment); `left_scope` the records whose `remove` arrived while an edit of them
    //    was pending, dropped once no edit of them is pending any more.
    r#"
    ALTER TABLE outbox ADD COLUMN reason TEXT;
    ALTER TABLE sync_state ADD COLUMN lapsed_at TEXT;
    CREATE TABLE left_scope (record_id TEXT PRIMARY KEY) WITHOUT ROWID;
    "#,
    // 10: forks (issue 12). `sync_state.acked_seq` is the last mutation seq the server
    //    acknowledged (sent in every push with the audit position, so the server can tell a
    //    copy of this store from a resend), backfilled from the outbox; `forked_from` the
    //    device id this store had before the server found it was a copy (set until the new
    //    id is enrolled); `audit_before_fork` the acknowledged events of that old id, kept.
    r#"
    ALTER TABLE sync_state ADD COLUMN acked_seq INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE sync_state ADD COLUMN forked_from TEXT;
    UPDATE sync_state SET acked_seq = COALESCE(
        (SELECT min(seq) - 1 FROM outbox), (SELECT next_seq - 1 FROM device), 0);
    CREATE TABLE audit_before_fork (
        device_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        event     TEXT NOT NULL,
        PRIMARY KEY (device_id, seq)
    ) WITHOUT ROWID;
    "#,
    // 11 (issue 12; step 10 is the fork's): reconciling with a server restored from a backup.
    //    `reconcile` the new epoch, the server's position and the phase; `reconcile_records`
    //    the acknowledged state of each record before the reconciling pull, with the server's
    //    state as it returned it; `reconcile_out` the restore mutations until answered.
    r#"
    CREATE TABLE reconcile (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        epoch    TEXT NOT NULL,
        position TEXT NOT NULL,
        phase    TEXT NOT NULL
    );
    CREATE TABLE reconcile_records (
        id       TEXT PRIMARY KEY,
        entity   TEXT NOT NULL,
        team_id  TEXT NOT NULL,
        marking  TEXT NOT NULL,
        deleted  INTEGER NOT NULL,
        data     TEXT NOT NULL,
        versions TEXT NOT NULL,
        server   TEXT
    );
    CREATE TABLE reconcile_out (seq INTEGER PRIMARY KEY, mutation TEXT NOT NULL);
    "#,
    // 12: resync after the server compacted history (issue 12): the buckets being pulled again
    //     from 0 and what each pass has been sent so far, so a pass a crash interrupted is
    //     resumed and finished by the next sync.
    r#"
    CREATE TABLE resync_buckets (bucket TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE resync_seen (
        bucket TEXT NOT NULL,
        id     TEXT NOT NULL,
        PRIMARY KEY (bucket, id)
    ) WITHOUT ROWID;
    "#,
    // 13: what else a reconciliation brings back to a restored server (issue 12):
    //     `reconcile_conflicts` the open conflicts held when it began, less those the
    //     reconciling pull returned (the rest go back with their record's restore);
    //     `reconcile.refused_after` the highest refusal sent again to be quarantined.
    r#"
    CREATE TABLE reconcile_conflicts (
        id        TEXT PRIMARY KEY,
        record_id TEXT NOT NULL,
        data      TEXT NOT NULL
    );
    ALTER TABLE reconcile ADD COLUMN refused_after INTEGER;
    "#,
    // 14: a restore of a record the reconciling pull did not return (issue 12): if the server
    //     refuses it, the device's copy goes (the server keeps it in quarantine).
    r#"
    ALTER TABLE reconcile_out ADD COLUMN unserved INTEGER NOT NULL DEFAULT 0;
    "#,
    // 15: fewer pages per write (issue 13): a record's chronology links are removed by the
    //     young people its stored row names (`records::unlink_people`), so the index by
    //     record that every write and every pulled record also had to update goes.
    r#"
    DROP INDEX record_people_by_record;
    "#,
    // 16: fewer pages per write (issue 13): a local write leaves the device row as it is and
    //     its outbox entry carries the audit chain's new head instead (`store::device`).
    r#"
    ALTER TABLE outbox ADD COLUMN audit_seq INTEGER;
    ALTER TABLE outbox ADD COLUMN audit_head TEXT;
    "#,
    // 17: a first sync's chronology links (issue 13): during a bulk load they are appended
    //     here, in the order the records arrive, and merged into `record_people` in order of
    //     young person when the load ends (`store::bulk_load`): written straight into
    //     `record_people`, each page rewrote every index leaf its links landed in.
    r#"
    CREATE TABLE record_people_staged (
        record_id       TEXT NOT NULL,
        young_person_id TEXT NOT NULL,
        PRIMARY KEY (record_id, young_person_id)
    ) WITHOUT ROWID;
    "#,
    // 18: fewer pages per write (issue 13): a record created here gets its chronology links
    //     when its outbox entry goes (acknowledged, held or dropped by a fork), from the young
    //     people its row names then; until then a chronology finds it through that entry
    //     (`records::list`). Recording a visit no longer writes a leaf of `record_people`.
    r#"
    CREATE TRIGGER outbox_create_links AFTER DELETE ON outbox
    WHEN OLD.kind = 'create' AND OLD.entity <> 'young_person'
    BEGIN
        INSERT OR IGNORE INTO record_people (young_person_id, record_id)
            SELECT lower(j.value), r.id FROM records r,
                json_each(CASE WHEN json_valid(r.data) THEN r.data ELSE '{}' END,
                          '$.young_person_ids') j
            WHERE r.id = OLD.record_id AND r.deleted = 0 AND j.type = 'text'
            UNION
            SELECT lower(json_extract(r.data, '$.young_person_id')), r.id FROM records r
            WHERE r.id = OLD.record_id AND r.deleted = 0 AND json_valid(r.data)
              AND json_type(r.data, '$.young_person_id') = 'text';
    END;
    "#,
    // 19: fewer pages per write (issue 13): a local write's audit event is held in its outbox
    //     entry (the `event_` columns; its entity and record are the entry's, its hash the
    //     `audit_head` the entry already carried) and moves to `audit_events` when the entry
    //     goes, so a write adds one row, not two. `audit_trail` is the whole chain, both
    //     places, which every read of the audit trail goes through.
    r#"
    ALTER TABLE outbox ADD COLUMN event_seq INTEGER;
    ALTER TABLE outbox ADD COLUMN event_operation TEXT;
    ALTER TABLE outbox ADD COLUMN event_officer_id TEXT;
    ALTER TABLE outbox ADD COLUMN event_device_id TEXT;
    ALTER TABLE outbox ADD COLUMN event_at TEXT;
    ALTER TABLE outbox ADD COLUMN event_prev_hash TEXT;
    CREATE VIEW audit_trail AS
        SELECT seq, operation, officer_id, device_id, at, entity, record_id, justification,
               recipient, prev_hash, hash
        FROM audit_events
        UNION ALL
        SELECT event_seq, event_operation, event_officer_id, event_device_id, event_at, entity,
               record_id, NULL, NULL, event_prev_hash, audit_head
        FROM outbox WHERE event_seq IS NOT NULL;
    CREATE TRIGGER outbox_audit_event AFTER DELETE ON outbox
    WHEN OLD.event_seq IS NOT NULL
    BEGIN
        INSERT INTO audit_events (seq, operation, officer_id, device_id, at, entity, record_id,
                                  justification, recipient, prev_hash, hash)
        VALUES (OLD.event_seq, OLD.event_operation, OLD.event_officer_id, OLD.event_device_id,
                OLD.event_at, OLD.entity, OLD.record_id, NULL, NULL, OLD.event_prev_hash,
                OLD.audit_head);
    END;
    "#,
    // 20: the young people a record's row names, defined once for everything that writes,
    //     removes or looks for chronology links from the stored rows (`records::unlink_people`,
    //     the trigger of 18, a pending creation's chronology lookup), which each spelled it out.
    r#"
    CREATE VIEW record_named_people AS
        SELECT r.id AS record_id, lower(j.value) AS young_person_id, r.deleted AS deleted
        FROM records r,
             json_each(CASE WHEN json_valid(r.data) THEN r.data ELSE '{}' END,
                       '$.young_person_ids') j
        WHERE j.type = 'text'
        UNION ALL
        SELECT r.id, lower(json_extract(r.data, '$.young_person_id')), r.deleted
        FROM records r
        WHERE json_valid(r.data) AND json_type(r.data, '$.young_person_id') = 'text';
    DROP TRIGGER outbox_create_links;
    CREATE TRIGGER outbox_create_links AFTER DELETE ON outbox
    WHEN OLD.kind = 'create' AND OLD.entity <> 'young_person'
    BEGIN
        INSERT OR IGNORE INTO record_people (young_person_id, record_id)
            SELECT young_person_id, record_id FROM record_named_people
            WHERE record_id = OLD.record_id AND deleted = 0;
    END;
    "#,
    // 21: fewer bytes per write (issue 13): a creation's outbox entry holds its fields as ''
    //     ("what the record's row holds") while the row is as the creation wrote it, so a
    //     write stores its fields once. Before the row's data changes or the row goes, these
    //     triggers write the data into the entry, so an entry always says what was created
    //     (`records::outbox` reads the row for an entry that still points at it).
    r#"
    CREATE TRIGGER records_update_keeps_pending_creation BEFORE UPDATE OF data ON records
    BEGIN
        UPDATE outbox SET fields = OLD.data WHERE record_id = OLD.id AND fields = '';
    END;
    CREATE TRIGGER records_delete_keeps_pending_creation BEFORE DELETE ON records
    BEGIN
        UPDATE outbox SET fields = OLD.data WHERE record_id = OLD.id AND fields = '';
    END;
    "#,
    // 22: the triggers of 21 scanned the outbox (it has no index by record) for every rewrite
    //     of a held record, 2 ms a record with 10,000 writes unsent. A creation now marks its
    //     row (`pending_creation`, set by its own insert: no page more), the triggers look
    //     only at a marked row, and the mark goes with the creation's entry. Rows whose
    //     creation points at them already are marked here.
    r#"
    ALTER TABLE records ADD COLUMN pending_creation INTEGER;
    UPDATE records SET pending_creation = 1
        WHERE id IN (SELECT record_id FROM outbox WHERE kind = 'create' AND fields = '');
    DROP TRIGGER records_update_keeps_pending_creation;
    DROP TRIGGER records_delete_keeps_pending_creation;
    CREATE TRIGGER records_update_keeps_pending_creation BEFORE UPDATE OF data ON records
    WHEN OLD.pending_creation IS NOT NULL
    BEGIN
        UPDATE outbox SET fields = OLD.data WHERE record_id = OLD.id AND fields = '';
    END;
    CREATE TRIGGER records_delete_keeps_pending_creation BEFORE DELETE ON records
    WHEN OLD.pending_creation IS NOT NULL
    BEGIN
        UPDATE outbox SET fields = OLD.data WHERE record_id = OLD.id AND fields = '';
    END;
    CREATE TRIGGER outbox_creation_unmarks_its_row AFTER DELETE ON outbox
    WHEN OLD.kind = 'create'
    BEGIN
        UPDATE records SET pending_creation = NULL
        WHERE id = OLD.record_id AND pending_creation IS NOT NULL;
    END;
    "#,
    // 23: records by kind and time (issue 13) as a table kept by triggers, not an index. The
    //     index, built by CREATE INDEX at the end of a bulk first sync, had every leaf packed
    //     full, so a later pull of ten records into a million split a leaf for each (59 pages
    //     written, `bench/index_fill.py`); this table is filled at the end of a load by one
    //     ordered insert, which leaves room in its leaves. During a bulk load other triggers
    //     stage the entries, keyed by record (`store::bulk_load`). A record's id is held as
    //     its 16 bytes and its time as microseconds (a record's id is a UUID and its time as
    //     `time_text` writes it; one that is not fails its write): a small entry splits a leaf
    //     less often, and the end of a load sorts every entry in memory.
    concat!(
        r#"
    DROP INDEX IF EXISTS records_by_entity;
    CREATE TABLE records_by_time (
        entity      TEXT NOT NULL,
        happened_at INTEGER NOT NULL,
        id          BLOB NOT NULL,
        PRIMARY KEY (entity, happened_at, id)
    ) WITHOUT ROWID;
    CREATE TABLE records_by_time_staged (
        id          BLOB PRIMARY KEY,
        entity      TEXT NOT NULL,
        happened_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO records_by_time (entity, happened_at, id)
        SELECT entity, "#,
        micros!("happened_at"),
        r#", unhex(id, '-') FROM records ORDER BY 1, 2, 3;
    "#,
        records_by_time_triggers!()
    ),
];

/// The schema version this build creates.
#[allow(clippy::cast_possible_truncation)] // a few dozen migrations at most
pub(crate) const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

/// Brings the store up to `target` (normally `CURRENT_VERSION`).
pub(crate) fn migrate_to(conn: &mut Connection, target: u32) -> Result<()> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > CURRENT_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: CURRENT_VERSION,
        });
    }
    for version in found..target.min(CURRENT_VERSION) {
        let tx = conn.transaction()?;
        tx.execute_batch(MIGRATIONS[version as usize])?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{open_connection, Store, StoreKey};

    fn dump(conn: &Connection) -> Vec<(String, String, String, Option<String>)> {
        let mut stmt = conn
            .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn key() -> StoreKey {
        StoreKey::from_bytes(&[42u8; 32]).unwrap()
    }

    fn version(conn: &Connection) -> u32 {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    }

    /// The id of one of [`V1_ROWS`], by the last two digits given there.
    fn v1_id(tail: &str) -> String {
        format!("00000000-0000-7000-8000-0000000000{tail}")
    }

    /// Rows as version 1 stored them: a young person (…a1), a visit about them (…b1), an
    /// action (…c1) and a deleted visit (…b2).
    const V1_ROWS: &str = r#"
        INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data, versions)
        VALUES ('00000000-0000-7000-8000-0000000000a1', 'young_person', 't', 'OFFICIAL', '2026-01-01', 0,
            '{"first_name":"A"}', '{}');
        INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data, versions)
        VALUES ('00000000-0000-7000-8000-0000000000b1', 'visit', 't', 'OFFICIAL', '2026-01-02', 0,
            '{"young_person_ids":["00000000-0000-7000-8000-0000000000a1"]}', '{}');
        INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data, versions)
        VALUES ('00000000-0000-7000-8000-0000000000c1', 'action', 't', 'OFFICIAL', '2026-01-03', 0,
            '{"young_person_id":"00000000-0000-7000-8000-0000000000a1"}', '{}');
        INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data, versions)
        VALUES ('00000000-0000-7000-8000-0000000000b2', 'visit', 't', 'OFFICIAL', '2026-01-04', 1, '{}', '{}');
    "#;

    #[test]
    fn upgrading_from_every_earlier_version_gives_the_fresh_schema() {
        let dir = tempfile::tempdir().unwrap();
        let fresh_path = dir.path().join("fresh.db");
        drop(
            Store::open(
                &fresh_path,
                &key(),
                "fresh",
                &pocketbook_protocol::sources::SystemSources,
            )
            .unwrap(),
        );
        let fresh_conn = open_connection(&fresh_path, &key()).unwrap();
        let fresh = dump(&fresh_conn);
        assert_eq!(version(&fresh_conn), CURRENT_VERSION);
        assert!(fresh.iter().any(|(_, name, _, _)| name == "record_people"));

        for start in 0..CURRENT_VERSION {
            let path = dir.path().join(format!("from-{start}.db"));
            let mut conn = open_connection(&path, &key()).unwrap();
            migrate_to(&mut conn, start).unwrap();
            assert_eq!(version(&conn), start);
            if start >= 1 {
                conn.execute_batch(V1_ROWS).unwrap();
            }
            drop(conn);
            drop(
                Store::open(
                    &path,
                    &key(),
                    "old",
                    &pocketbook_protocol::sources::SystemSources,
                )
                .unwrap(),
            );
            let conn = open_connection(&path, &key()).unwrap();
            assert_eq!(version(&conn), CURRENT_VERSION, "from version {start}");
            assert_eq!(
                dump(&conn),
                fresh,
                "schema after upgrading from version {start}"
            );
            if start >= 1 {
                // Version 1's times are dates: midnight, 1 to 4 January 2026.
                let timed: (i64, i64) = conn
                    .query_row(
                        "SELECT (SELECT count(*) FROM records_by_time),
                                (SELECT count(*) FROM records_by_time t JOIN records r
                                 ON t.id = unhex(r.id, '-') AND r.entity = t.entity
                                    AND t.happened_at = unixepoch(r.happened_at) * 1000000
                                    AND t.happened_at >= 1767225600000000
                                    AND t.happened_at <= 1767484800000000)",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                assert_eq!(timed, (4, 4), "version 23 fills the table: from {start}");
            }
            if start == 1 {
                let mut stmt = conn
                    .prepare("SELECT young_person_id, record_id FROM record_people ORDER BY 2")
                    .unwrap();
                let links: Vec<(String, String)> = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let expected = [(v1_id("a1"), v1_id("b1")), (v1_id("a1"), v1_id("c1"))];
                assert_eq!(links, expected, "version 2 backfills live records' links");
            }
        }
    }

    #[test]
    fn a_store_from_a_newer_build_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.db");
        drop(
            Store::open(
                &path,
                &key(),
                "d",
                &pocketbook_protocol::sources::SystemSources,
            )
            .unwrap(),
        );
        let conn = open_connection(&path, &key()).unwrap();
        conn.pragma_update(None, "user_version", CURRENT_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Store::open(
            &path,
            &key(),
            "d",
            &pocketbook_protocol::sources::SystemSources,
        )
        .err()
        .unwrap();
        assert!(matches!(err, Error::SchemaTooNew { found, .. } if found == CURRENT_VERSION + 1));
    }

    /// The plan of `sql`, one line a step.
    fn plan(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn the_young_people_a_row_names_are_read_by_its_key_never_by_a_walk_of_the_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_connection(&dir.path().join("p.db"), &key()).unwrap();
        migrate_to(&mut conn, CURRENT_VERSION).unwrap();
        conn.execute_batch(V1_ROWS).unwrap();
        // As `records::unlink_people`, the trigger of migration 18 and the chronology ask.
        let one = plan(
            &conn,
            "SELECT young_person_id FROM record_named_people WHERE record_id = 'v1'",
        );
        let pending = plan(
            &conn,
            "SELECT o.record_id FROM outbox o WHERE o.kind = 'create' AND o.entity = 'visit'
               AND EXISTS (SELECT 1 FROM record_named_people n
                           WHERE n.record_id = o.record_id AND n.young_person_id = 'yp1')",
        );
        for step in one.iter().chain(&pending) {
            assert!(
                !step.starts_with("SCAN r") && !step.contains("SCAN records"),
                "{step} in {one:?} / {pending:?}"
            );
        }
        assert!(one
            .iter()
            .any(|s| s.contains("USING INDEX sqlite_autoindex_records_1")));
        let names = |id: &str| -> Vec<String> {
            let mut stmt = conn
                .prepare("SELECT young_person_id FROM record_named_people WHERE record_id = ?1")
                .unwrap();
            let rows = stmt.query_map([id], |r| r.get(0)).unwrap();
            rows.map(Result::unwrap).collect()
        };
        assert_eq!(names(&v1_id("b1")), [v1_id("a1")]);
        assert_eq!(names(&v1_id("c1")), [v1_id("a1")]);
        assert!(names(&v1_id("a1")).is_empty());
        assert!(names(&v1_id("b2")).is_empty());
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.db");
        let mut conn = open_connection(&path, &key()).unwrap();
        migrate_to(&mut conn, 1).unwrap();
        // A table that version 2 is about to create makes its migration fail part-way.
        conn.execute_batch("CREATE TABLE record_people (x);")
            .unwrap();
        assert!(migrate_to(&mut conn, CURRENT_VERSION).is_err());
        assert_eq!(version(&conn), 1);
    }
}
