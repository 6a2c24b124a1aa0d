//! Compaction (issue 12): what the server may forget once every live device has pulled past it.
//! Changes older than a horizon (at least the lease) lose their `remove` entries, the entries
//! of deleted records and their resolved conflicts; a deleted record then shrinks to a minimal
//! tombstone kept for ever (`tombstones`: id, kind, the version of its delete), so a late edit
//! or create of it is refused `record_deleted`. Each bucket remembers its highest compacted
//! change (`bucket_horizons`): a pull from a cursor below it answers `410 resync_required`.
//! Each batch is one transaction, taken as the one writer, so compaction runs while serving.
//! The content a device's delete left in `retained` is the erasure's (`erase`,
//! `purge-reviewed`) and is not touched here.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use pocketbook_protocol::merge::DELETED_FIELD;
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::Version;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::clock::now_ms;
use super::decode::{corrupt, counter};
use super::meta::audit;
use super::sql::{args, Db};
use super::sql_store::{Backend, SqlStore};
use crate::error::StoreError;

/// Rows dropped by one batch (one transaction) at most.
const BATCH: i64 = 500;

/// What one compaction did: counts only, never an id or a value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CompactReport {
    /// The highest change number older than the horizon (0: nothing was old enough).
    pub horizon_seq: u64,
    /// `remove` entries dropped.
    pub removes: u64,
    /// Entries of deleted records (tombstones) dropped.
    pub tombstone_entries: u64,
    /// Resolved conflicts dropped, with their entries.
    pub conflicts: u64,
    /// Deleted records reduced to a minimal tombstone.
    pub records: u64,
}

impl CompactReport {
    fn dropped(&self) -> u64 {
        self.removes + self.tombstone_entries + self.conflicts + self.records
    }
}

/// Notes that every change number handed out so far was committed by now. Pushes call it once
/// (one row), so compaction can tell a change's age; a number never stamped takes the time of
/// the next stamp, which is later, so the age it is given is never too old.
pub(crate) fn stamp(db: &mut dyn Db, sources: &dyn Sources) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO seq_times (seq, at_ms)
         SELECT value, ?1 FROM counters WHERE name = 'change' AND value > 0
         ON CONFLICT (seq) DO NOTHING",
        args![now_ms(sources)],
    )?;
    Ok(())
}

/// Whether the server holds `id` only as a minimal tombstone: deleted, its history compacted.
/// A create, an edit or a restore of it must never bring it back.
pub(crate) fn tombstoned(db: &mut dyn Db, id: Uuid) -> Result<bool, StoreError> {
    Ok(db
        .query_opt(
            "SELECT 1 FROM tombstones WHERE id = ?1",
            args![id.to_string()],
        )?
        .is_some())
}

/// Erases, as an admin, a record the server holds only as a minimal tombstone: the content a
/// device's delete left (`retained`) and its quarantined mutations are dropped, the reason
/// audited; devices have its tombstone already. False when `id` is no such tombstone.
pub(crate) fn erase_compacted(
    db: &mut dyn Db,
    sources: &dyn Sources,
    id: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    let text = id.to_string();
    let Some(row) = db.query_opt("SELECT entity FROM tombstones WHERE id = ?1", args![&text])?
    else {
        return Ok(false);
    };
    let entity = row.text(0)?;
    db.execute("DELETE FROM retained WHERE record_id = ?1", args![&text])?;
    db.execute(
        "DELETE FROM quarantine WHERE mutation LIKE ?1",
        args![format!("%\"record_id\":\"{text}\"%")],
    )?;
    audit(
        db,
        sources,
        "erase_record",
        None,
        None,
        json!({ "entity": entity, "record_id": id, "reason": reason }),
    )?;
    Ok(true)
}

/// A bucket's highest compacted change (0: none).
fn bucket_horizon(db: &mut dyn Db, bucket: &str) -> Result<i64, StoreError> {
    db.query_opt(
        "SELECT seq FROM bucket_horizons WHERE bucket = ?1",
        args![bucket],
    )?
    .map(|row| row.int(0))
    .transpose()
    .map(|h| h.unwrap_or(0))
}

