//! Actions: the referrals and information shares that follow from a young person's needs,
//! added, moved along (status, due date) and listed.

use uuid::Uuid;

use pocketbook_protocol::{Entity, Marking};

use crate::error::{Result, ValidationError};
use crate::model::{Action, ActionDraft, ActionFilter, ActionUpdate, Concern};
use crate::store::{self, WriteKind};
use crate::Pocketbook;

impl Pocketbook {
    /// Adds a referral or information-sharing action for a young person.
    pub fn add_action(&self, draft: ActionDraft) -> Result<Action> {
        self.mutate(|ctx| {
            ctx.check_young_people("young_person_id", &[draft.young_person_id])?;
            if let Some(concern_id) = draft.concern_id {
                if !store::exists(ctx.tx, Entity::Concern, concern_id)? {
                    return Err(ValidationError::UnknownConcern {
                        field: "concern_id",
                    }
                    .into());
                }
            }
            let marking = match draft.concern_id {
                Some(cid) => ctx.get::<Concern>(cid)?.record.meta.marking,
                None => draft.marking.unwrap_or(Marking::Official),
            };
            let meta = ctx.meta(Entity::Action, draft.marking.unwrap_or(marking))?;
            let action = draft.into_record(ctx.new_id(), meta);
            action.validate()?;
            ctx.capture(WriteKind::Create(&action))?;
            Ok(action)
        })
    }

    /// Changes an action's status, due date, recipient or justification.
    pub fn update_action(&self, id: Uuid, update: ActionUpdate) -> Result<Action> {
        self.mutate(|ctx| {
            let stored = ctx.get::<Action>(id)?;
            let action = stored.record.updated(update);
            action.validate()?;
            ctx.capture(WriteKind::Update(&stored, &action))?;
            Ok(action)
        })
    }

    /// Actions matching `filter`, most recent first (while the lease has lapsed, only those
    /// this officer added since).
    pub fn actions(&self, filter: &ActionFilter) -> Result<Vec<Action>> {
        let lapse = self.lapse()?;
        let all = self
            .store
            .read(|c| store::list::<Action>(c, store::Scope::person(filter.young_person_id)))?;
        Ok(crate::lease::filter(lapse, all)
            .into_iter()
            .filter(|a| filter.matches(a))
            .collect())
    }
}
