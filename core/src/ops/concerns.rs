//! Raising concerns, adding addenda and changing triage. A concern's account is never
//! rewritten: there is no operation that could, and corrections are addenda.

use uuid::Uuid;

use pocketbook_protocol::{Entity, Marking};

use crate::error::{Result, ValidationError};
use crate::model::{Addendum, Concern, ConcernDraft, ConcernFilter, ConcernTriageUpdate};
use crate::store::{self, WriteKind};
use crate::Pocketbook;

impl Pocketbook {
    /// Raises (submits) a concern. It needs a risk and a rationale for every THRIVE element;
    /// it is OFFICIAL-SENSITIVE unless marked otherwise.
    pub fn raise_concern(&self, draft: ConcernDraft) -> Result<Concern> {
        self.mutate(|ctx| {
            ctx.check_young_people("young_person_ids", &draft.young_person_ids)?;
            if let Some(lead) = draft.assigned_lead {
                ctx.check_officers("assigned_lead", &[lead])?;
            }
            let marking = draft.marking.unwrap_or(Marking::OfficialSensitive);
            let meta = ctx.meta(Entity::Concern, marking)?;
            let concern = draft.into_record(ctx.new_id(), meta, ctx.now)?;
            ctx.capture(WriteKind::Create(&concern))?;
            Ok(concern)
        })
    }

    /// Adds a dated addendum to a concern. The addendum shares the concern's team and marking.
    pub fn add_addendum(&self, concern_id: Uuid, text: &str) -> Result<Addendum> {
        self.mutate(|ctx| {
            Addendum::validate_text(text)?;
            let concern = store::load::<Concern>(ctx.tx, concern_id)?
                .ok_or(ValidationError::UnknownConcern {
                    field: "concern_id",
                })?
                .record;
            let mut meta = ctx.meta(Entity::Addendum, concern.meta.marking)?;
            meta.team_id = concern.meta.team_id;
            let addendum = Addendum {
                id: ctx.new_id(),
                meta,
                concern_id,
                young_person_ids: concern.young_person_ids.clone(),
                text: text.to_string(),
            };
            ctx.capture(WriteKind::Create(&addendum))?;
            Ok(addendum)
        })
    }

    /// Changes a concern's risk, status, lead or marking, keeping the change in its history.
    pub fn update_concern_triage(&self, id: Uuid, update: ConcernTriageUpdate) -> Result<Concern> {
        self.mutate(|ctx| {
            let stored = store::get::<Concern>(ctx.tx, id)?;
            if let Some(Some(lead)) = update.assigned_lead {
                ctx.check_officers("assigned_lead", &[lead])?;
            }
            let Some(concern) = stored.record.triaged(update, ctx.officer.id, ctx.now)? else {
                return Ok(stored.record.clone());
            };
            if let Some(field) = concern.altered_account_field(&stored.record) {
                return Err(ValidationError::Immutable { field }.into());
            }
            ctx.capture(WriteKind::Update(&stored, &concern))?;
            Ok(concern)
        })
    }

    /// One concern.
    pub fn concern(&self, id: Uuid) -> Result<Concern> {
        self.guard_lease()?;
        self.store
            .read(|c| Ok(store::get::<Concern>(c, id)?.record))
    }

    /// The addenda of one concern, oldest first.
    pub fn addenda(&self, concern_id: Uuid) -> Result<Vec<Addendum>> {
        let concern = self.concern(concern_id)?;
        let person = concern.young_person_ids.first().copied();
        let mut list: Vec<Addendum> = self
            .store
            .read(|c| store::list::<Addendum>(c, store::Scope::person(person)))?
            .into_iter()
            .filter(|a| a.concern_id == concern_id)
            .collect();
        list.reverse();
        Ok(list)
    }

    /// Concerns matching `filter`, most recent first.
    pub fn concerns(&self, filter: &ConcernFilter) -> Result<Vec<Concern>> {
        self.guard_lease()?;
        let all = self
            .store
            .read(|c| store::list::<Concern>(c, store::Scope::person(filter.young_person_id)))?;
        Ok(all.into_iter().filter(|c| filter.matches(c)).collect())
    }
}
