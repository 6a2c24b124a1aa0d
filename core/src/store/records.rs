//! Change capture (DESIGN §4): a record write stores the record with a version per field and
//! one outbox entry holding its audit event, in the caller's transaction. Also the generic reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use uuid::Uuid;

use pocketbook_protocol::merge::{self, FieldRule, DELETED_FIELD, TOMBSTONE_FIELDS};
use pocketbook_protocol::{Entity, Marking, Mutation, MutationKind, SetDelta, Version};

use super::audit::{op_name, stamp, time_text, AuditDraft};
use super::device::DeviceState;
use super::fields_text::{fields_text, FieldsText};
use crate::error::{Error, Result};
use crate::model::{AuditEvent, AuditOperation, Record};

/// A record as stored: its value and the version of each field.
#[derive(Debug, Clone)]
pub(crate) struct Stored<T> {
    pub record: T,
    pub versions: BTreeMap<String, Version>,
    /// The record's fields as stored, including any this build does not know.
    pub raw: Map<String, Value>,
}

/// The write to capture.
pub(crate) enum WriteKind<'a, T> {
    /// A new record.
    Create(&'a T),
    /// A changed record: the stored state before, and the new value.
    Update(&'a Stored<T>, &'a T),
    /// A tombstone for the stored record.
    Delete(&'a Stored<T>),
}

/// A record's fields as a JSON object, without its id (which is the key).
fn fields_of<T: Record>(record: &T) -> Result<Map<String, Value>> {
    match serde_json::to_value(record) {
        Ok(Value::Object(mut map)) => {
            map.remove("id");
            Ok(map)
        }
        _ => Err(Error::Corrupt { what: "record" }),
    }
}

fn to_text<S: serde::Serialize>(value: &S, what: &'static str) -> Result<String> {
    serde_json::to_string(value).map_err(|_| Error::Corrupt { what })
}

/// Captures one mutation: record row, field versions, one outbox entry with its audit event.
/// Returns `false` (and writes nothing) when an update changes no field.
pub(crate) fn capture<T: Record>(
    conn: &Connection,
    device: &mut DeviceState,
    officer_id: Uuid,
    now: DateTime<Utc>,
    write: WriteKind<'_, T>,
    reason: Option<&str>,
) -> Result<bool> {
    let (record_id, meta) = match &write {
        WriteKind::Create(r) | WriteKind::Update(_, r) => (r.id(), r.meta().clone()),
        WriteKind::Delete(s) => (s.record.id(), s.record.meta().clone()),
    };
    let mut versions = match &write {
        WriteKind::Create(_) => BTreeMap::new(),
        WriteKind::Update(old, _) | WriteKind::Delete(old) => old.versions.clone(),
    };
    // An update is laid over the stored raw fields, so what this build does not know stays.
    let mut updated: Option<Map<String, Value>> = None;
    // A creation's fields go to its row as text, written in one pass; its outbox entry points
    // at the row (`EntryFields::InRecord`), so they are not also made a map.
    let mut created: Option<FieldsText> = None;
    let changed: Map<String, Value> = match &write {
        WriteKind::Create(r) => {
            created = Some(fields_text(*r).map_err(|_| Error::Corrupt { what: "record" })?);
            Map::new()
        }
        WriteKind::Update(old, new) => {
            let before = fields_of(&old.record)?;
            let full = super::overlay::overlay(&T::ENTITY, &old.raw, &before, fields_of(*new)?);
            let changed = full
                .iter()
                .filter(|(k, v)| old.raw.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            updated = Some(full);
            changed
        }
        WriteKind::Delete(_) => Map::from_iter([(DELETED_FIELD.to_string(), Value::Bool(true))]),
    };
    if let WriteKind::Delete(_) = &write {
        // A tombstone keeps only the versions of what it keeps (as the server's does).
        versions.retain(|k, _| TOMBSTONE_FIELDS.contains(&k.as_str()));
    }
    let names: Vec<&str> = match &created {
        Some(created) => created.names.iter().map(String::as_str).collect(),
        None => changed.keys().map(String::as_str).collect(),
    };
    if names.is_empty() {
        return Ok(false);
    }
    // What a refusal of this edit would fall back to.
    match &write {
        WriteKind::Create(_) => {
            conn.prepare_cached("DELETE FROM acknowledged WHERE id = ?1")?
                .execute([record_id.to_string()])?;
        }
        WriteKind::Update(..) | WriteKind::Delete(_) => {
            super::refused::note_before_edit(conn, record_id)?;
        }
    }
    // A field that had no version (every field of a create) is left out of `base`.
    let base: BTreeMap<String, Option<Version>> = names
        .iter()
        .filter_map(|k| versions.get(*k).map(|v| ((*k).to_string(), Some(*v))))
        .collect();
    let version = device.tick_above(now, base.values().flatten().copied())?;
    let (kind, operation) = match &write {
        WriteKind::Create(_) => (MutationKind::Create, AuditOperation::Collect),
        WriteKind::Update(..) => (MutationKind::Update, AuditOperation::Alter),
        WriteKind::Delete(_) => (MutationKind::Delete, AuditOperation::Erase),
    };
    let versions_text = if created.is_some() {
        // Every field of a new record has this write's version.
        super::versions::encode_all_at(names.iter().copied(), version)?
    } else {
        for key in &names {
            versions.insert((*key).to_string(), version);
        }
        super::versions::encode(&versions)?
    };
    match &write {
        WriteKind::Create(r) => {
            let created = created.as_ref().ok_or(Error::Corrupt { what: "record" })?;
            conn.prepare_cached(
                "INSERT INTO records (id, entity, team_id, marking, happened_at, deleted, data,
                                      versions, pending_creation)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7, 1)",
            )?
            .execute(params![
                record_id.to_string(),
                T::ENTITY.as_str(),
                meta.team_id.to_string(),
                meta.marking.as_str(),
                time_text(r.happened_at()),
                created.text,
                versions_text
            ])?;
            // No chronology link yet (one page fewer): the outbox entry below stands for it
            // until it goes, when a trigger writes the links (schema migrations 18 and 20).
            // The row is marked as what its creation's entry points at (migration 22).
        }
        WriteKind::Update(old, new) => {
            let relinked =
                T::ENTITY != Entity::YoungPerson && old.record.young_people() != new.young_people();
            if relinked {
                unlink_people(conn, record_id)?;
            }
            conn.prepare_cached(
                "UPDATE records SET team_id = ?2, marking = ?3, happened_at = ?4, data = ?5,
                                    versions = ?6 WHERE id = ?1",
            )?
            .execute(params![
                record_id.to_string(),
                meta.team_id.to_string(),
                meta.marking.as_str(),
                time_text(new.happened_at()),
                to_text(
                    &updated.as_ref().ok_or(Error::Corrupt { what: "record" })?,
                    "record"
                )?,
                versions_text
            ])?;
            if relinked {
                link_people(conn, record_id, &new.young_people())?;
            }
        }
        WriteKind::Delete(_) => {
            // The tombstone keeps only what routes it (team, marking, times); the content is
            // erased, and secure_delete overwrites the freed bytes.
            let tombstone =
                serde_json::to_value(&meta).map_err(|_| Error::Corrupt { what: "record" })?;
            unlink_people(conn, record_id)?;
            conn.prepare_cached(
                "UPDATE records SET deleted = 1, data = ?2, versions = ?3 WHERE id = ?1",
            )?
            .execute(params![
                record_id.to_string(),
                to_text(&tombstone, "record")?,
                versions_text
            ])?;
        }
    }
    let sets = match &write {
        WriteKind::Update(old, _) => set_deltas(&T::ENTITY, &old.raw, &changed),
        _ => BTreeMap::new(),
    };
    let mutation = Mutation {
        reason: reason.map(str::to_string),
        seq: device.next_seq,
        entity: T::ENTITY,
        record_id,
        kind,
        team_id: meta.team_id,
        marking: meta.marking,
        // A creation's are in its row, which its entry points at: none here.
        fields: changed.into_iter().collect(),
        base,
        sets,
        version,
        versions: None,
        conflicts: None,
    };
    let event = stamp(
        device,
        AuditDraft {
            operation,
            officer_id,
            entity: Some(T::ENTITY),
            record_id: Some(record_id),
            justification: None,
            recipient: None,
        },
        now,
    );
    // One row for the mutation and its audit event, which moves to `audit_events` when the
    // entry goes. The device row is not saved either: the entry carries the counters and the
    // audit chain's new head, which `DeviceState::load` takes in.
    // A creation's fields are the row just written: the entry points at it (migration 21).
    let fields = match &write {
        WriteKind::Create(_) => EntryFields::InRecord,
        WriteKind::Update(..) | WriteKind::Delete(_) => EntryFields::InEntry,
    };
    insert_outbox(conn, &mutation, Some(&event), fields)?;
    device.next_seq += 1;
    Ok(true)
}