/// Checks a pull's cursors against the compacted history and notes where each pass from 0
/// reached. `asked` holds the cursor the device sent for each bucket of its scope, `reached`
/// the cursor this page ends at. Returns the buckets whose cursor is past 0 but below the
/// bucket's highest compacted change and is not where this device's own pass from 0 had
/// reached: the device missed a dropped entry there and must pull the bucket again from 0.
///
/// A pass from 0 may stop below the horizon (a page is bounded); the cursor it reached is
/// kept per device and bucket (`resync_passes`) until it passes the horizon, so its next page
/// is served. Such a device holds nothing of the bucket it has not been sent in this pass, or
/// sweeps what it was not sent at the end, so a later compaction cannot hide anything from
/// it. Called after the page's entries were read, so a compaction committing during the pull
/// cannot hide behind the horizon it had before.
pub(crate) fn check_cursors(
    db: &mut dyn Db,
    device_id: Uuid,
    asked: &BTreeMap<String, i64>,
    reached: &BTreeMap<String, i64>,
) -> Result<Vec<String>, StoreError> {
    let device = device_id.to_string();
    let mut stale = Vec::new();
    for (bucket, &cursor) in asked {
        let horizon = bucket_horizon(db, bucket)?;
        if horizon == 0 {
            continue;
        }
        let passing = cursor == 0
            || db
                .query_opt(
                    "SELECT 1 FROM resync_passes
                     WHERE device_id = ?1 AND bucket = ?2 AND cursor = ?3",
                    args![&device, bucket, cursor],
                )?
                .is_some();
        if cursor > 0 && cursor < horizon && !passing {
            stale.push(bucket.clone());
            continue;
        }
        let at = reached.get(bucket).copied().unwrap_or(cursor);
        if passing && at > 0 && at < horizon {
            db.execute(
                "INSERT INTO resync_passes (device_id, bucket, cursor) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id, bucket) DO UPDATE SET cursor = excluded.cursor",
                args![&device, bucket, at],
            )?;
        } else if at >= horizon {
            db.execute(
                "DELETE FROM resync_passes WHERE device_id = ?1 AND bucket = ?2",
                args![&device, bucket],
            )?;
        }
    }
    Ok(stale)
}

/// The highest change number committed at or before `cutoff_ms` (0: none).
fn horizon_seq(db: &mut dyn Db, cutoff_ms: i64) -> Result<i64, StoreError> {
    Ok(db
        .query_one(
            "SELECT max(seq) FROM seq_times WHERE at_ms <= ?1",
            args![cutoff_ms],
        )?
        .opt_int(0)?
        .unwrap_or(0))
}

/// Raises each bucket's horizon to the highest change dropped from it.
fn raise_horizons(db: &mut dyn Db, dropped: &BTreeMap<String, i64>) -> Result<(), StoreError> {
    for (bucket, &seq) in dropped {
        db.execute(
            "INSERT INTO bucket_horizons (bucket, seq) VALUES (?1, ?2)
             ON CONFLICT (bucket) DO UPDATE SET seq = CASE
                 WHEN excluded.seq > bucket_horizons.seq THEN excluded.seq
                 ELSE bucket_horizons.seq END",
            args![bucket, seq],
        )?;
    }
    Ok(())
}

