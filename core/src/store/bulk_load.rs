//! A first sync of many pages loaded as a bulk load: into a store holding no records, the
//! pulled records go without the index of records by kind and time (every pulled record would
//! otherwise update it at a random place, which at a million records reads, verifies and
//! decrypts an index page for nearly every insert), and their chronology links go to a staging
//! table in the order the records arrive (written straight into `record_people`, keyed by young
//! person, a page of a thousand records rewrote a leaf for nearly every link). When the pull
//! ends — or, if the app died during the load, when the store is next opened — the index is
//! built and the links are merged in order of young person, each by a sort.

use rusqlite::{params, Connection};
use uuid::Uuid;

use crate::error::Result;

/// The index a bulk load leaves out; the same definition as the schema's (migration 1).
const RECORDS_BY_ENTITY: &str =
    "CREATE INDEX IF NOT EXISTS records_by_entity ON records (entity, happened_at)";

/// The page cache while the index is built and the links merged (KiB, negated as SQLite
/// takes it).
const SORT_CACHE: i64 = -1024;

/// The most staged links one merge pass sorts: about 80 bytes each in the sorter, so a pass
/// holds about 32 MB, under what the index build's sort takes at a million records.
const MERGE_PASS: usize = 400_000;

/// How many young person ids the sample that splits the merge into passes keeps: from this
/// up to twice this once that many links are staged.
const SAMPLE: usize = 4_096;

/// Starts a bulk load if the store holds no records (nothing a query needs quickly yet):
/// drops the index and says whether it did. A store already holding records is left as it is.
pub(crate) fn begin(conn: &Connection) -> Result<bool> {
    let empty: bool = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM records) AND NOT EXISTS (SELECT 1 FROM unreadable)",
        [],
        |r| r.get(0),
    )?;
    if empty {
        conn.execute_batch("DROP INDEX IF EXISTS records_by_entity")?;
    }
    Ok(empty)
}

/// Where a pulled record's chronology links are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Links {
    /// Into `record_people`, the chronology's index.
    Indexed,
    /// Into the staging table, during a bulk load.
    Staged,
}

impl Links {
    /// Staged while a bulk load is under way, indexed otherwise.
    pub(crate) fn now(conn: &Connection) -> Result<Self> {
        Ok(if loading(conn)? {
            Links::Staged
        } else {
            Links::Indexed
        })
    }

    /// Writes the links of `record_id` to `people`.
    pub(crate) fn write(self, conn: &Connection, record_id: Uuid, people: &[Uuid]) -> Result<()> {
        match self {
            Links::Indexed => super::records::link_people(conn, record_id, people),
            Links::Staged => stage_links(conn, record_id, people),
        }
    }
}

/// Whether a bulk load is under way (its index is missing).
fn loading(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT NOT EXISTS (SELECT 1 FROM sqlite_master
                                WHERE type = 'index' AND name = 'records_by_entity')",
        )?
        .query_row([], |r| r.get(0))?)
}

/// Stages the chronology links of a record pulled during a bulk load (keyed by record, so
/// appended in the order the records arrive). The chronology reads them meanwhile.
fn stage_links(conn: &Connection, record_id: Uuid, people: &[Uuid]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO record_people_staged (record_id, young_person_id) VALUES (?1, ?2)",
    )?;
    let record_id = record_id.to_string();
    for person in people {
        stmt.execute(params![record_id, person.to_string()])?;
    }
    Ok(())
}

/// Removes the staged links of `record_id` (a record pulled again, or gone, during the load).
/// Outside a load the table is empty and this reads one cached page.
pub(crate) fn unstage_links(conn: &Connection, record_id: Uuid) -> Result<()> {
    conn.prepare_cached("DELETE FROM record_people_staged WHERE record_id = ?1")?
        .execute([record_id.to_string()])?;
    Ok(())
}