/// For each changed set field, what the edit added and removed.
fn set_deltas(
    entity: &Entity,
    before: &Map<String, Value>,
    changed: &Map<String, Value>,
) -> BTreeMap<String, SetDelta> {
    changed
        .iter()
        .filter(|(field, _)| merge::rule(entity, field) == FieldRule::AddWinsSet)
        .filter_map(|(field, new)| {
            Some((field.clone(), SetDelta::between(before.get(field)?, new)?))
        })
        .collect()
}

/// Links `record_id` into the chronologies of `people` (kept if already there).
pub(crate) fn link_people(conn: &Connection, record_id: Uuid, people: &[Uuid]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO record_people (young_person_id, record_id) VALUES (?1, ?2)",
    )?;
    for person in people {
        stmt.execute(params![person.to_string(), record_id.to_string()])?;
    }
    Ok(())
}

/// Removes the chronology links of `record_id`: those its stored row names, so this must run
/// before the row is overwritten or deleted (and any a bulk load staged). A record's links are
/// the young people its stored data names (written from it, removed from it) — or, for a
/// record created here whose outbox entry has not gone yet, none until it goes — so
/// `record_people` needs no index by record: one page fewer on every write and every pulled
/// record. A list by young person checks each record it returns against its decoded young
/// people besides.
pub(crate) fn unlink_people(conn: &Connection, record_id: Uuid) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM record_people WHERE record_id = ?1 AND young_person_id IN (
             SELECT young_person_id FROM record_named_people WHERE record_id = ?1)",
    )?
    .execute([record_id.to_string()])?;
    super::bulk_load::unstage_links(conn, record_id)
}

