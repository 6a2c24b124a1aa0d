//! Applying a planned pull page (`sync::pull_plan`) to the store: records written under
//! their pending edits, removals, conflicts, dropped buckets, cursors, epoch and clock — all in
//! the caller's one transaction. What to do was decided by the planner; this only does it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::merge::RecordState;
use pocketbook_protocol::wire::{sensitive_bucket, team_bucket};
use pocketbook_protocol::{Entity, Marking};

use super::audit::time_text;
use super::bulk_load::Links;
use super::conflicts::save_conflict;
use super::device::DeviceState;
use super::enrolment::parse_time;
use super::records::{decode_fields, unlink_people};
use super::unreadable;
use super::versions;
use crate::error::{Error, Result};
use crate::model::{Action, Addendum, Concern, Engagement, Record, Visit, YoungPerson};
use crate::sync::pull_plan::{PullOp, View};

/// The cursor of every bucket held.
pub(crate) fn cursors(conn: &Connection) -> Result<BTreeMap<String, u64>> {
    let mut stmt = conn.prepare_cached("SELECT bucket, cursor FROM cursors")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    rows.map(|r| {
        let (b, c) = r?;
        Ok((b, u64::try_from(c).unwrap_or(0)))
    })
    .collect()
}

/// Every bucket the device holds a record of.
pub(crate) fn noted_buckets(conn: &Connection) -> Result<Vec<String>> {
    // A skip through the index by bucket, one seek per distinct bucket: `SELECT DISTINCT`
    // walked every row, on every pulled page (quadratic over a first sync of a large scope).
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE held(bucket) AS (
             SELECT min(bucket) FROM record_buckets
             UNION ALL
             SELECT (SELECT min(bucket) FROM record_buckets WHERE bucket > held.bucket)
             FROM held WHERE held.bucket IS NOT NULL)
         SELECT bucket FROM held WHERE bucket IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.map(|r| r.map_err(Error::from)).collect()
}

/// When a record happened and whom it concerns, read from its fields.
fn projection(
    entity: &Entity,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<(DateTime<Utc>, Vec<Uuid>)> {
    fn of<T: Record>(id: Uuid, fields: Map<String, Value>) -> Result<(DateTime<Utc>, Vec<Uuid>)> {
        let record: T = decode_fields(&id.to_string(), fields)?;
        Ok((record.happened_at(), record.young_people()))
    }
    match entity {
        Entity::YoungPerson => of::<YoungPerson>(id, fields).map(|(t, _)| (t, Vec::new())),
        Entity::Visit => of::<Visit>(id, fields),
        Entity::Concern => of::<Concern>(id, fields),
        Entity::Addendum => of::<Addendum>(id, fields),
        Entity::Action => of::<Action>(id, fields),
        Entity::Engagement => of::<Engagement>(id, fields),
        Entity::Unknown(_) => Err(Error::Corrupt {
            what: "record of an unknown kind",
        }),
    }
}

/// What the store's row of a record says besides its fields: its team, marking, when it
/// happened and whom it concerns.
struct Placed {
    team: String,
    marking: Marking,
    happened_at: DateTime<Utc>,
    people: Vec<Uuid>,
}

/// A live record's placing read straight from the text of its fields (the record's id laid in
/// front of them); `None` when they do not read as the kind it claims to be.
fn placed_from_text(entity: &Entity, id: Uuid, fields: &str) -> Option<Placed> {
    fn of<T: Record>(text: &str, people: bool) -> Option<Placed> {
        let record: T = serde_json::from_str(text).ok()?;
        Some(Placed {
            team: record.meta().team_id.to_string(),
            marking: record.meta().marking,
            happened_at: record.happened_at(),
            people: if people {
                record.young_people()
            } else {
                Vec::new()
            },
        })
    }
    let text = with_id(id, fields)?;
    match entity {
        Entity::YoungPerson => of::<YoungPerson>(&text, false),
        Entity::Visit => of::<Visit>(&text, true),
        Entity::Concern => of::<Concern>(&text, true),
        Entity::Addendum => of::<Addendum>(&text, true),
        Entity::Action => of::<Action>(&text, true),
        Entity::Engagement => of::<Engagement>(&text, true),
        Entity::Unknown(_) => None,
    }
}

/// The text of a JSON object with `"id"` laid in as its first member (a record's fields do
/// not carry its id; the model does). `None` when `fields` is not an object's text.
fn with_id(id: Uuid, fields: &str) -> Option<String> {
    let members = fields.strip_prefix('{')?;
    let mut text = String::with_capacity(fields.len() + 48);
    text.push_str("{\"id\":\"");
    text.push_str(&id.to_string());
    text.push('"');
    if !members.trim_start().starts_with('}') {
        text.push(',');
    }
    text.push_str(members);
    Some(text)
}

fn text_field<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    fields.get(name).and_then(Value::as_str)
}

