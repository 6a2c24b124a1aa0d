//! The device's side of a server restore (issue 12), kept in the store so a device killed
//! mid-reconciliation resumes it on its next sync: the new epoch and the server's position
//! (`reconcile`), a snapshot of the device's ACKNOWLEDGED state of every record taken before
//! the reconciling pull overwrites it, with the server's state as that pull returns it
//! (`reconcile_records`), the open conflicts the pull did not return (`reconcile_conflicts`),
//! the planned restore mutations until the server takes them (`reconcile_out`), and how far
//! the refusals the restore lost have been sent again (`reconcile.refused_after`). Runs inside
//! the caller's transaction.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use uuid::Uuid;

use std::collections::BTreeMap;

use pocketbook_protocol::merge::{Conflict, RecordState};
use pocketbook_protocol::wire::{AckedPosition, PullEntry, RefusedMutation};
use pocketbook_protocol::{Entity, Marking, Mutation, RejectCode};

use super::device::DeviceState;
use super::versions;
use crate::error::{Error, Result};
use crate::sync::pulled_page::{PulledEntry, PulledPage};
use crate::sync::restore_plan::HeldRecord;

fn corrupt() -> Error {
    Error::Corrupt {
        what: "reconciliation",
    }
}

/// Where a reconciliation stands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reconcile {
    /// The server's new epoch.
    pub epoch: String,
    /// What the restored server held of this device.
    pub position: AckedPosition,
    /// False while pulling every bucket from 0; true once the restores are planned.
    pub pushing: bool,
}

/// The reconciliation under way, if any.
pub(crate) fn state(conn: &Connection) -> Result<Option<Reconcile>> {
    let row: Option<(String, String, String)> = conn
        .prepare_cached("SELECT epoch, position, phase FROM reconcile WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((epoch, position, phase)) = row else {
        return Ok(None);
    };
    Ok(Some(Reconcile {
        epoch,
        position: serde_json::from_str(&position).map_err(|_| corrupt())?,
        pushing: phase == "push",
    }))
}

/// Starts (or re-aims, when the server changed epoch again while pulling) a reconciliation:
/// snapshots the acknowledged state of every record (the `acknowledged` row of one with edits
/// pending; none for one never acknowledged), takes the new epoch with every cursor dropped
/// (the next pull starts every bucket from 0; nothing held is dropped), and continues the
/// audit chain from the server's position.
pub(crate) fn begin(conn: &Connection, epoch: &str, position: &AckedPosition) -> Result<()> {
    let position_text = serde_json::to_string(position).map_err(|_| corrupt())?;
    match state(conn)? {
        Some(r) if r.epoch == epoch => return Ok(()),
        Some(r) if !r.pushing => {
            // Restored again mid-pull: the snapshot still holds what was acknowledged.
            conn.execute("UPDATE reconcile_records SET server = NULL", [])?;
        }
        _ => {
            // Planned restores the server never took are planned again from a new snapshot.
            conn.execute("DELETE FROM reconcile_out", [])?;
            conn.execute("DELETE FROM reconcile_records", [])?;
            conn.execute(
                "INSERT INTO reconcile_records (id, entity, team_id, marking, deleted, data,
                                                versions)
                 SELECT r.id, r.entity, r.team_id, r.marking, COALESCE(a.deleted, r.deleted),
                        COALESCE(a.data, r.data), COALESCE(a.versions, r.versions)
                 FROM records r LEFT JOIN acknowledged a ON a.id = r.id
                 WHERE a.id IS NOT NULL
                    OR (NOT EXISTS (SELECT 1 FROM outbox o WHERE o.record_id = r.id)
                        AND NOT EXISTS (SELECT 1 FROM rejected j WHERE j.record_id = r.id
                                        AND j.held_generation IS NOT NULL))",
                [],
            )?;
        }
    }
    // Every open conflict until the pull shows the server holds it (nothing was dropped, so a
    // re-aim finds the same ones again).
    conn.execute("DELETE FROM reconcile_conflicts", [])?;
    conn.execute(
        "INSERT INTO reconcile_conflicts (id, record_id, data)
         SELECT id, record_id, data FROM conflicts WHERE resolved = 0",
        [],
    )?;
    conn.execute(
        "INSERT INTO reconcile (id, epoch, position, phase, refused_after)
         VALUES (1, ?1, ?2, 'pull', ?3)
         ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, position = excluded.position,
             phase = 'pull', refused_after = excluded.refused_after",
        params![epoch, position_text, position.seq],
    )?;
    let device = DeviceState::load(conn)?;
    conn.execute(
        "UPDATE sync_state SET epoch = ?1, audit_acked_seq = ?2 WHERE id = 1",
        params![epoch, position.audit_seq.min(device.audit_seq)],
    )?;
    conn.execute("DELETE FROM cursors", [])?;
    Ok(())
}

