//! Identity and reference data on the device: who the officer is, their teams, colleagues and
//! establishments. Before enrolment they come from a provisioning file in the shape the server
//! sends at enrolment; loading one replaces the reference data in one transaction.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use pocketbook_protocol::Officer;
pub use pocketbook_protocol::Provisioning;
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Error, Result};

fn put<T: Serialize>(conn: &Connection, kind: &str, id: Uuid, value: &T) -> Result<()> {
    let data = serde_json::to_string(value).map_err(|_| Error::Corrupt { what: "reference" })?;
    conn.prepare_cached("INSERT INTO reference (kind, id, data) VALUES (?1, ?2, ?3)")?
        .execute(params![kind, id.to_string(), data])?;
    Ok(())
}

/// Replaces the session and all reference data (inside the caller's transaction).
pub(crate) fn install(conn: &Connection, p: &Provisioning, now: DateTime<Utc>) -> Result<()> {
    p.validate()?;
    if let Some(current) = officer(conn)? {
        if current.id != p.officer.id {
            return Err(Error::OtherOfficer);
        }
    }
    conn.execute("DELETE FROM reference", [])?;
    for t in &p.teams {
        put(conn, "team", t.id, t)?;
    }
    let mut seen = HashSet::new();
    for o in p.officers.iter().chain([&p.officer]) {
        if seen.insert(o.id) {
            put(conn, "officer", o.id, o)?;
        }
    }
    for e in &p.establishments {
        put(conn, "establishment", e.id, e)?;
    }
    let officer =
        serde_json::to_string(&p.officer).map_err(|_| Error::Corrupt { what: "session" })?;
    conn.prepare_cached(
        "INSERT INTO session (id, officer, provisioned_at) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET officer = excluded.officer,
                                        provisioned_at = excluded.provisioned_at",
    )?
    .execute(params![officer, now.to_rfc3339()])?;
    Ok(())
}

/// The officer of this device's session, if there is one.
pub(crate) fn officer(conn: &Connection) -> Result<Option<Officer>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT officer FROM session WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    text.map(|t| serde_json::from_str(&t).map_err(|_| Error::Corrupt { what: "session" }))
        .transpose()
}

/// All reference items of one kind.
pub(crate) fn all<T: DeserializeOwned>(conn: &Connection, kind: &str) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached("SELECT data FROM reference WHERE kind = ?1")?;
    let rows = stmt.query_map([kind], |r| r.get::<_, String>(0))?;
    rows.map(|row| serde_json::from_str(&row?).map_err(|_| Error::Corrupt { what: "reference" }))
        .collect()
}

/// Whether a reference item exists.
pub(crate) fn known(conn: &Connection, kind: &str, id: Uuid) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM reference WHERE kind = ?1 AND id = ?2")?
        .query_row(params![kind, id.to_string()], |_| Ok(()))
        .optional()?
        .is_some())
}