/// What came of writing a view.
pub(crate) enum Written {
    /// The record is in `records`.
    Stored,
    /// Its fields do not decode as the kind it claims to be (a newer app's shape, or
    /// nonsense): given back untouched, for the caller to hold raw.
    Unreadable(RecordState),
}

/// Writes a record's view (the server's state, with pending edits on top when there are any).
/// A live record as the server sent it is written from the text it came in: read once into
/// the record it describes (which checks its shape and gives its team, marking, chronology
/// time and people) and stored as it is. Anything else — or a sent record that does not read
/// that way — is read into maps first. A view that does not decode writes nothing and comes
/// back as [`Written::Unreadable`]. Its chronology links go where `links` says.
pub(crate) fn write_view(
    conn: &Connection,
    entity: &Entity,
    id: Uuid,
    view: View,
    links: Links,
) -> Result<Written> {
    let view = match view {
        View::Sent(sent) if !sent.deleted => match placed_from_text(entity, id, sent.fields_text())
        {
            Some(placed) => {
                let versions = versions::encode_sent(sent.common(), sent.listed())?;
                store_row(
                    conn,
                    entity,
                    id,
                    &placed,
                    false,
                    sent.fields_text(),
                    &versions,
                    links,
                )?;
                return Ok(Written::Stored);
            }
            None => sent.into_state()?,
        },
        View::Sent(sent) => sent.into_state()?,
        View::Merged(state) => state,
    };
    write_state(conn, entity, id, view, links)
}

/// Writes a record's state read into maps: its fields serialised once and then decoded into
/// the record they describe without copying them. A state that does not decode writes nothing
/// and comes back as [`Written::Unreadable`].
pub(crate) fn write_state(
    conn: &Connection,
    entity: &Entity,
    id: Uuid,
    view: RecordState,
    links: Links,
) -> Result<Written> {
    let routing = text_field(&view.fields, "team_id")
        .map(str::to_string)
        .zip(text_field(&view.fields, "marking").and_then(|m| m.parse::<Marking>().ok()));
    let Some((team, marking)) = routing else {
        return Ok(Written::Unreadable(view));
    };
    let data = serde_json::to_string(&view.fields).map_err(|_| Error::Corrupt {
        what: "pulled record",
    })?;
    let versions = versions::encode(&view.versions)?;
    let deleted = view.deleted;
    let projected = if deleted {
        text_field(&view.fields, "created_at")
            .and_then(|t| parse_time(t).ok())
            .map(|t| (t, Vec::new()))
            .ok_or(())
    } else {
        // The fields are moved into the decoder; on failure they are read back from `data`.
        projection(entity, id, view.fields).map_err(|_| ())
    };
    let Ok((happened_at, people)) = projected else {
        let fields = serde_json::from_str(&data).map_err(|_| Error::Corrupt {
            what: "pulled record",
        })?;
        return Ok(Written::Unreadable(RecordState {
            fields,
            versions: view.versions,
            deleted,
        }));
    };
    let placed = Placed {
        team,
        marking,
        happened_at,
        people,
    };
    store_row(conn, entity, id, &placed, deleted, &data, &versions, links)?;
    Ok(Written::Stored)
}