/// Notes the server's state of each record of a reconciling page (before it is applied), and
/// each conflict it holds.
pub(crate) fn note_server(conn: &Connection, page: &PulledPage) -> Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE reconcile_records SET server = ?2 WHERE id = ?1")?;
    let mut held_conflict = conn.prepare_cached("DELETE FROM reconcile_conflicts WHERE id = ?1")?;
    for entry in &page.entries {
        match entry {
            PulledEntry::Other(PullEntry::Conflict { conflict, .. }) => {
                held_conflict.execute([&conflict.id])?;
            }
            PulledEntry::Snapshot(snapshot) => {
                let server = snapshot.state.clone().into_state()?;
                let text = serde_json::to_string(&server).map_err(|_| corrupt())?;
                stmt.execute(params![snapshot.id.to_string(), text])?;
            }
            PulledEntry::Other(_) => {}
        }
    }
    Ok(())
}

/// The snapshot with the server's states: what the planner compares.
pub(crate) fn held_records(conn: &Connection) -> Result<Vec<HeldRecord>> {
    let mut stmt = conn.prepare(
        "SELECT id, entity, team_id, marking, deleted, data, versions, server
         FROM reconcile_records ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, entity, team, marking, deleted, data, stored, server) = row?;
        let fields: Map<String, Value> = serde_json::from_str(&data).map_err(|_| corrupt())?;
        let team_id = fields
            .get("team_id")
            .and_then(Value::as_str)
            .unwrap_or(&team)
            .parse::<Uuid>()
            .map_err(|_| corrupt())?;
        let marking = fields
            .get("marking")
            .and_then(Value::as_str)
            .unwrap_or(&marking)
            .parse::<Marking>()
            .map_err(|_| corrupt())?;
        out.push(HeldRecord {
            entity: entity.parse::<Entity>().map_err(|_| corrupt())?,
            id: Uuid::parse_str(&id).map_err(|_| corrupt())?,
            team_id,
            marking,
            acknowledged: RecordState {
                versions: versions::decode(&stored, fields.keys())?,
                fields,
                deleted,
            },
            server: server
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt())?,
        });
    }
    Ok(out)
}