/// Drops one batch of entries at or below `horizon`: `remove` entries and the entries of
/// deleted (or no longer held) records. Returns (removes, tombstone entries).
fn drop_entries(db: &mut dyn Db, horizon: i64) -> Result<(u64, u64), StoreError> {
    let rows = db.query(
        "SELECT e.bucket, e.item, e.kind, e.seq FROM bucket_entries e
         LEFT JOIN records r ON r.id = e.item
         WHERE e.seq <= ?1 AND (e.kind = 'remove'
             OR (e.kind = 'snapshot' AND (r.id IS NULL OR r.deleted = TRUE)))
         ORDER BY e.seq LIMIT ?2",
        args![horizon, BATCH],
    )?;
    let (mut removes, mut tombstones) = (0, 0);
    let mut dropped: BTreeMap<String, i64> = BTreeMap::new();
    for row in rows {
        let (bucket, item, kind, seq) = (row.text(0)?, row.text(1)?, row.text(2)?, row.int(3)?);
        db.execute(
            "DELETE FROM bucket_entries WHERE bucket = ?1 AND item = ?2 AND seq = ?3",
            args![&bucket, &item, seq],
        )?;
        if kind == "remove" {
            removes += 1;
        } else {
            tombstones += 1;
        }
        let top = dropped.entry(bucket).or_insert(seq);
        *top = (*top).max(seq);
    }
    raise_horizons(db, &dropped)?;
    Ok((removes, tombstones))
}

/// Drops one batch of resolved conflicts none of whose entries is newer than `horizon`, with
/// their entries. Returns how many.
fn drop_conflicts(db: &mut dyn Db, horizon: i64) -> Result<u64, StoreError> {
    let ids: Vec<String> = db
        .query(
            "SELECT c.id FROM conflicts c WHERE c.resolved = TRUE AND NOT EXISTS
                 (SELECT 1 FROM bucket_entries e WHERE e.item = c.id AND e.seq > ?1)
             ORDER BY c.id LIMIT ?2",
            args![horizon, BATCH],
        )?
        .iter()
        .map(|row| row.text(0))
        .collect::<Result<_, _>>()?;
    let mut dropped: BTreeMap<String, i64> = BTreeMap::new();
    for id in &ids {
        for row in db.query(
            "SELECT bucket, seq FROM bucket_entries WHERE item = ?1",
            args![id],
        )? {
            let (bucket, seq) = (row.text(0)?, row.int(1)?);
            let top = dropped.entry(bucket).or_insert(seq);
            *top = (*top).max(seq);
        }
        db.execute("DELETE FROM bucket_entries WHERE item = ?1", args![id])?;
        db.execute("DELETE FROM conflicts WHERE id = ?1", args![id])?;
    }
    raise_horizons(db, &dropped)?;
    Ok(counter(i64::try_from(ids.len()).unwrap_or(i64::MAX)))
}

/// Reduces one batch of deleted records no bucket entry and no conflict names any more to
/// minimal tombstones. Returns how many.
fn shrink_records(db: &mut dyn Db) -> Result<u64, StoreError> {
    let rows = db.query(
        "SELECT r.id, r.entity, r.versions FROM records r WHERE r.deleted = TRUE
             AND NOT EXISTS (SELECT 1 FROM bucket_entries e WHERE e.item = r.id)
             AND NOT EXISTS (SELECT 1 FROM conflicts c WHERE c.record_id = r.id)
         ORDER BY r.id LIMIT ?1",
        args![BATCH],
    )?;
    let mut n = 0;
    for row in rows {
        let (id, entity) = (row.text(0)?, row.text(1)?);
        let versions: BTreeMap<String, Version> =
            serde_json::from_str(&row.text(2)?).map_err(corrupt("versions"))?;
        let deleted_version = versions
            .get(DELETED_FIELD)
            .map(Version::to_string)
            .unwrap_or_default();
        db.execute(
            "INSERT INTO tombstones (id, entity, deleted_version) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO NOTHING",
            args![&id, entity, deleted_version],
        )?;
        db.execute("DELETE FROM records WHERE id = ?1", args![&id])?;
        n += 1;
    }
    Ok(n)
}

/// Which step a batch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Entries,
    Conflicts,
    Records,
}

