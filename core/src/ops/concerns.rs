//! Raising concerns, adding addenda and changing triage. A concern's account is never
//! rewritten: there is no operation that could, and corrections are addenda.

use uuid::Uuid;

use pocketbook_protocol::{Entity, Marking};

use crate::error::{Result, ValidationError};
use crate::lease;
use crate::model::{
    check_count, check_text, Addendum, Concern, ConcernDraft, ConcernFilter, ConcernTriageUpdate,
    MAX_SHORT,
};
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
            let concern = ctx
                .load::<Concern>(concern_id)?
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
            let stored = ctx.get::<Concern>(id)?;
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

    /// Corrects which young people a concern is about — a supervisor's or safeguarding
    /// lead's correction (the server refuses it from anyone else, and the device then shows
    /// the concern as the server holds it). In one transaction: a concern update touching only
    /// `young_person_ids` and carrying `reason` (required, at most 500 characters), and an
    /// addendum whose text gives the reason and the link before and after, by record id only.
    /// The original link stays in the record's history. A correction to the link it already
    /// has writes nothing.
    pub fn correct_concern_child(
        &self,
        concern_id: Uuid,
        young_person_ids: Vec<Uuid>,
        reason: &str,
    ) -> Result<Concern> {
        check_text("reason", reason, MAX_SHORT)?;
        let reason = reason.trim();
        self.mutate(|ctx| {
            let stored = ctx.get::<Concern>(concern_id)?;
            let mut ids: Vec<Uuid> = Vec::new();
            for id in young_person_ids {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if ids.is_empty() {
                return Err(ValidationError::NoneGiven {
                    field: "young_person_ids",
                }
                .into());
            }
            check_count("young_person_ids", ids.len())?;
            ctx.check_young_people("young_person_ids", &ids)?;
            let before = stored.record.young_person_ids.clone();
            let (mut was, mut now) = (before.clone(), ids.clone());
            was.sort();
            now.sort();
            if was == now {
                return Ok(stored.record.clone());
            }
            let mut concern = stored.record.clone();
            concern.young_person_ids = ids;
            ctx.capture_with_reason(WriteKind::Update(&stored, &concern), Some(reason))?;
            let list = |ids: &[Uuid]| {
                ids.iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let text = format!(
                "Linked young people corrected. Reason: {reason}\nBefore: {}\nAfter: {}",
                list(&before),
                list(&concern.young_person_ids)
            );
            Addendum::validate_text(&text)?;
            let mut meta = ctx.meta(Entity::Addendum, concern.meta.marking)?;
            meta.team_id = concern.meta.team_id;
            let addendum = Addendum {
                id: ctx.new_id(),
                meta,
                concern_id,
                young_person_ids: concern.young_person_ids.clone(),
                text,
            };
            ctx.capture(WriteKind::Create(&addendum))?;
            Ok(concern)
        })
    }

    /// One concern (while the lease has lapsed, only one this officer raised since).
    pub fn concern(&self, id: Uuid) -> Result<Concern> {
        let lapse = self.lapse()?;
        let concern = self
            .store
            .read(|c| Ok(store::get::<Concern>(c, id)?.record))?;
        lease::check(lapse, &concern)?;
        Ok(concern)
    }

    /// The addenda of one concern, oldest first.
    pub fn addenda(&self, concern_id: Uuid) -> Result<Vec<Addendum>> {
        let lapse = self.lapse()?;
        self.concern(concern_id)?;
        // Every addendum, not only those of the concern's young people: addenda written
        // before a correction of its linked child name the child it had then.
        let list: Vec<Addendum> = self
            .store
            .read(|c| store::list::<Addendum>(c, store::Scope::default()))?
            .into_iter()
            .filter(|a| a.concern_id == concern_id)
            .collect();
        let mut list = lease::filter(lapse, list);
        list.reverse();
        Ok(list)
    }

    /// Concerns matching `filter`, most recent first (while the lease has lapsed, only those
    /// this officer raised since).
    pub fn concerns(&self, filter: &ConcernFilter) -> Result<Vec<Concern>> {
        let lapse = self.lapse()?;
        let all = self
            .store
            .read(|c| store::list::<Concern>(c, store::Scope::person(filter.young_person_id)))?;
        Ok(lease::filter(lapse, all)
            .into_iter()
            .filter(|c| filter.matches(c))
            .collect())
    }
}