/// The open conflicts the restored server lacks, by record.
pub(crate) fn lost_conflicts(conn: &Connection) -> Result<BTreeMap<Uuid, Vec<Conflict>>> {
    let mut stmt = conn.prepare("SELECT data FROM reconcile_conflicts ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out: BTreeMap<Uuid, Vec<Conflict>> = BTreeMap::new();
    for data in rows {
        let conflict: Conflict = serde_json::from_str(&data?).map_err(|_| corrupt())?;
        out.entry(conflict.record_id).or_default().push(conflict);
    }
    Ok(out)
}

/// The refusals the restored server lacks (after its position of this device) not yet sent
/// again, oldest first, at most `limit`.
pub(crate) fn refused_to_send(conn: &Connection, limit: usize) -> Result<Vec<RefusedMutation>> {
    let after: Option<i64> = conn
        .query_row(
            "SELECT refused_after FROM reconcile WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    let Some(after) = after else {
        return Ok(Vec::new());
    };
    let mut stmt = conn.prepare_cached(
        "SELECT code, mutation FROM rejected
         WHERE seq > ?1 AND mutation IS NOT NULL AND held_generation IS NULL
         ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![after, i64::try_from(limit).unwrap_or(i64::MAX)],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (code, mutation) = row?;
        out.push(RefusedMutation {
            code: serde_json::from_value::<RejectCode>(Value::String(code))
                .map_err(|_| corrupt())?,
            mutation: serde_json::from_str(&mutation).map_err(|_| corrupt())?,
        });
    }
    Ok(out)
}

/// The server quarantined again the refusals through `seq`.
pub(crate) fn refused_answered(conn: &Connection, seq: u64) -> Result<()> {
    conn.execute(
        "UPDATE reconcile SET refused_after = max(refused_after, ?1) WHERE id = 1",
        [seq],
    )?;
    Ok(())
}

/// The highest seq the device had acknowledged: the one before its oldest outbox entry.
pub(crate) fn acked_seq(conn: &Connection) -> Result<u64> {
    let oldest: Option<i64> = conn.query_row("SELECT MIN(seq) FROM outbox", [], |r| r.get(0))?;
    Ok(match oldest {
        Some(seq) => u64::try_from(seq).map_err(|_| corrupt())?.saturating_sub(1),
        None => DeviceState::load(conn)?.next_seq.saturating_sub(1),
    })
}

/// Keeps the planned restores (numbered from `acked_seq + 1`), renumbers the pending outbox
/// after them (the server never saw those numbers) and moves to pushing.
pub(crate) fn stage(conn: &Connection, restores: &[Mutation], after: u64) -> Result<()> {
    // A record the reconciling pull did not return is noted `unserved`: the server lacks it
    // or does not show it to this officer.
    let mut insert = conn.prepare_cached(
        "INSERT INTO reconcile_out (seq, mutation, unserved)
         VALUES (?1, ?2, coalesce((SELECT server IS NULL FROM reconcile_records WHERE id = ?3), 0))",
    )?;
    for m in restores {
        let text = serde_json::to_string(m).map_err(|_| corrupt())?;
        insert.execute(params![m.seq, text, m.record_id.to_string()])?;
    }
    let count = u64::try_from(restores.len()).map_err(|_| corrupt())?;
    let first_free = after.saturating_add(count).saturating_add(1);
    let oldest: Option<i64> = conn.query_row("SELECT MIN(seq) FROM outbox", [], |r| r.get(0))?;
    let mut device = DeviceState::load(conn)?;
    if let Some(oldest) = oldest {
        let shift = i64::try_from(first_free).map_err(|_| corrupt())? - oldest;
        // Two steps, so no renumbered entry meets one not yet renumbered.
        conn.execute("UPDATE outbox SET seq = -seq", [])?;
        conn.execute("UPDATE outbox SET seq = ?1 - seq", [shift])?;
        let newest: i64 = conn.query_row("SELECT MAX(seq) FROM outbox", [], |r| r.get(0))?;
        device.next_seq = u64::try_from(newest).map_err(|_| corrupt())? + 1;
    } else {
        device.next_seq = first_free;
    }
    device.save(conn)?;
    conn.execute("DELETE FROM reconcile_records", [])?;
    conn.execute("DELETE FROM reconcile_conflicts", [])?;
    conn.execute("UPDATE reconcile SET phase = 'push' WHERE id = 1", [])?;
    Ok(())
}

/// The planned restores the server has not taken yet, oldest first, at most `limit`.
pub(crate) fn restores_to_push(conn: &Connection, limit: usize) -> Result<Vec<Mutation>> {
    let mut stmt =
        conn.prepare_cached("SELECT mutation FROM reconcile_out ORDER BY seq LIMIT ?1")?;
    let rows = stmt.query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
        r.get::<_, String>(0)
    })?;
    rows.map(|r| serde_json::from_str(&r?).map_err(|_| corrupt()))
        .collect()
}

/// The server refused the restore numbered `seq`. A record its reconciling pull did not
/// return is one the server does not show this officer (it keeps the refused copy in its
/// quarantine): the device's copy goes, once no edit of it is pending.
pub(crate) fn restore_refused(conn: &Connection, seq: u64) -> Result<()> {
    let row: Option<(String, bool)> = conn
        .prepare_cached("SELECT mutation, unserved FROM reconcile_out WHERE seq = ?1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((text, true)) = row else {
        return Ok(());
    };
    let m: Mutation = serde_json::from_str(&text).map_err(|_| corrupt())?;
    let id = m.record_id.to_string();
    conn.prepare_cached("DELETE FROM record_buckets WHERE record_id = ?1")?
        .execute([&id])?;
    let pending: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE record_id = ?1)")?
        .query_row([&id], |r| r.get(0))?;
    super::pull::forget(conn, m.record_id, pending)
}

/// The server answered the restores through `seq` (taken or refused: never resent).
pub(crate) fn restores_answered(conn: &Connection, seq: u64) -> Result<()> {
    conn.execute("DELETE FROM reconcile_out WHERE seq <= ?1", [seq])?;
    Ok(())
}