/// Where an outbox entry's fields are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryFields {
    /// In the entry.
    InEntry,
    /// In the record's row, which the caller has just written with exactly these fields and
    /// marked `pending_creation` (a creation): the entry holds `''` until the row's data
    /// changes or the row goes, when a trigger copies the data into it (schema migrations 21
    /// and 22).
    InRecord,
}

/// The value of `outbox.fields` that means "the record's row holds them".
const FIELDS_IN_RECORD: &str = "";

/// Adds `m` to the outbox; `event`, a local write's audit event, is held in the same row (and
/// is the chain's new head) until the entry goes. The row keeps the event's entity and record
/// once, as the entry's: it must be about `m`'s record.
pub(crate) fn insert_outbox(
    conn: &Connection,
    m: &Mutation,
    event: Option<&AuditEvent>,
    fields: EntryFields,
) -> Result<()> {
    if event
        .is_some_and(|e| e.record_id != Some(m.record_id) || e.entity.as_ref() != Some(&m.entity))
    {
        return Err(Error::Corrupt {
            what: "audit event of another record",
        });
    }
    let kind = match m.kind {
        MutationKind::Create => "create",
        MutationKind::Update => "update",
        MutationKind::Delete => "delete",
        MutationKind::Restore => "restore",
    };
    conn.prepare_cached(
        "INSERT INTO outbox (seq, entity, record_id, kind, team_id, marking, fields, base,
                             sets, version, reason, audit_seq, audit_head, event_seq,
                             event_operation, event_officer_id, event_device_id, event_at,
                             event_prev_hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?12, ?14, ?15, ?16,
                 ?17, ?18)",
    )?
    .execute(params![
        m.seq,
        m.entity.as_str(),
        m.record_id.to_string(),
        kind,
        m.team_id.to_string(),
        m.marking.as_str(),
        match fields {
            EntryFields::InEntry => to_text(&m.fields, "outbox fields")?,
            EntryFields::InRecord => FIELDS_IN_RECORD.to_string(),
        },
        to_text(&m.base, "outbox base")?,
        to_text(&m.sets, "outbox set changes")?,
        m.version.to_string(),
        m.reason,
        event.map(|e| e.seq),
        event.map(|e| e.hash.as_str()),
        event.map(|e| op_name(e.operation)),
        event.map(|e| e.officer_id.to_string()),
        event.map(|e| e.device_id.to_string()),
        event.map(|e| time_text(e.at)),
        event.map(|e| e.prev_hash.as_str()),
    ])?;
    Ok(())
}