/// Inserts or replaces a record's row and its chronology links, and lets go of any unreadable
/// copy of it.
#[allow(clippy::too_many_arguments)]
fn store_row(
    conn: &Connection,
    entity: &Entity,
    id: Uuid,
    placed: &Placed,
    deleted: bool,
    data: &str,
    versions: &str,
    links: Links,
) -> Result<()> {
    let row = params![
        id.to_string(),
        entity.as_str(),
        placed.team,
        placed.marking.as_str(),
        time_text(placed.happened_at),
        deleted,
        data,
        versions
    ];
    // A record not held yet (every record of a first sync) is one insert; one held already has
    // its links removed (by what its stored row names) before the row is replaced. Its entity
    // stays what it was (?2 is bound but not used by the update).
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO records (id, entity, team_id, marking, happened_at, deleted,
                                            data, versions)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(row)?;
    if inserted == 0 {
        unlink_people(conn, id)?;
        conn.prepare_cached(
            "UPDATE records SET team_id = ?3, marking = ?4, happened_at = ?5, deleted = ?6,
                                data = ?7, versions = ?8
             WHERE id = ?1",
        )?
        .execute(row)?;
    }
    links.write(conn, id, &placed.people)?;
    unreadable::release(conn, id)
}

/// Forgets a record that left scope, unless another bucket still holds it or `keep` (an edit
/// of it is still pending: it is then noted in `left_scope`, to go once that edit is
/// acknowledged or refused).
pub(super) fn forget(conn: &Connection, id: Uuid, keep: bool) -> Result<()> {
    let left: i64 = conn
        .prepare_cached("SELECT count(*) FROM record_buckets WHERE record_id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))?;
    if left == 0 && keep {
        conn.prepare_cached("INSERT OR IGNORE INTO left_scope (record_id) VALUES (?1)")?
            .execute([id.to_string()])?;
    }
    if left == 0 && !keep {
        conn.prepare_cached("DELETE FROM left_scope WHERE record_id = ?1")?
            .execute([id.to_string()])?;
        unlink_people(conn, id)?;
        conn.execute("DELETE FROM records WHERE id = ?1", [id.to_string()])?;
        conn.execute(
            "DELETE FROM conflicts WHERE record_id = ?1",
            [id.to_string()],
        )?;
        unreadable::release(conn, id)?;
        conn.execute("DELETE FROM acknowledged WHERE id = ?1", [id.to_string()])?;
    }
    Ok(())
}

/// Records this device made and never pulled back (no bucket noted for them) that their own
/// team and marking place in `bucket`: when the bucket is dropped (the officer moved team)
/// they go with it, or a create acknowledged after the move would stay for ever.
fn unplaced_in(conn: &Connection, bucket: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT id, team_id, marking FROM records r
         WHERE NOT EXISTS (SELECT 1 FROM record_buckets b WHERE b.record_id = r.id)",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, team, marking) = row?;
        let (Ok(team), Ok(marking)) = (Uuid::parse_str(&team), marking.parse::<Marking>()) else {
            continue;
        };
        let placed = match marking {
            Marking::Official => team_bucket(team),
            Marking::OfficialSensitive => sensitive_bucket(team),
        };
        if placed == bucket {
            out.push(id);
        }
    }
    Ok(out)
}

/// What one pull page changed.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Pulled {
    pub snapshots: u64,
    pub removed: u64,
    pub conflicts: u64,
    /// Snapshots held raw because this build cannot read them.
    pub unreadable: u64,
}

