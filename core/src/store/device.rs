//! The device's identity and counters, persisted in one row: its id (made at creation), its
//! hybrid logical clock, the next outbox sequence number and the head of its audit chain.
//!
//! A local write (`record_visit` and every other capture) does not save the row — one
//! encrypted page fewer per write. Its outbox entry carries what it advanced instead: the
//! sequence number, the version (the clock) and the audit chain's new head (`audit_seq`,
//! `audit_head`). [`DeviceState::load`] takes in the newest entry. The head never comes from
//! the audit table itself, so removing the newest events is still detected (and new events
//! do not chain over the gap). Saving the row clears the entries' copies of the head, and
//! every path that drops or renumbers outbox entries loads and saves the row first.

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

use pocketbook_protocol::{Clock, Hlc, Version};

use crate::error::{Error, Result};

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::GENESIS_HASH;

/// The device row with what local writes have advanced since it was saved, loaded inside a
/// transaction.
#[derive(Debug, Clone)]
pub(crate) struct DeviceState {
    pub device_id: Uuid,
    pub device_name: String,
    pub clock: Clock,
    pub next_seq: u64,
    pub audit_seq: u64,
    pub audit_head: String,
    /// Added to the wall clock before stamping (set when the server reports clock skew).
    pub clock_offset_ms: i64,
}

/// Makes the device row on a new store: a fresh UUIDv7 device id and a zero clock.
pub(crate) fn ensure(
    conn: &mut Connection,
    device_name: &str,
    sources: &dyn Sources,
) -> Result<()> {
    let exists: Option<i64> = conn
        .query_row("SELECT id FROM device WHERE id = 1", [], |r| r.get(0))
        .optional()?;
    if exists.is_none() {
        conn.prepare_cached(
            "INSERT INTO device (id, device_id, device_name, created_at, clock_millis,
                                 clock_counter, next_seq, audit_seq, audit_head)
             VALUES (1, ?1, ?2, ?3, 0, 0, 1, 0, ?4)",
        )?
        .execute(params![
            sources.new_id().to_string(),
            device_name,
            sources.now().to_rfc3339(),
            GENESIS_HASH
        ])?;
    }
    Ok(())
}

impl DeviceState {
    /// Reads the device row.
    pub(crate) fn load(conn: &Connection) -> Result<Self> {
        let row = conn
            .prepare_cached(
                "SELECT device_id, device_name, clock_millis, clock_counter, next_seq, audit_seq,
                    audit_head, clock_offset_ms FROM device WHERE id = 1",
            )?
            .query_row([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            })?;
        let (id, device_name, millis, counter, next_seq, audit_seq, audit_head, offset) = row;
        let device_id = Uuid::parse_str(&id).map_err(|_| Error::Corrupt { what: "device id" })?;
        let corrupt = |_| Error::Corrupt {
            what: "device counters",
        };
        let mut state = DeviceState {
            device_id,
            device_name,
            clock: Clock::new(
                device_id,
                Hlc {
                    millis: u64::try_from(millis).map_err(corrupt)?,
                    counter: u32::try_from(counter).map_err(corrupt)?,
                },
            ),
            next_seq: u64::try_from(next_seq).map_err(corrupt)?,
            audit_seq: u64::try_from(audit_seq).map_err(corrupt)?,
            audit_head,
            clock_offset_ms: offset,
        };
        state.catch_up(conn)?;
        Ok(state)
    }

    /// Takes in what local writes since the row was saved advanced, from the newest outbox
    /// entry: its sequence number, its version and (if a capture wrote it) the audit head.
    fn catch_up(&mut self, conn: &Connection) -> Result<()> {
        let corrupt = |_| Error::Corrupt {
            what: "device counters",
        };
        let newest: Option<(i64, String, Option<i64>, Option<String>)> = conn
            .prepare_cached(
                "SELECT seq, version, audit_seq, audit_head FROM outbox ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((seq, version, audit_seq, audit_head)) = newest else {
            return Ok(());
        };
        let seq = u64::try_from(seq).map_err(corrupt)?;
        self.next_seq = self.next_seq.max(seq.saturating_add(1));
        let version: Version = version.parse().map_err(|_| Error::Corrupt {
            what: "outbox version",
        })?;
        self.clock.merge(version.hlc);
        if let (Some(audit_seq), Some(audit_head)) = (audit_seq, audit_head) {
            let audit_seq = u64::try_from(audit_seq).map_err(corrupt)?;
            if audit_seq > self.audit_seq {
                self.audit_seq = audit_seq;
                self.audit_head = audit_head;
            }
        }
        Ok(())
    }

    /// The corrected time: the wall clock plus the offset the server taught this device.
    pub(crate) fn corrected_ms(&self, now: chrono::DateTime<Utc>) -> u64 {
        u64::try_from(now.timestamp_millis().saturating_add(self.clock_offset_ms)).unwrap_or(0)
    }

    /// Stamps a local change with the next clock reading.
    pub(crate) fn tick(&mut self, now: chrono::DateTime<Utc>) -> Result<Version> {
        Ok(self.clock.tick(self.corrected_ms(now))?)
    }

    /// Stamps an edit strictly above every version it is based on. A base can lie beyond the
    /// clock (pulled past the ceiling, or the clock pulled back after `clock_skew`): the clock
    /// then takes the base in first, so a field's version never goes down.
    pub(crate) fn tick_above(
        &mut self,
        now: chrono::DateTime<Utc>,
        bases: impl IntoIterator<Item = Version>,
    ) -> Result<Version> {
        if let Some(highest) = bases.into_iter().max() {
            self.clock.merge(highest.hlc);
        }
        self.tick(now)
    }

    /// Writes the row back (inside the caller's transaction) and marks the outbox entries'
    /// copies of the counters as taken in (`audit_seq` cleared: the row holds them now;
    /// `audit_head` stays, the hash of the event an entry holds). A local write need not save;
    /// anything that drops or renumbers outbox entries must, before it does.
    pub(crate) fn save(&self, conn: &Connection) -> Result<()> {
        let last = self.clock.last();
        conn.prepare_cached(
            "UPDATE device SET clock_millis = ?1, clock_counter = ?2, next_seq = ?3,
                               audit_seq = ?4, audit_head = ?5, clock_offset_ms = ?6
             WHERE id = 1",
        )?
        .execute(params![
            last.millis,
            last.counter,
            self.next_seq,
            self.audit_seq,
            self.audit_head,
            self.clock_offset_ms
        ])?;
        conn.prepare_cached("UPDATE outbox SET audit_seq = NULL WHERE audit_seq IS NOT NULL")?
            .execute([])?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "device_tests.rs"]
mod tests;