/// The outbox, oldest first: the mutations not yet acknowledged by the server.
pub(crate) fn outbox(conn: &Connection) -> Result<Vec<Mutation>> {
    let mut stmt = conn.prepare(
        "SELECT o.seq, o.entity, o.record_id, o.kind, o.team_id, o.marking,
                CASE WHEN o.fields = ?1 THEN r.data ELSE o.fields END, o.base, o.version,
                o.sets, o.reason
         FROM outbox o LEFT JOIN records r ON o.fields = ?1 AND r.id = o.record_id
         ORDER BY o.seq",
    )?;
    let rows = stmt.query_map([FIELDS_IN_RECORD], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            // None: the entry points at a row that is not there (the triggers make it so
            // only on a damaged file).
            r.get::<_, Option<String>>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, String>(8)?,
            r.get::<_, String>(9)?,
            r.get::<_, Option<String>>(10)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, entity, id, kind, team, marking, fields, base, version, sets, reason) = row?;
        let corrupt = || Error::Corrupt {
            what: "outbox entry",
        };
        out.push(Mutation {
            reason,
            seq: u64::try_from(seq).map_err(|_| corrupt())?,
            entity: entity.parse().map_err(|_| corrupt())?,
            record_id: Uuid::parse_str(&id).map_err(|_| corrupt())?,
            kind: match kind.as_str() {
                "create" => MutationKind::Create,
                "update" => MutationKind::Update,
                "delete" => MutationKind::Delete,
                "restore" => MutationKind::Restore,
                _ => return Err(corrupt()),
            },
            team_id: Uuid::parse_str(&team).map_err(|_| corrupt())?,
            marking: marking.parse::<Marking>().map_err(|_| corrupt())?,
            fields: serde_json::from_str(&fields.ok_or_else(corrupt)?).map_err(|_| corrupt())?,
            base: serde_json::from_str(&base).map_err(|_| corrupt())?,
            sets: serde_json::from_str(&sets).map_err(|_| corrupt())?,
            version: version.parse().map_err(|_| corrupt())?,
            versions: None,
            conflicts: None,
        });
    }
    Ok(out)
}

fn decode<T: Record>(id: &str, data: &str) -> Result<T> {
    let map: Map<String, Value> =
        serde_json::from_str(data).map_err(|_| Error::Corrupt { what: "record" })?;
    decode_fields(id, map)
}

pub(crate) fn decode_fields<T: Record>(id: &str, mut map: Map<String, Value>) -> Result<T> {
    map.insert("id".to_string(), Value::String(id.to_string()));
    serde_json::from_value(Value::Object(map)).map_err(|_| Error::Corrupt { what: "record" })
}

