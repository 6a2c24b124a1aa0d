//! Serving a pull page (DESIGN §5), written once over [`Db`]: the entries after the device's
//! cursor in each bucket its officer may read, each with the record or conflict it names, in
//! server order, the disclosure audited. Runs inside the caller's transaction.

use super::decode::{counter, db_int};
use std::collections::{BTreeMap, HashSet};

use pocketbook_protocol::limits::MAX_PULL_PAGE_BYTES;
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::{PullEntry, PullEntryKind, PullRequest};
use pocketbook_protocol::Entity;
use serde_json::json;

use super::clock::now_text;
use super::decode::{corrupt, parse_id};
use super::meta::{audit, meta};
use super::reference::{provisioning_for, team_ids};
use super::served_page::{ServedEntry, ServedPage};
use super::sql::{args, Cell, Db, Row};
use super::Device;
use crate::error::StoreError;
use crate::scope;

/// Largest pull page.
const MAX_PAGE: u32 = 2_000;
/// Default pull page.
const DEFAULT_PAGE: u32 = 500;
/// Entries read from the database at a time while a page is filled (bounds the memory a page
/// costs beyond its byte budget: this many records of at most `MAX_RECORD_BYTES`).
const CHUNK: i64 = 128;
/// How far past a page a continuation page counts what is left, in pages of its size: an
/// exact count walks every entry still to come, so counting it on every page made a first
/// sync's server work grow with the square of the store (issue 13). The first page of a sync
/// (the one asking for reference data) is still counted exactly, for the device's progress.
const COUNTED_AHEAD_PAGES: i64 = 10;

/// The bytes an entry adds to a page: its record's fields and versions, or its conflict.
fn entry_bytes(row: &Row) -> usize {
    [4, 5, 7]
        .iter()
        .map(|&i| match row.0.get(i) {
            Some(Cell::Text(t)) => t.len(),
            _ => 0,
        })
        .sum()
}

/// Whether an entry of `size` bytes still goes on a page holding `page_bytes`: always when the
/// page is empty (the cursor must move), else only within `budget`.
fn fits(page_bytes: usize, size: usize, page_empty: bool, budget: usize) -> bool {
    page_empty || page_bytes.saturating_add(size) <= budget
}

/// One bucket entry as a pull entry, from a row of the page query (`None` when the record or
/// conflict it names is gone).
fn pull_entry(
    bucket: &str,
    row: &Row,
    common_version: bool,
) -> Result<Option<ServedEntry>, StoreError> {
    let (item, kind) = (row.text(0)?, row.text(1)?);
    let entity = Entity::from_wire(&row.text(2)?);
    match PullEntryKind::from_wire(&kind) {
        PullEntryKind::Remove => Ok(Some(ServedEntry::Other(PullEntry::Remove {
            bucket: bucket.to_string(),
            entity,
            id: parse_id(&item)?,
        }))),
        PullEntryKind::Conflict => {
            let Some(data) = row.opt_text(7)? else {
                return Ok(None);
            };
            Ok(Some(ServedEntry::Other(PullEntry::Conflict {
                bucket: bucket.to_string(),
                conflict: serde_json::from_str(&data).map_err(corrupt("conflict"))?,
                resolved: row.bool(8)?,
            })))
        }
        PullEntryKind::Snapshot | PullEntryKind::Unknown(_) => {
            let (Some(fields), Some(versions)) = (row.opt_text(4)?, row.opt_text(5)?) else {
                return Ok(None);
            };
            ServedEntry::snapshot(
                bucket,
                entity,
                parse_id(&item)?,
                fields,
                versions,
                row.bool(6)?,
                common_version,
            )
            .map(Some)
        }
    }
}

/// The columns of a bucket entry with the record or conflict it names.
macro_rules! entry_columns {
    () => {
        "SELECT e.item, e.kind, e.entity, e.seq, r.fields, r.versions, r.deleted, c.data,
                c.resolved
         FROM bucket_entries e
         LEFT JOIN records r ON e.kind = 'snapshot' AND r.id = e.item
         LEFT JOIN conflicts c ON e.kind = 'conflict' AND c.id = e.item"
    };
}

/// A chunk of a bucket's entries after a change number, in order.
const ENTRIES_AFTER: &str = concat!(
    entry_columns!(),
    " WHERE e.bucket = ?1 AND e.seq > ?2 ORDER BY e.seq LIMIT ?3"
);

/// Every entry of a bucket at one change number.
const ENTRIES_AT: &str = concat!(entry_columns!(), " WHERE e.bucket = ?1 AND e.seq = ?2");

/// A page as it fills: its entries, the records it discloses and its bytes so far.
struct Filling {
    entries: Vec<ServedEntry>,
    sent: Vec<String>,
    bytes: usize,
    common_version: bool,
}

impl Filling {
    /// Puts one entry on the page (and the record it names on the list of disclosures).
    fn take(&mut self, bucket: &str, row: &Row, size: usize) -> Result<(), StoreError> {
        if let Some(entry) = pull_entry(bucket, row, self.common_version)? {
            if let ServedEntry::Snapshot { id, .. } = &entry {
                self.sent.push(id.to_string());
            }
            self.entries.push(entry);
            self.bytes += size;
        }
        Ok(())
    }
}

