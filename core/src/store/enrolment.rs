//! The device's enrolment in the store: the server it belongs to, its token and lease, the
//! certificate authorities it trusts, and when it last synced. Synchronous; runs inside the
//! caller's transaction.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use crate::error::{Error, Result};

/// What the device knows of its enrolment.
#[derive(Debug, Clone)]
pub(crate) struct Enrolled {
    pub server_url: String,
    pub token: String,
    pub server_id: Uuid,
    pub lease_seconds: u64,
    pub enrolled_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub epoch: Option<String>,
    pub audit_acked_seq: u64,
    /// When the server said the lease had lapsed (`401 lease_expired`), until re-enrolment.
    pub lapsed_at: Option<DateTime<Utc>>,
}

impl Enrolled {
    /// When the lease runs out: the last sync (or the enrolment) plus the lease.
    pub(crate) fn lease_expires_at(&self) -> DateTime<Utc> {
        let since = self
            .last_sync_at
            .map_or(self.enrolled_at, |t| t.max(self.enrolled_at));
        since + chrono::Duration::seconds(i64::try_from(self.lease_seconds).unwrap_or(i64::MAX))
    }
}

pub(crate) fn parse_time(text: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::Corrupt { what: "sync state" })
}

/// The enrolment, if the device is enrolled.
pub(crate) fn enrolled(conn: &Connection) -> Result<Option<Enrolled>> {
    let row = conn
        .prepare_cached(
            "SELECT server_url, token, server_id, lease_seconds, enrolled_at, last_sync_at, epoch,
                    audit_acked_seq, lapsed_at FROM sync_state WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })
        .optional()?;
    let Some((server_url, token, server_id, lease, enrolled_at, last_sync, epoch, acked, lapsed)) =
        row
    else {
        return Ok(None);
    };
    Ok(Some(Enrolled {
        server_url,
        token,
        server_id: Uuid::parse_str(&server_id)
            .map_err(|_| Error::Corrupt { what: "sync state" })?,
        lease_seconds: u64::try_from(lease).unwrap_or(0),
        enrolled_at: parse_time(&enrolled_at)?,
        last_sync_at: last_sync.as_deref().map(parse_time).transpose()?,
        epoch,
        audit_acked_seq: u64::try_from(acked).unwrap_or(0),
        lapsed_at: lapsed.as_deref().map(parse_time).transpose()?,
    }))
}

/// Records a (re-)enrolment: a new token for the same device, and a fresh lease (a lapse the
/// server reported is cleared); cursors and outbox are kept.
pub(crate) fn save_enrolment(
    conn: &Connection,
    now: DateTime<Utc>,
    server_url: &str,
    token: &str,
    server_id: Uuid,
    lease_seconds: u64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_state (id, server_url, token, server_id, lease_seconds, enrolled_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url,
             token = excluded.token, server_id = excluded.server_id,
             lease_seconds = excluded.lease_seconds, enrolled_at = excluded.enrolled_at,
             lapsed_at = NULL, forked_from = NULL",
        params![
            server_url,
            token,
            server_id.to_string(),
            lease_seconds,
            now.to_rfc3339()
        ],
    )?;
    Ok(())
}

/// Adds a trusted certificate authority (PEM).
pub(crate) fn trust(conn: &Connection, pem: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO trusted_certificates (pem) VALUES (?1)",
        [pem.trim()],
    )?;
    Ok(())
}

/// The trusted certificate authorities (PEM).
pub(crate) fn trusted(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT pem FROM trusted_certificates ORDER BY pem")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// Notes a finished sync.
pub(crate) fn mark_synced(conn: &Connection, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "UPDATE sync_state SET last_sync_at = ?1 WHERE id = 1",
        [now.to_rfc3339()],
    )?;
    Ok(())
}

/// Notes that the server said the lease has lapsed (`401 lease_expired`) at `now`; an earlier
/// note stands.
pub(crate) fn mark_lapsed(conn: &Connection, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "UPDATE sync_state SET lapsed_at = COALESCE(lapsed_at, ?1) WHERE id = 1",
        [now.to_rfc3339()],
    )?;
    Ok(())
}
