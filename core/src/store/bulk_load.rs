//! A first sync of many pages loaded as a bulk load: into a store holding no records, the
//! records' entries in the table of records by kind and time go to a staging table keyed by
//! record (record ids are time-ordered, so they arrive about in order; written
//! straight into `records_by_time`, every pulled record would land at a random place, which at
//! a million records reads, verifies and decrypts a page for nearly every insert), and their
//! chronology links to a staging table in the order the records arrive (written straight into
//! `record_people`, keyed by young person, a page of a thousand records rewrote a leaf for
//! nearly every link). When the pull ends — or, if the app died during the load, when the
//! store is next opened — the entries are moved by ordered inserts (which, unlike
//! `CREATE INDEX`, leave room in each leaf for the records later pulls add) and the links are
//! merged in order of young person, each in sorts of bounded size.

use rusqlite::{params, Connection};
use uuid::Uuid;

use super::schema::{micros, records_by_time_triggers};
use crate::error::Result;

/// The triggers that stage a record's entry of `records_by_time` during a bulk load, in place
/// of the schema's (migration 23), for every write to `records` whatever makes it.
const STAGING_TRIGGERS: &str = concat!(
    r#"
    CREATE TRIGGER records_timed_staged AFTER INSERT ON records
    BEGIN
        INSERT OR REPLACE INTO records_by_time_staged (id, entity, happened_at)
        VALUES (unhex(NEW.id, '-'), NEW.entity, "#,
    micros!("NEW.happened_at"),
    r#");
    END;
    CREATE TRIGGER records_retimed_staged AFTER UPDATE OF id, entity, happened_at ON records
    WHEN OLD.id IS NOT NEW.id OR OLD.entity IS NOT NEW.entity
      OR OLD.happened_at IS NOT NEW.happened_at
    BEGIN
        DELETE FROM records_by_time_staged WHERE id = unhex(OLD.id, '-');
        INSERT OR REPLACE INTO records_by_time_staged (id, entity, happened_at)
        VALUES (unhex(NEW.id, '-'), NEW.entity, "#,
    micros!("NEW.happened_at"),
    r#");
    END;
    CREATE TRIGGER records_untimed_staged AFTER DELETE ON records
    BEGIN
        DELETE FROM records_by_time_staged WHERE id = unhex(OLD.id, '-');
    END;
"#
);

/// Drops the schema's triggers of `records_by_time`.
const DROP_TRIGGERS: &str = "
    DROP TRIGGER IF EXISTS records_timed;
    DROP TRIGGER IF EXISTS records_retimed;
    DROP TRIGGER IF EXISTS records_untimed;
";

/// Drops the staging triggers.
const DROP_STAGING_TRIGGERS: &str = "
    DROP TRIGGER IF EXISTS records_timed_staged;
    DROP TRIGGER IF EXISTS records_retimed_staged;
    DROP TRIGGER IF EXISTS records_untimed_staged;
";

/// The page cache while the entries are moved and the links merged (KiB, negated as SQLite
/// takes it).
const SORT_CACHE: i64 = -1024;

/// The most staged entries one pass of their move sorts (kind, time and the id's 16 bytes:
/// with the time as text and passes of this size a 1M load peaked at 61 MB, against 98 MB in
/// one sort, `BENCHMARKS.md`).
const ENTRY_PASS: usize = 500_000;

/// The most staged links one merge pass sorts: about 80 bytes each in the sorter (at 1M the
/// peak with both at 500k was 76 MB).
const MERGE_PASS: usize = 500_000;

/// How many keys the sample that splits a sort into passes keeps: from this up to twice this
/// once that many rows are staged.
const SAMPLE: usize = 4_096;

/// Starts a bulk load if the store holds no records (nothing a query needs quickly yet):
/// swaps the triggers of `records_by_time` for the staging ones and says whether it did. A
/// store already holding records is left as it is.
pub(crate) fn begin(conn: &Connection) -> Result<bool> {
    let empty: bool = conn.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM records) AND NOT EXISTS (SELECT 1 FROM unreadable)",
        [],
        |r| r.get(0),
    )?;
    if empty {
        all_or_nothing(conn, || {
            Ok(conn.execute_batch(&format!(
                "DELETE FROM records_by_time;
                 {DROP_TRIGGERS}{DROP_STAGING_TRIGGERS}{STAGING_TRIGGERS}"
            ))?)
        })?;
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

/// Whether a bulk load is under way (its staging triggers are in place).
pub(crate) fn loading(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master
                            WHERE type = 'trigger' AND name = 'records_timed_staged')",
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

/// Finishes a bulk load: moves the staged entries of `records_by_time` and puts the schema's
/// triggers back if a load is under way, and merges the staged links — at the end of a bulk
/// load (whether the pull finished or failed), and on every open (a crash during a load). A
/// no-op when there is nothing to do.
///
/// Each sort runs in memory (temporary storage stays in memory: SQLCipher does not encrypt the
/// sorter's temporary files), so each is done in passes over ranges of its keys: at most
/// [`ENTRY_PASS`] entries, then [`MERGE_PASS`] links, at a time, each pass appending after
/// the last; the page cache is let go of meanwhile and set back after.
pub(crate) fn finish(conn: &Connection) -> Result<()> {
    finish_in_passes_of(conn, ENTRY_PASS, MERGE_PASS)
}

fn finish_in_passes_of(conn: &Connection, entry_pass: usize, link_pass: usize) -> Result<()> {
    let staged: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM record_people_staged)",
        [],
        |r| r.get(0),
    )?;
    let loading = loading(conn)?;
    if !staged && !loading {
        return Ok(());
    }
    let cache: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    conn.execute_batch(&format!("PRAGMA cache_size = {SORT_CACHE};"))?;
    let moved = if loading {
        move_entries(conn, entry_pass)
    } else {
        Ok(())
    };
    let done = moved.and_then(|()| merge_links(conn, link_pass));
    conn.execute_batch(&format!("PRAGMA cache_size = {cache};"))?;
    done
}