/// One batch of `step` at or below `horizon`, in the caller's transaction; how many rows it
/// dropped (0: the step is done).
fn batch(
    db: &mut dyn Db,
    step: Step,
    horizon: i64,
    report: &mut CompactReport,
) -> Result<u64, StoreError> {
    db.serialize_writers()?;
    Ok(match step {
        Step::Entries => {
            let (removes, tombstones) = drop_entries(db, horizon)?;
            report.removes += removes;
            report.tombstone_entries += tombstones;
            removes + tombstones
        }
        Step::Conflicts => {
            let n = drop_conflicts(db, horizon)?;
            report.conflicts += n;
            n
        }
        Step::Records => {
            let n = shrink_records(db)?;
            report.records += n;
            n
        }
    })
}

/// The first transaction of a compaction: stamps the changes made so far (admin actions write
/// changes pushes never stamp) and finds the horizon's change number.
fn begin(db: &mut dyn Db, sources: &dyn Sources, horizon_ms: i64) -> Result<i64, StoreError> {
    db.serialize_writers()?;
    stamp(db, sources)?;
    horizon_seq(db, now_ms(sources).saturating_sub(horizon_ms))
}

/// The last transaction: forgets the times of changes below the horizon (the horizon's own row
/// stays, so the next run still finds it) and all but the last stamp of each hour, and audits
/// the counts.
fn finish(
    db: &mut dyn Db,
    sources: &dyn Sources,
    horizon: i64,
    report: &CompactReport,
) -> Result<(), StoreError> {
    db.execute("DELETE FROM seq_times WHERE seq < ?1", args![horizon])?;
    // One stamp an hour is enough: dropping an earlier one of its hour can only make a later
    // horizon smaller, never let it pass a change younger than it.
    db.execute(
        "DELETE FROM seq_times WHERE seq NOT IN
             (SELECT max(seq) FROM seq_times GROUP BY at_ms / 3600000)",
        &[],
    )?;
    if report.dropped() > 0 {
        audit(db, sources, "compact", None, None, json!(report))?;
    }
    Ok(())
}

/// The compaction command over a store (beside [`super::Store`], so the trait stays as it is).
pub trait Compaction {
    /// Compacts changes older than `horizon_ms` before the store's now. The caller checks the
    /// horizon against the lease (`pocketbook-server compact` refuses a shorter one).
    fn compact(
        &self,
        horizon_ms: i64,
    ) -> impl Future<Output = Result<CompactReport, StoreError>> + Send;

    /// The ids the server holds only as minimal tombstones (for tests and inspection).
    fn tombstone_ids(&self) -> impl Future<Output = Result<BTreeSet<Uuid>, StoreError>> + Send;
}

impl<B: Backend> Compaction for SqlStore<B> {
    async fn compact(&self, horizon_ms: i64) -> Result<CompactReport, StoreError> {
        let horizon = self
            .run(move |db, sources| begin(db, sources, horizon_ms))
            .await?;
        let mut report = CompactReport {
            horizon_seq: counter(horizon),
            ..CompactReport::default()
        };
        if horizon > 0 {
            for step in [Step::Entries, Step::Conflicts, Step::Records] {
                loop {
                    let (n, done) = self
                        .run(move |db, _| {
                            let mut part = CompactReport::default();
                            batch(db, step, horizon, &mut part).map(|n| (n, part))
                        })
                        .await?;
                    report.removes += done.removes;
                    report.tombstone_entries += done.tombstone_entries;
                    report.conflicts += done.conflicts;
                    report.records += done.records;
                    if n == 0 {
                        break;
                    }
                }
            }
        }
        self.run(move |db, sources| finish(db, sources, horizon, &report))
            .await?;
        Ok(report)
    }

    async fn tombstone_ids(&self) -> Result<BTreeSet<Uuid>, StoreError> {
        self.run_read(|db, _| {
            db.query("SELECT id FROM tombstones", &[])?
                .iter()
                .map(|row| super::decode::parse_id(&row.text(0)?))
                .collect()
        })
        .await
    }
}

#[cfg(test)]
#[path = "compact_tests.rs"]
mod tests;