/// Ends the reconciliation.
pub(crate) fn finish(conn: &Connection) -> Result<()> {
    conn.execute("DELETE FROM reconcile", [])?;
    conn.execute("DELETE FROM reconcile_out", [])?;
    conn.execute("DELETE FROM reconcile_records", [])?;
    conn.execute("DELETE FROM reconcile_conflicts", [])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pocketbook_protocol::{Hlc, MutationKind, Version};
    use serde_json::json;

    use super::*;
    use crate::store::{Store, StoreKey};

    fn version(millis: u64) -> Version {
        Version {
            hlc: Hlc { millis, counter: 0 },
            node: Uuid::from_u128(9),
        }
    }

    fn row(conn: &Connection, table: &str, id: &str, notes: &str, millis: u64) {
        let versions =
            versions::encode(&BTreeMap::from([("notes".into(), version(millis))])).unwrap();
        let data = json!({ "notes": notes, "team_id": Uuid::from_u128(1), "marking": "OFFICIAL" });
        let sql = if table == "records" {
            "INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data, versions)
             VALUES (?1, 'visit', ?4, 'OFFICIAL', '2026-01-01', 0, ?2, ?3)"
        } else {
            "INSERT INTO acknowledged (id, deleted, data, versions) VALUES (?1, 0, ?2, ?3)"
        };
        let mut args: Vec<String> = vec![id.into(), data.to_string(), versions];
        if table == "records" {
            args.push(Uuid::from_u128(1).to_string());
        }
        conn.execute(sql, rusqlite::params_from_iter(args)).unwrap();
    }

    fn outbox_entry(conn: &Connection, seq: u64, id: &str) {
        conn.execute(
            "INSERT INTO outbox (seq, entity, record_id, kind, team_id, marking, fields, base,
                                 version)
             VALUES (?1, 'visit', ?2, 'update', ?3, 'OFFICIAL', '{}', '{}', ?4)",
            params![
                seq,
                id,
                Uuid::from_u128(1).to_string(),
                version(50).to_string()
            ],
        )
        .unwrap();
    }

    fn seqs(conn: &Connection) -> Vec<i64> {
        let mut stmt = conn.prepare("SELECT seq FROM outbox ORDER BY seq").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(|r| r.unwrap()).collect()
    }

    /// A scratch encrypted store enrolled on epoch `old` (the directory keeps it alive).
    fn enrolled_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("d.db"),
            &StoreKey::from_bytes(&[7u8; 32]).unwrap(),
            "d",
            &pocketbook_protocol::sources::SystemSources,
        )
        .unwrap();
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO sync_state (id, server_url, token, server_id, lease_seconds,
                                             enrolled_at, epoch, audit_acked_seq)
                     VALUES (1, 'http://s', 't', ?1, 60, '2026-01-01T00:00:00Z', 'old', 0)",
                    [Uuid::from_u128(2).to_string()],
                )?;
                Ok(())
            })
            .unwrap();
        (dir, store)
    }

    #[test]
    fn each_step_is_kept_so_an_interrupted_reconciliation_resumes_where_it_stopped() {
        let (_dir, store) = enrolled_store();
        let (acked, pending, local) = (
            Uuid::from_u128(11).to_string(),
            Uuid::from_u128(12).to_string(),
            Uuid::from_u128(13).to_string(),
        );
        store
            .write(|tx| {
                row(tx, "records", &acked, "acked", 10);
                row(tx, "records", &pending, "my pending edit", 30);
                row(tx, "acknowledged", &pending, "acked before the edit", 20);
                row(tx, "records", &local, "never sent", 40);
                outbox_entry(tx, 5, &pending);
                outbox_entry(tx, 6, &local);
                tx.execute("UPDATE device SET next_seq = 7", [])?;
                tx.execute(
                    "INSERT INTO cursors (bucket, cursor) VALUES ('team:x', 10)",
                    [],
                )?;
                Ok(())
            })
            .unwrap();
        let position = AckedPosition {
            seq: 3,
            audit_seq: 0,
            audit_head: "h".into(),
        };
        store.write(|tx| begin(tx, "new", &position)).unwrap();
        // Begun again on the same epoch (the next sync after a kill), nothing changes.
        store.write(|tx| begin(tx, "new", &position)).unwrap();
        store
            .write(|tx| {
                let s = state(tx)?.unwrap();
                assert_eq!((s.epoch.as_str(), s.pushing), ("new", false));
                assert!(crate::store::cursors(tx)?.is_empty(), "every bucket from 0");
                let held = held_records(tx)?;
                let notes: Vec<&Value> = held
                    .iter()
                    .map(|h| &h.acknowledged.fields["notes"])
                    .collect();
                assert_eq!(notes, [&json!("acked"), &json!("acked before the edit")]);
                assert_eq!(acked_seq(tx)?, 4);
                // The pull tells what the server holds.
                let page = pocketbook_protocol::wire::PullResponse {
                    epoch: "new".into(),
                    buckets: vec![],
                    entries: vec![PullEntry::Snapshot {
                        bucket: "team:x".into(),
                        entity: Entity::Visit,
                        id: Uuid::parse_str(&acked).unwrap(),
                        fields: held[0].acknowledged.fields.clone(),
                        versions: held[0].acknowledged.versions.clone(),
                        deleted: false,
                    }],
                    cursors: BTreeMap::new(),
                    remaining: 0,
                    reference: None,
                };
                note_server(tx, &page.try_into()?)?;
                let held = held_records(tx)?;
                assert!(held[0].server.is_some() && held[1].server.is_none());
                let plan = crate::sync::restore_plan::plan_restores(&held, &lost_conflicts(tx)?, 4);
                assert_eq!(plan.len(), 1);
                assert_eq!(plan[0].kind, MutationKind::Restore);
                stage(tx, &plan, 4)
            })
            .unwrap();
        store
            .write(|tx| {
                assert!(state(tx)?.unwrap().pushing);
                assert_eq!(seqs(tx), [6, 7], "the outbox after the restore, in order");
                assert_eq!(DeviceState::load(tx)?.next_seq, 8);
                // A kill before the answer: the same restore is sent again.
                assert_eq!(restores_to_push(tx, 10)?.len(), 1);
                restores_answered(tx, 5)?;
                assert!(restores_to_push(tx, 10)?.is_empty());
                finish(tx)?;
                assert!(state(tx)?.is_none());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_refused_restore_of_a_record_the_server_did_not_return_takes_the_copy_away() {
        // Seed 1131: a concern that became sensitive while the server was being restored.
        let (_dir, store) = enrolled_store();
        let (gone, edited) = (
            Uuid::from_u128(21).to_string(),
            Uuid::from_u128(22).to_string(),
        );
        store
            .write(|tx| {
                for id in [&gone, &edited] {
                    row(tx, "records", id, "pulled when it was the team's", 10);
                    row(tx, "acknowledged", id, "pulled when it was the team's", 10);
                    tx.execute(
                        "INSERT INTO record_buckets (record_id, bucket) VALUES (?1, 'team:x')",
                        [id],
                    )?;
                }
                outbox_entry(tx, 5, &edited);
                tx.execute("UPDATE device SET next_seq = 6", [])?;
                Ok(())
            })
            .unwrap();
        let position = AckedPosition {
            seq: 4,
            audit_seq: 0,
            audit_head: "h".into(),
        };
        store.write(|tx| begin(tx, "new", &position)).unwrap();
        store
            .write(|tx| {
                // The reconciling pull returned neither.
                let held = held_records(tx)?;
                let plan = crate::sync::restore_plan::plan_restores(&held, &lost_conflicts(tx)?, 4);
                assert_eq!(plan.len(), 2);
                stage(tx, &plan, 4)?;
                for m in &plan {
                    restore_refused(tx, m.seq)?;
                }
                restores_answered(tx, 6)?;
                let present = |id: &str| -> rusqlite::Result<(bool, bool)> {
                    tx.query_row(
                        "SELECT EXISTS (SELECT 1 FROM records WHERE id = ?1),
                                EXISTS (SELECT 1 FROM left_scope WHERE record_id = ?1)",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                };
                assert_eq!(present(&gone)?, (false, false), "the copy is gone");
                let acked: i64 = tx.query_row(
                    "SELECT count(*) FROM acknowledged WHERE id = ?1",
                    [&gone],
                    |r| r.get(0),
                )?;
                assert_eq!(acked, 0);
                assert_eq!(
                    present(&edited)?,
                    (true, true),
                    "a record with an edit pending goes once the edit is answered"
                );
                Ok(())
            })
            .unwrap();
    }
}
