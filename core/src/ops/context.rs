//! The context of one write: the session's officer, the device row and the shared `now`, with
//! the reference checks drafts need. Everything happens inside one transaction.

use chrono::{DateTime, Months, Utc};
use rusqlite::Transaction;
use uuid::Uuid;

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::{Entity, Marking};

use crate::error::{Error, Result, ValidationError};
use crate::lease::{self, Lapse};
use crate::model::{AuditOperation, Officer, Record, RecordMeta};
use crate::store::{self, AuditDraft, DeviceState, Stored, WriteKind};
use crate::{ChangeOrigin, Pocketbook};

/// One write in progress.
pub(crate) struct WriteContext<'a> {
    pub tx: &'a Transaction<'a>,
    pub officer: Officer,
    pub device: DeviceState,
    pub now: DateTime<Utc>,
    /// The lease's lapse, if it has lapsed: only records made since may be touched.
    pub lapse: Option<Lapse>,
    sources: &'a dyn Sources,
    /// Whether this write changed anything an observer shows (a record, a conflict's state);
    /// an audit entry alone (a chronology's Consult) does not count.
    changed: bool,
}

impl<'a> WriteContext<'a> {
    fn begin(tx: &'a Transaction<'a>, sources: &'a dyn Sources) -> Result<Self> {
        let officer = store::session_officer(tx)?.ok_or(Error::NotEnrolled)?;
        let now = sources.now();
        let device = DeviceState::load(tx)?;
        let lapse = lease::lapse_of(tx, now, &device, || Ok(officer.id))?;
        Ok(WriteContext {
            tx,
            officer,
            device,
            lapse,
            now,
            sources,
            changed: false,
        })
    }

    /// A new record id (UUIDv7) from the Pocketbook's sources.
    pub fn new_id(&self) -> Uuid {
        self.sources.new_id()
    }

    /// Metadata for a new record of `entity` in the officer's home team.
    pub fn meta(&self, entity: Entity, marking: Marking) -> Result<RecordMeta> {
        let team_id = *self.officer.team_ids.first().ok_or(Error::NotEnrolled)?;
        Ok(RecordMeta {
            team_id,
            created_by: self.officer.id,
            created_at: self.now,
            marking,
            review_due: review_due(entity, self.now),
        })
    }

    /// A live record to change, or `NotFound`; [`Error::LeaseExpired`] for one the lapsed
    /// lease hides (so a write never hands back a record the officer may not see).
    pub fn get<T: Record>(&self, id: Uuid) -> Result<Stored<T>> {
        let stored = store::get::<T>(self.tx, id)?;
        lease::check(self.lapse, &stored.record)?;
        Ok(stored)
    }

    /// [`WriteContext::get`], with `None` for a record not held.
    pub fn load<T: Record>(&self, id: Uuid) -> Result<Option<Stored<T>>> {
        let stored = store::load::<T>(self.tx, id)?;
        if let Some(s) = &stored {
            lease::check(self.lapse, &s.record)?;
        }
        Ok(stored)
    }

    /// Captures one mutation (record, versions, outbox entry, audit event). Returns `false`
    /// (and writes nothing) when an update changes no field.
    pub fn capture<T: Record>(&mut self, write: WriteKind<'_, T>) -> Result<bool> {
        self.capture_with_reason(write, None)
    }

    /// [`WriteContext::capture`] with the officer's reason for the change, sent with it
    /// (`Mutation.reason`) where the server asks for one.
    pub fn capture_with_reason<T: Record>(
        &mut self,
        write: WriteKind<'_, T>,
        reason: Option<&str>,
    ) -> Result<bool> {
        let wrote = store::capture(
            self.tx,
            &mut self.device,
            self.officer.id,
            self.now,
            write,
            reason,
        )?;
        self.changed |= wrote;
        Ok(wrote)
    }

    /// Notes a change observers should hear about that is not a captured record (a conflict
    /// marked resolved).
    pub fn note_change(&mut self) {
        self.changed = true;
    }

    /// Logs a non-mutating audit event (consult, disclose) in this transaction.
    pub fn audit(
        &mut self,
        operation: AuditOperation,
        entity: Option<Entity>,
        record_id: Option<Uuid>,
        justification: Option<String>,
    ) -> Result<()> {
        store::append_audit(
            self.tx,
            &mut self.device,
            AuditDraft {
                operation,
                officer_id: self.officer.id,
                entity,
                record_id,
                justification,
                recipient: None,
            },
            self.now,
        )?;
        self.device.save(self.tx)
    }

    /// Every id must be a live young person.
    pub fn check_young_people(&self, field: &'static str, ids: &[Uuid]) -> Result<()> {
        for id in ids {
            if !store::exists(self.tx, Entity::YoungPerson, *id)? {
                return Err(ValidationError::UnknownYoungPerson { field }.into());
            }
        }
        Ok(())
    }

    /// The id must be a known establishment.
    pub fn check_establishment(&self, field: &'static str, id: Uuid) -> Result<()> {
        if !store::reference_known(self.tx, "establishment", id)? {
            return Err(ValidationError::UnknownEstablishment { field }.into());
        }
        Ok(())
    }

    /// Every id must be a known officer.
    pub fn check_officers(&self, field: &'static str, ids: &[Uuid]) -> Result<()> {
        for id in ids {
            if !store::reference_known(self.tx, "officer", *id)? {
                return Err(ValidationError::UnknownOfficer { field }.into());
            }
        }
        Ok(())
    }
}

/// When a new record is first due for review under MoPI: safeguarding records (concerns,
/// their addenda and referrals) after 10 years, everything else after 6.
fn review_due(entity: Entity, now: DateTime<Utc>) -> chrono::NaiveDate {
    let years = match entity {
        Entity::Concern | Entity::Addendum | Entity::Action => 10,
        _ => 6,
    };
    let today = now.date_naive();
    today
        .checked_add_months(Months::new(12 * years))
        .unwrap_or(today)
}

impl Pocketbook {
    /// Runs one write: begins an immediate transaction, loads the session (or fails with
    /// `NotEnrolled`) and commits only if `f` succeeds. If it changed anything, observers hear
    /// `DataChanged(Local)` after the commit, once the store's lock is released.
    pub(crate) fn mutate<T>(
        &self,
        f: impl FnOnce(&mut WriteContext<'_>) -> Result<T>,
    ) -> Result<T> {
        let (value, changed) = self.store.write(|tx| {
            let mut ctx = WriteContext::begin(tx, self.sources.as_ref())?;
            let value = f(&mut ctx)?;
            Ok((value, ctx.changed))
        })?;
        if changed {
            self.events.data_changed(ChangeOrigin::Local);
        }
        Ok(value)
    }
}