/// Serves one page of a pull: the entries after the device's cursor in each of its buckets, in
/// server order, and the new cursors.
pub fn pull(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    request: &PullRequest,
) -> Result<ServedPage, StoreError> {
    let epoch = meta(db, "epoch")?;
    // Every team is read only for a force-wide role (the others' buckets are their own teams').
    let all_teams = if scope::force_wide(device.officer.role) {
        team_ids(db)?
    } else {
        Vec::new()
    };
    let buckets = scope::buckets_of(&device.officer, &all_teams);
    let same_epoch = request.epoch.as_deref() == Some(epoch.as_str());
    let page = i64::from(request.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE));
    let mut budget = page;
    let mut filling = Filling {
        entries: Vec::new(),
        sent: Vec::new(),
        bytes: 0,
        common_version: request.common_version,
    };
    let mut cursors = BTreeMap::new();
    let mut remaining = 0u64;
    let mut full = false;
    for bucket in &buckets {
        let mut cursor = if same_epoch {
            db_int(request.cursors.get(bucket).copied().unwrap_or(0))
        } else {
            0
        };
        // Each query brings a chunk of entries with the records or conflicts they name; the
        // page ends before its bytes pass the budget (the first entry always goes, so the
        // cursor moves even past a record larger than the budget) — but only between two
        // change numbers: every entry of one change (a record and the conflicts it made, or
        // all the records one cascade placed) shares its number, and a cursor inside a change
        // would skip the rest of it.
        let mut taken_at_cursor: HashSet<String> = HashSet::new();
        while budget > 0 && !full {
            let chunk = budget.min(CHUNK);
            let rows = db.query(ENTRIES_AFTER, args![bucket, cursor, chunk])?;
            let fetched = rows.len();
            let mut cut_short = i64::try_from(fetched).unwrap_or(i64::MAX) >= chunk;
            for row in rows {
                let size = entry_bytes(&row);
                let seq = row.int(3)?;
                if seq != cursor
                    && !fits(
                        filling.bytes,
                        size,
                        filling.entries.is_empty(),
                        MAX_PULL_PAGE_BYTES,
                    )
                {
                    full = true;
                    cut_short = false;
                    break;
                }
                if seq != cursor {
                    taken_at_cursor.clear();
                }
                taken_at_cursor.insert(row.text(0)?);
                filling.take(bucket, &row, size)?;
                cursor = seq;
                budget -= 1;
            }
            if !cut_short {
                break;
            }
            // The chunk may have ended inside a change: the rest of it comes before the next
            // chunk (or the end of the page), over the budget if need be.
            let rows = db.query(ENTRIES_AT, args![bucket, cursor])?;
            for row in rows {
                if taken_at_cursor.insert(row.text(0)?) {
                    let size = entry_bytes(&row);
                    filling.take(bucket, &row, size)?;
                    budget -= 1;
                }
            }
        }
        let left = if request.reference {
            db.query_one(
                "SELECT count(*) FROM bucket_entries WHERE bucket = ?1 AND seq > ?2",
                args![bucket, cursor],
            )?
        } else {
            db.query_one(
                "SELECT count(*) FROM (SELECT 1 FROM bucket_entries
                 WHERE bucket = ?1 AND seq > ?2 LIMIT ?3) AS ahead",
                args![bucket, cursor, page * COUNTED_AHEAD_PAGES],
            )?
        }
        .int(0)?;
        remaining += counter(left);
        cursors.insert(bucket.clone(), counter(cursor));
    }
    // A cursor that missed compacted history: nothing is served (`compact::check_cursors`).
    let asked = buckets.iter().map(|b| {
        let at = request.cursors.get(b).copied().filter(|_| same_epoch);
        (b.clone(), db_int(at.unwrap_or(0)))
    });
    let reached = cursors.iter().map(|(b, &c)| (b.clone(), db_int(c)));
    let stale =
        super::compact::check_cursors(db, device.device_id, &asked.collect(), &reached.collect())?;
    if !stale.is_empty() {
        return Err(StoreError::ResyncRequired(stale));
    }
    if !filling.sent.is_empty() {
        audit(
            db,
            sources,
            "disclose",
            Some(device.officer.id),
            Some(device.device_id),
            json!({ "records": filling.sent }),
        )?;
    }
    db.execute(
        "UPDATE devices SET last_sync_at = ?2 WHERE device_id = ?1",
        args![device.device_id.to_string(), now_text(sources)],
    )?;
    let reference = if request.reference {
        Some(provisioning_for(db, &device.officer)?)
    } else {
        None
    };
    Ok(ServedPage {
        epoch,
        buckets,
        entries: filling.entries,
        cursors,
        remaining,
        reference,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_ends_before_its_budget_but_never_empty() {
        assert!(fits(0, 10, true, 100));
        assert!(fits(90, 10, false, 100));
        assert!(!fits(91, 10, false, 100));
        // One record larger than the whole budget still goes, alone.
        assert!(fits(0, 1_000, true, 100));
        assert!(!fits(1_000, 1, false, 100));
    }

    #[test]
    fn an_entry_weighs_its_record_and_versions_or_its_conflict() {
        let row = Row(vec![
            Cell::Text("id".into()),
            Cell::Text("snapshot".into()),
            Cell::Text("visit".into()),
            Cell::Int(1),
            Cell::Text("x".repeat(100)),
            Cell::Text("y".repeat(20)),
            Cell::Int(0),
            Cell::Null,
            Cell::Null,
        ]);
        assert_eq!(entry_bytes(&row), 120);
    }

    /// The plan SQLite chooses for `sql` on a migrated, empty database.
    fn plan_of(sql: &str) -> String {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::migrations::migrate(&mut conn).unwrap();
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let steps = stmt
            .query_map(["team:a", "0", "100"], |r| r.get::<_, String>(3))
            .unwrap();
        steps.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn a_pull_reads_a_buckets_entries_from_the_index_alone() {
        let plan = plan_of(ENTRIES_AFTER);
        assert!(
            plan.contains("SEARCH e USING COVERING INDEX bucket_entries_by_seq"),
            "{plan}"
        );
    }
}
