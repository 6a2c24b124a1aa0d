//! Recording, changing, deleting and listing visits.

use uuid::Uuid;

use pocketbook_protocol::{Entity, Marking};

use crate::error::Result;
use crate::lease;
use crate::model::{check_text, Visit, VisitDraft, VisitFilter, VisitUpdate, MAX_SHORT};
use crate::ops::context::WriteContext;
use crate::store::{self, WriteKind};
use crate::Pocketbook;

pub(super) fn check(ctx: &WriteContext<'_>, visit: &Visit) -> Result<()> {
    visit.validate(ctx.now)?;
    ctx.check_young_people("young_person_ids", &visit.young_person_ids)?;
    ctx.check_officers("officer_ids", &visit.officer_ids)
}

impl Pocketbook {
    /// Records a visit. The recording officer is added to its officers.
    pub fn record_visit(&self, draft: VisitDraft) -> Result<Visit> {
        self.mutate(|ctx| {
            let marking = draft.marking.unwrap_or(Marking::Official);
            let meta = ctx.meta(Entity::Visit, marking)?;
            let visit = draft.into_record(ctx.new_id(), meta);
            check(ctx, &visit)?;
            ctx.capture(WriteKind::Create(&visit))?;
            Ok(visit)
        })
    }

    /// Changes the fields given in `update`; an update that changes nothing writes nothing.
    pub fn update_visit(&self, id: Uuid, update: VisitUpdate) -> Result<Visit> {
        self.mutate(|ctx| {
            let stored = ctx.get::<Visit>(id)?;
            let visit = stored.record.updated(update);
            check(ctx, &visit)?;
            ctx.capture(WriteKind::Update(&stored, &visit))?;
            Ok(visit)
        })
    }

    /// Deletes a visit: it becomes a tombstone that syncs like any other change, carrying
    /// `reason` (why the officer deletes it: required, at most 500 characters), which the
    /// server keeps with the content it holds back from devices.
    pub fn delete_visit(&self, id: Uuid, reason: &str) -> Result<()> {
        check_text("reason", reason, MAX_SHORT)?;
        self.mutate(|ctx| {
            let stored = ctx.get::<Visit>(id)?;
            ctx.capture_with_reason(WriteKind::Delete(&stored), Some(reason.trim()))?;
            Ok(())
        })
    }

    /// One visit (while the lease has lapsed, only one this officer recorded since).
    pub fn visit(&self, id: Uuid) -> Result<Visit> {
        let lapse = self.lapse()?;
        let visit = self
            .store
            .read(|c| Ok(store::get::<Visit>(c, id)?.record))?;
        lease::check(lapse, &visit)?;
        Ok(visit)
    }

    /// Visits matching `filter`, most recent first (while the lease has lapsed, only those
    /// this officer recorded since).
    pub fn visits(&self, filter: &VisitFilter) -> Result<Vec<Visit>> {
        let lapse = self.lapse()?;
        let all = self.store.read(|c| {
            let scope = store::Scope {
                person: filter.young_person_id,
                since: filter.since,
                until: filter.until,
            };
            store::list::<Visit>(c, scope)
        })?;
        Ok(lease::filter(lapse, all)
            .into_iter()
            .filter(|v| filter.matches(v))
            .collect())
    }
}