/// Finishes a bulk load: builds the index if it is missing and merges the staged links — at
/// the end of a bulk load (whether the pull finished or failed), and on every open (a crash
/// during a load). A no-op when there is nothing to do.
///
/// Each sort runs in memory (temporary storage stays in memory: SQLCipher does not encrypt the
/// sorter's temporary files): the index's about 60 bytes a record for the seconds it runs
/// (`BENCHMARKS.md`), the links' at most [`MERGE_PASS`] at a time; the page cache is let go of
/// meanwhile and set back after.
pub(crate) fn finish(conn: &Connection) -> Result<()> {
    finish_in_passes_of(conn, MERGE_PASS)
}

fn finish_in_passes_of(conn: &Connection, pass: usize) -> Result<()> {
    let staged: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM record_people_staged)",
        [],
        |r| r.get(0),
    )?;
    let missing = loading(conn)?;
    if !staged && !missing {
        return Ok(());
    }
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.execute_batch(&format!("PRAGMA cache_size = {SORT_CACHE};"))?;
    // The index first: built after the merge, its sort peaked at 124 MB for a million
    // records against 96 MB before it (`BENCHMARKS.md`).
    let built = if missing {
        conn.execute_batch(RECORDS_BY_ENTITY).map_err(Into::into)
    } else {
        Ok(())
    };
    let done = built.and_then(|()| merge_links(conn, pass));
    conn.execute_batch(&format!("PRAGMA cache_size = {cache};"))?;
    done
}

/// Moves the staged links into `record_people` in order of young person, in passes over
/// ranges of young person ids of at most about `pass` links each (split at the quantiles of a
/// sample), so each sort is bounded and each pass appends after the last.
fn merge_links(conn: &Connection, pass: usize) -> Result<()> {
    let (count, mut sample) = sample_people(conn)?;
    if count == 0 {
        return Ok(());
    }
    sample.sort_unstable();
    let passes = count.div_ceil(pass.max(1));
    let mut bounds: Vec<&String> = (1..passes)
        .filter_map(|i| sample.get(i * sample.len() / passes))
        .collect();
    bounds.dedup();
    let mut merge = conn.prepare_cached(
        "INSERT OR IGNORE INTO record_people (young_person_id, record_id)
         SELECT young_person_id, record_id FROM record_people_staged
         WHERE (?1 IS NULL OR young_person_id > ?1) AND (?2 IS NULL OR young_person_id <= ?2)
         ORDER BY 1, 2",
    )?;
    let mut after: Option<&String> = None;
    for upto in bounds.into_iter().map(Some).chain(std::iter::once(None)) {
        merge.execute(params![after, upto])?;
        after = upto;
    }
    // Every staged link is now in `record_people` (a link unstaged during the load was erased
    // then), so the staged pages hold nothing the file does not still hold: freed without
    // overwriting them, which would write each again.
    conn.execute_batch("PRAGMA secure_delete = FAST;")?;
    let cleared = conn.execute("DELETE FROM record_people_staged", []);
    conn.execute_batch("PRAGMA secure_delete = ON;")?;
    cleared?;
    Ok(())
}

/// How many links are staged, and an evenly spaced sample of their young person ids (every
/// k-th in the table's order, which is the records' and says nothing of the people's; k
/// doubles whenever the sample grows past twice [`SAMPLE`]).
fn sample_people(conn: &Connection) -> Result<(usize, Vec<String>)> {
    let mut stmt = conn.prepare("SELECT young_person_id FROM record_people_staged")?;
    let mut rows = stmt.query([])?;
    let (mut count, mut every) = (0usize, 1usize);
    let mut sample = Vec::new();
    while let Some(row) = rows.next()? {
        if count % every == 0 {
            sample.push(row.get::<_, String>(0)?);
            if sample.len() >= 2 * SAMPLE {
                sample = sample.into_iter().step_by(2).collect();
                every *= 2;
            }
        }
        count += 1;
    }
    Ok((count, sample))
}

#[cfg(test)]
#[path = "bulk_load_tests.rs"]
mod tests;