/// Applies the planned operations of one pull page, in order. `pending` names the records
/// with edits still in the outbox: a dropped bucket never forgets those. During a bulk load
/// the records' chronology links are staged (`store::bulk_load`).
pub(crate) fn apply(
    conn: &Connection,
    ops: Vec<PullOp>,
    pending: &std::collections::BTreeSet<Uuid>,
    now: DateTime<Utc>,
) -> Result<Pulled> {
    let mut pulled = Pulled::default();
    // A bulk load under way stages the links (asked once a page, not once a record).
    let links = Links::now(conn)?;
    for op in ops {
        match op {
            PullOp::DropBucket { bucket } => {
                let ids: Vec<String> = {
                    let mut stmt =
                        conn.prepare("SELECT record_id FROM record_buckets WHERE bucket = ?1")?;
                    let rows = stmt.query_map([&bucket], |r| r.get::<_, String>(0))?;
                    rows.collect::<std::result::Result<_, _>>()?
                };
                conn.execute("DELETE FROM record_buckets WHERE bucket = ?1", [&bucket])?;
                conn.execute("DELETE FROM cursors WHERE bucket = ?1", [&bucket])?;
                let ids = ids.into_iter().chain(unplaced_in(conn, &bucket)?);
                for id in ids {
                    if let Ok(id) = Uuid::parse_str(&id) {
                        forget(conn, id, pending.contains(&id))?;
                        pulled.removed += 1;
                    }
                }
            }
            PullOp::WriteRecord {
                bucket,
                entity,
                id,
                view,
                acknowledged,
                erase_conflicts,
            } => {
                match &acknowledged {
                    Some(server) => super::refused::set_acknowledged(conn, id, server)?,
                    None => {
                        conn.prepare_cached("DELETE FROM acknowledged WHERE id = ?1")?
                            .execute([id.to_string()])?;
                    }
                }
                if let Written::Unreadable(view) = write_view(conn, &entity, id, view, links)? {
                    unreadable::hold(conn, entity.as_str(), id, &view, now)?;
                    pulled.unreadable += 1;
                }
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO record_buckets (record_id, bucket) VALUES (?1, ?2)",
                )?
                .execute(params![id.to_string(), bucket])?;
                // Back in scope: it stays, whatever happens to its pending edits.
                conn.prepare_cached("DELETE FROM left_scope WHERE record_id = ?1")?
                    .execute([id.to_string()])?;
                if erase_conflicts {
                    conn.execute(
                        "DELETE FROM conflicts WHERE record_id = ?1",
                        [id.to_string()],
                    )?;
                }
                pulled.snapshots += 1;
            }
            PullOp::LeaveBucket { bucket, id, keep } => {
                conn.execute(
                    "DELETE FROM record_buckets WHERE record_id = ?1 AND bucket = ?2",
                    params![id.to_string(), bucket],
                )?;
                forget(conn, id, keep)?;
                pulled.removed += 1;
            }
            PullOp::SaveConflict { conflict, resolved } => {
                save_conflict(conn, &conflict, resolved)?;
                pulled.conflicts += 1;
            }
            PullOp::HoldUnreadable {
                bucket,
                entity,
                id,
                view,
            } => {
                unreadable::hold(conn, &entity, id, &view, now)?;
                conn.prepare_cached(
                    "INSERT OR IGNORE INTO record_buckets (record_id, bucket) VALUES (?1, ?2)",
                )?
                .execute(params![id.to_string(), bucket])?;
                pulled.unreadable += 1;
            }
            PullOp::Skip => {}
            PullOp::SetCursor { bucket, cursor } => {
                conn.prepare_cached(
                    "INSERT INTO cursors (bucket, cursor) VALUES (?1, ?2)
                     ON CONFLICT (bucket) DO UPDATE SET cursor = excluded.cursor",
                )?
                .execute(params![bucket, cursor])?;
            }
            PullOp::ResyncSeen { bucket, item } => super::resync::seen(conn, &bucket, &item)?,
            PullOp::FinishResync { bucket, sweep } => {
                pulled.removed += super::resync::finish(conn, &bucket, sweep, pending)?;
            }
            PullOp::SetEpoch(epoch) => {
                conn.execute("UPDATE sync_state SET epoch = ?1 WHERE id = 1", [&epoch])?;
            }
            PullOp::MergeClock(newest) => {
                let mut device = DeviceState::load(conn)?;
                device.clock.merge(newest.hlc);
                device.save(conn)?;
            }
        }
    }
    Ok(pulled)
}

#[cfg(test)]
mod tests;
