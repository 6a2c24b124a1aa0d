//! Small reads and writes every store operation shares, written once over [`Db`]: server
//! metadata, the server audit log, officers, teams and the reference data a device is given.

use std::collections::BTreeSet;

use chrono::Utc;
use pocketbook_protocol::{Establishment, Officer, Provisioning, Team};
use serde_json::Value;
use uuid::Uuid;

use super::sql::{args, Db};
use crate::error::StoreError;
use crate::scope;

/// Maps a JSON decoding failure of stored data to [`StoreError::Corrupt`].
pub fn corrupt(what: &'static str) -> impl Fn(serde_json::Error) -> StoreError {
    move |_| StoreError::Corrupt(what)
}

/// Parses a stored id.
pub fn parse_id(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt("id"))
}

/// Now, as stored in text columns.
pub fn now_text() -> String {
    Utc::now().to_rfc3339()
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A value of the `meta` table.
pub fn meta(db: &mut dyn Db, key: &str) -> Result<String, StoreError> {
    db.query_one("SELECT value FROM meta WHERE key = ?1", args![key])?
        .text(0)
}

/// Appends to the server audit log.
pub fn audit(
    db: &mut dyn Db,
    operation: &str,
    officer: Option<Uuid>,
    device: Option<Uuid>,
    detail: Value,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO audit (at, operation, officer_id, device_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        args![
            now_text(),
            operation,
            officer.map(|o| o.to_string()),
            device.map(|d| d.to_string()),
            detail.to_string()
        ],
    )?;
    Ok(())
}

/// One officer.
pub fn officer(db: &mut dyn Db, id: Uuid) -> Result<Option<Officer>, StoreError> {
    db.query_opt(
        "SELECT data FROM officers WHERE id = ?1",
        args![id.to_string()],
    )?
    .map(|row| serde_json::from_str(&row.text(0)?).map_err(corrupt("officer")))
    .transpose()
}

/// Every row of a one-column query of JSON documents, decoded.
pub fn all_json<T: serde::de::DeserializeOwned>(
    db: &mut dyn Db,
    sql: &'static str,
    what: &'static str,
) -> Result<Vec<T>, StoreError> {
    db.query(sql, &[])?
        .iter()
        .map(|row| serde_json::from_str(&row.text(0)?).map_err(corrupt(what)))
        .collect()
}

/// Every team, by name.
pub fn teams(db: &mut dyn Db) -> Result<Vec<Team>, StoreError> {
    db.query("SELECT id, name FROM teams ORDER BY name", &[])?
        .iter()
        .map(|row| {
            Ok(Team {
                id: parse_id(&row.text(0)?)?,
                name: row.text(1)?,
            })
        })
        .collect()
}

/// Every team id, by team name.
pub fn team_ids(db: &mut dyn Db) -> Result<Vec<Uuid>, StoreError> {
    Ok(teams(db)?.into_iter().map(|t| t.id).collect())
}

/// The reference data an officer's device holds: their teams, those teams' officers and the
/// open establishments.
pub fn provisioning_for(db: &mut dyn Db, me: &Officer) -> Result<Provisioning, StoreError> {
    let all_teams = teams(db)?;
    let visible: BTreeSet<Uuid> = if scope::force_wide(me.role) {
        all_teams.iter().map(|t| t.id).collect()
    } else {
        me.team_ids.iter().copied().collect()
    };
    let officers: Vec<Officer> = all_json::<Officer>(db, "SELECT data FROM officers", "officer")?
        .into_iter()
        .filter(|o| o.team_ids.iter().any(|t| visible.contains(t)))
        .map(|mut o| {
            o.team_ids.retain(|t| visible.contains(t));
            o
        })
        .collect();
    let mut establishments: Vec<Establishment> = all_json(
        db,
        "SELECT data FROM establishments ORDER BY urn",
        "establishment",
    )?;
    establishments.retain(|e| !e.closed);
    Ok(Provisioning {
        officer: me.clone(),
        teams: all_teams
            .into_iter()
            .filter(|t| visible.contains(&t.id))
            .collect(),
        officers,
        establishments,
    })
}