/// Moves the staged entries into `records_by_time` in its order, in passes over ranges of
/// (kind, time) of at most about `pass` entries each, and puts the schema's triggers back.
fn move_entries(conn: &Connection, pass: usize) -> Result<()> {
    all_or_nothing(conn, || {
        let (count, keys) = sample(
            conn,
            "SELECT entity, happened_at FROM records_by_time_staged",
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?;
        let mut insert = conn.prepare_cached(
            "INSERT OR IGNORE INTO records_by_time (entity, happened_at, id)
             SELECT entity, happened_at, id FROM records_by_time_staged
             WHERE (?1 IS NULL OR (entity, happened_at) > (?1, ?2))
               AND (?3 IS NULL OR (entity, happened_at) <= (?3, ?4))
             ORDER BY 1, 2, 3",
        )?;
        let mut after: Option<(String, i64)> = None;
        for upto in bounds(count, keys, pass)
            .into_iter()
            .map(Some)
            .chain(std::iter::once(None))
        {
            let (from_kind, from_time) = after.clone().unzip();
            let (to_kind, to_time) = upto.clone().unzip();
            insert.execute(params![from_kind, from_time, to_kind, to_time])?;
            after = upto;
        }
        conn.execute_batch(&format!(
            "{DROP_STAGING_TRIGGERS}{triggers}",
            triggers = records_by_time_triggers!()
        ))?;
        // Every staged entry is now in `records_by_time`: freed without overwriting, as the
        // links below.
        conn.execute_batch("PRAGMA secure_delete = FAST;")?;
        let cleared = conn.execute_batch("DELETE FROM records_by_time_staged;");
        conn.execute_batch("PRAGMA secure_delete = ON;")?;
        Ok(cleared?)
    })
}

/// Runs `f` in a savepoint: its writes land whole or not at all, inside a transaction or not.
fn all_or_nothing(conn: &Connection, f: impl FnOnce() -> Result<()>) -> Result<()> {
    conn.execute_batch("SAVEPOINT bulk_load;")?;
    match f() {
        Ok(()) => conn.execute_batch("RELEASE bulk_load;")?,
        Err(e) => {
            conn.execute_batch("ROLLBACK TO bulk_load; RELEASE bulk_load;")?;
            return Err(e);
        }
    }
    Ok(())
}

/// Moves the staged links into `record_people` in order of young person, in passes over
/// ranges of young person ids of at most about `pass` links each, so each sort is bounded and
/// each pass appends after the last.
fn merge_links(conn: &Connection, pass: usize) -> Result<()> {
    let (count, people) = sample_people(conn)?;
    if count == 0 {
        return Ok(());
    }
    let mut merge = conn.prepare_cached(
        "INSERT OR IGNORE INTO record_people (young_person_id, record_id)
         SELECT young_person_id, record_id FROM record_people_staged
         WHERE (?1 IS NULL OR young_person_id > ?1) AND (?2 IS NULL OR young_person_id <= ?2)
         ORDER BY 1, 2",
    )?;
    let mut after: Option<String> = None;
    for upto in bounds(count, people, pass)
        .into_iter()
        .map(Some)
        .chain(std::iter::once(None))
    {
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

/// How many links are staged, and a sample of their young person ids ([`sample`]).
fn sample_people(conn: &Connection) -> Result<(usize, Vec<String>)> {
    sample(
        conn,
        "SELECT young_person_id FROM record_people_staged",
        |r| r.get(0),
    )
}

/// How many rows `sql` gives, and an evenly spaced sample of them (every k-th in the order
/// the table holds them, which is the records' and says nothing of the key's; k doubles
/// whenever the sample grows past twice [`SAMPLE`]).
fn sample<T>(
    conn: &Connection,
    sql: &str,
    read: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<(usize, Vec<T>)> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    let (mut count, mut every) = (0usize, 1usize);
    let mut sample = Vec::new();
    while let Some(row) = rows.next()? {
        if count % every == 0 {
            sample.push(read(row)?);
            if sample.len() >= 2 * SAMPLE {
                sample = sample.into_iter().step_by(2).collect();
                every *= 2;
            }
        }
        count += 1;
    }
    Ok((count, sample))
}

/// Where to split `count` rows into passes of at most about `pass` each: the sample's
/// quantiles, in order, without repeats (a pass takes the keys after one bound up to and
/// including the next; the last, everything after the last bound).
fn bounds<T: Ord>(count: usize, mut sample: Vec<T>, pass: usize) -> Vec<T> {
    sample.sort_unstable();
    let passes = count.div_ceil(pass.max(1)).max(1);
    let at: Vec<usize> = (1..passes).map(|i| i * sample.len() / passes).collect();
    let mut bounds: Vec<T> = sample
        .into_iter()
        .enumerate()
        .filter(|(i, _)| at.binary_search(i).is_ok())
        .map(|(_, key)| key)
        .collect();
    bounds.dedup();
    bounds
}

#[cfg(test)]
#[path = "bulk_load_tests.rs"]
mod tests;
