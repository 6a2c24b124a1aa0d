//! Recording, changing, deleting and listing visits.

use uuid::Uuid;

use pocketbook_protocol::{Entity, Marking};

use crate::error::Result;
use crate::model::{Visit, VisitDraft, VisitFilter, VisitUpdate};
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
            let stored = store::get::<Visit>(ctx.tx, id)?;
            let visit = stored.record.updated(update);
            check(ctx, &visit)?;
            ctx.capture(WriteKind::Update(&stored, &visit))?;
            Ok(visit)
        })
    }

    /// Deletes a visit: it becomes a tombstone that syncs like any other change.
    pub fn delete_visit(&self, id: Uuid) -> Result<()> {
        self.mutate(|ctx| {
            let stored = store::get::<Visit>(ctx.tx, id)?;
            ctx.capture(WriteKind::Delete(&stored))?;
            Ok(())
        })
    }

    /// One visit.
    pub fn visit(&self, id: Uuid) -> Result<Visit> {
        self.guard_lease()?;
        self.store.read(|c| Ok(store::get::<Visit>(c, id)?.record))
    }

    /// Visits matching `filter`, most recent first.
    pub fn visits(&self, filter: &VisitFilter) -> Result<Vec<Visit>> {
        self.guard_lease()?;
        let all = self.store.read(|c| {
            let scope = store::Scope {
                person: filter.young_person_id,
                since: filter.since,
                until: filter.until,
            };
            store::list::<Visit>(c, scope)
        })?;
        Ok(all.into_iter().filter(|v| filter.matches(v)).collect())
    }
}
