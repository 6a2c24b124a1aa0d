//! The lease on the device (issue 11, item 4): when it has lapsed, and what a lapsed device may
//! still show. A lease lapses when the device has not synced within it (the later of the wall
//! clock and the device clock's last reading decides, so setting the phone's clock back does
//! not help) or when the server answered `401 lease_expired`; only re-enrolment
//! (`reauthenticate`) ends a lapse. While lapsed, reference data and the records this officer
//! created on this device since the lapse stay readable and editable; every older record, the
//! outbox, conflicts and chronologies answer `LeaseExpired`. Pure decisions over values the
//! store gives; does no IO itself.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::model::{Record, RecordMeta};
use crate::store;

/// A lapsed lease: since when, and whose session it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lapse {
    /// The instant the lease lapsed.
    pub since: DateTime<Utc>,
    /// The officer of the device's session.
    pub officer: Uuid,
}

impl Lapse {
    /// Whether a record with `meta` may be shown or edited while lapsed: only one this
    /// officer created since the lapse. A lapsed device pulls nothing, so every such record
    /// it holds was made on it.
    pub(crate) fn allows(&self, meta: &RecordMeta) -> bool {
        meta.created_by == self.officer && meta.created_at >= self.since
    }

    /// `Ok` for a record [`Lapse::allows`], else [`Error::LeaseExpired`].
    pub(crate) fn check<T: Record>(&self, record: &T) -> Result<()> {
        if self.allows(record.meta()) {
            Ok(())
        } else {
            Err(Error::LeaseExpired)
        }
    }
}

/// When the lease lapsed, given the lease's end by the device's reckoning, the server's word
/// (if it said so) and the time as the device sees it: the earlier of the two that apply.
pub(crate) fn lapsed_since(
    lease_expires_at: DateTime<Utc>,
    server_said: Option<DateTime<Utc>>,
    seen_now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let by_clock = (seen_now > lease_expires_at).then_some(lease_expires_at);
    match (by_clock, server_said) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The device's lapse, if its lease has lapsed at `now` (never for a device not enrolled).
pub(crate) fn lapse(conn: &Connection, now: DateTime<Utc>) -> Result<Option<Lapse>> {
    let device = store::DeviceState::load(conn)?;
    let officer = || Ok(store::session_officer(conn)?.ok_or(Error::NotEnrolled)?.id);
    lapse_of(conn, now, &device, officer)
}

/// [`lapse`] for a write that has already read the device row and the session's officer
/// (`officer` is asked only if the lease has lapsed).
pub(crate) fn lapse_of(
    conn: &Connection,
    now: DateTime<Utc>,
    device: &store::DeviceState,
    officer: impl FnOnce() -> Result<Uuid>,
) -> Result<Option<Lapse>> {
    let Some(enrolled) = store::enrolled(conn)? else {
        return Ok(None);
    };
    let clock = DateTime::<Utc>::from_timestamp_millis(
        i64::try_from(device.clock.last().millis).unwrap_or(i64::MAX),
    )
    .unwrap_or_default();
    let Some(since) = lapsed_since(
        enrolled.lease_expires_at(),
        enrolled.lapsed_at,
        now.max(clock),
    ) else {
        return Ok(None);
    };
    Ok(Some(Lapse {
        since,
        officer: officer()?,
    }))
}

/// `Ok` while no lease has lapsed, else [`Error::LeaseExpired`]: for what a lapsed device
/// shows nothing of (outbox, conflicts, chronologies).
pub(crate) fn refuse_if_lapsed(lapse: Option<Lapse>) -> Result<()> {
    match lapse {
        Some(_) => Err(Error::LeaseExpired),
        None => Ok(()),
    }
}

/// `Ok` for a record a device may show: any while the lease holds, only its own new ones
/// while lapsed.
pub(crate) fn check<T: Record>(lapse: Option<Lapse>, record: &T) -> Result<()> {
    lapse.map_or(Ok(()), |l| l.check(record))
}

/// Keeps only the records a device may show (all of them while the lease holds).
pub(crate) fn filter<T: Record>(lapse: Option<Lapse>, records: Vec<T>) -> Vec<T> {
    match lapse {
        None => records,
        Some(l) => records.into_iter().filter(|r| l.allows(r.meta())).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use pocketbook_protocol::Marking;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn meta(created_by: Uuid, created_at: DateTime<Utc>) -> RecordMeta {
        RecordMeta {
            team_id: Uuid::nil(),
            created_by,
            created_at,
            marking: Marking::Official,
            review_due: created_at.date_naive(),
        }
    }

    #[test]
    fn a_lease_lapses_at_its_end_or_when_the_server_says_so_whichever_is_earlier() {
        assert_eq!(lapsed_since(at(10), None, at(5)), None);
        assert_eq!(lapsed_since(at(10), None, at(11)), Some(at(10)));
        assert_eq!(lapsed_since(at(10), Some(at(3)), at(5)), Some(at(3)));
        assert_eq!(lapsed_since(at(10), Some(at(12)), at(20)), Some(at(10)));
    }

    #[test]
    fn only_the_officers_own_records_made_since_the_lapse_are_shown() {
        let me = Uuid::from_u128(1);
        let lapse = Lapse {
            since: at(10),
            officer: me,
        };
        assert!(lapse.allows(&meta(me, at(10))));
        assert!(lapse.allows(&meta(me, at(11))));
        assert!(!lapse.allows(&meta(me, at(9))), "older record");
        assert!(
            !lapse.allows(&meta(Uuid::from_u128(2), at(11))),
            "a colleague's record"
        );
    }
}