/// A live (not deleted) record with its field versions, or `None`.
pub(crate) fn load<T: Record>(conn: &Connection, id: Uuid) -> Result<Option<Stored<T>>> {
    let row: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT data, versions FROM records WHERE id = ?1 AND entity = ?2 AND deleted = 0",
        )?
        .query_row(params![id.to_string(), T::ENTITY.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((data, versions)) = row else {
        return Ok(None);
    };
    let fields: Map<String, Value> =
        serde_json::from_str(&data).map_err(|_| Error::Corrupt { what: "record" })?;
    Ok(Some(Stored {
        versions: super::versions::decode(&versions, fields.keys())?,
        record: decode_fields(&id.to_string(), fields.clone())?,
        raw: fields,
    }))
}

/// A live record, or `NotFound`.
pub(crate) fn get<T: Record>(conn: &Connection, id: Uuid) -> Result<Stored<T>> {
    load(conn, id)?.ok_or(Error::NotFound {
        entity: T::ENTITY,
        id,
    })
}

/// Whether a live record of this entity exists.
pub(crate) fn exists(conn: &Connection, entity: Entity, id: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM records WHERE id = ?1 AND entity = ?2 AND deleted = 0")?
        .query_row(params![id.to_string(), entity.as_str()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Which live records of one entity to list: all, or one young person's, and optionally only
/// those that happened in `[since, until)`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Scope {
    pub person: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

impl Scope {
    /// One young person's records.
    pub(crate) fn person(person: Option<Uuid>) -> Self {
        Scope {
            person,
            ..Scope::default()
        }
    }
}

/// SQL for the text of the UUID whose 16 bytes `$bytes` names (lower case, hyphenated).
macro_rules! uuid_text {
    ($bytes:literal) => {
        concat!(
            "lower(substr(hex(",
            $bytes,
            "), 1, 8) || '-' || substr(hex(",
            $bytes,
            "), 9, 4)",
            " || '-' || substr(hex(",
            $bytes,
            "), 13, 4) || '-' || substr(hex(",
            $bytes,
            "), 17, 4) || '-' || substr(hex(",
            $bytes,
            "), 21))"
        )
    };
}

/// The live records of one entity (?1) from ?2 to before ?3 (microseconds; ?4 is NULL), most
/// recent first: through the table of records by kind and time, in its order, each record
/// joined by its id (held there as 16 bytes, written back as the UUID's text).
pub(super) const LIST_BY_TIME: &str = concat!(
    "SELECT r.id, r.data FROM records_by_time t CROSS JOIN records r ON r.id = ",
    uuid_text!("t.id"),
    " WHERE t.entity = ?1 AND t.happened_at >= ?2 AND t.happened_at < ?3
        AND ?4 IS NULL AND r.deleted = 0
      ORDER BY t.happened_at DESC, t.id DESC"
);

/// The same during a bulk load: with the entries it has staged.
const LIST_BY_TIME_LOADING: &str = concat!(
    "SELECT r.id, r.data FROM
         (SELECT happened_at, id FROM records_by_time
          WHERE entity = ?1 AND happened_at >= ?2 AND happened_at < ?3
          UNION ALL
          SELECT happened_at, id FROM records_by_time_staged
          WHERE entity = ?1 AND happened_at >= ?2 AND happened_at < ?3) t
     CROSS JOIN records r ON r.id = ",
    uuid_text!("t.id"),
    " WHERE ?4 IS NULL AND r.deleted = 0
      ORDER BY t.happened_at DESC, t.id DESC"
);

/// The live records of one entity in `scope`, most recent first.
pub(crate) fn list<T: Record>(conn: &Connection, scope: Scope) -> Result<Vec<T>> {
    use rusqlite::types::Value as SqlValue;
    // The table of records by kind and time holds microseconds; the records, text times,
    // fixed-width RFC 3339, which compare like the instants they name.
    let micros = |at: Option<DateTime<Utc>>, or: i64| {
        SqlValue::Integer(at.map_or(or, |t| t.timestamp_micros()))
    };
    let text = |at: Option<DateTime<Utc>>, or: &str| {
        SqlValue::Text(at.map_or_else(|| or.to_string(), time_text))
    };
    let by_time = (micros(scope.since, i64::MIN), micros(scope.until, i64::MAX));
    let (sql, (since, until), person) = match scope.person {
        // Through the table of records by kind and time (the records join it, newest first).
        None if !super::bulk_load::loading(conn)? => (LIST_BY_TIME, by_time, None),
        // During a bulk load, with the entries it has staged.
        None => (LIST_BY_TIME_LOADING, by_time, None),
        // The person's links, with any a bulk load under way has staged and the records
        // created here whose outbox entry still stands for their links and whose row names
        // the person; the links drive the join (CROSS JOIN keeps them the outer loop).
        Some(person) => (
            "SELECT r.id, r.data FROM
                 (SELECT record_id FROM record_people WHERE young_person_id = ?4
                  UNION
                  SELECT record_id FROM record_people_staged WHERE young_person_id = ?4
                  UNION
                  SELECT o.record_id FROM outbox o
                  WHERE o.kind = 'create' AND o.entity = ?1
                    AND EXISTS (SELECT 1 FROM record_named_people n
                                WHERE n.record_id = o.record_id AND n.young_person_id = ?4)) p
             CROSS JOIN records r ON r.id = p.record_id
             WHERE r.entity = ?1 AND r.deleted = 0 AND r.happened_at >= ?2
               AND r.happened_at < ?3
             ORDER BY r.happened_at DESC, r.id DESC",
            (text(scope.since, ""), text(scope.until, "9")),
            Some(person.to_string()),
        ),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params![T::ENTITY.as_str(), since, until, person])?;
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let data: String = r.get(1)?;
        // One row that does not decode never fails the list: it is set aside and flagged.
        match decode::<T>(&id, &data) {
            // A chronology holds only records that name the young person now.
            Ok(record)
                if scope
                    .person
                    .is_some_and(|p| !record.young_people().contains(&p)) => {}
            Ok(record) => out.push(record),
            Err(_) => unreadable.push(id),
        }
    }
    drop(rows);
    super::unreadable::set_aside(conn, &unreadable)?;
    Ok(out)
}

/// The field versions of a record of `entity`, tombstones included.
pub(crate) fn versions_of(
    conn: &Connection,
    entity: Entity,
    id: Uuid,
) -> Result<BTreeMap<String, Version>> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT data, versions FROM records WHERE id = ?1 AND entity = ?2")?
        .query_row(params![id.to_string(), entity.as_str()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let (data, versions) = row.ok_or(Error::NotFound { entity, id })?;
    let fields: Map<String, Value> =
        serde_json::from_str(&data).map_err(|_| Error::Corrupt { what: "record" })?;
    super::versions::decode(&versions, fields.keys())
}

#[cfg(test)]
#[path = "records_tests.rs"]
mod tests;
