//! School engagements: assemblies, lessons, weapons sweeps and the like at a known
//! establishment, recorded and listed.

use pocketbook_protocol::{Entity, Marking};

use crate::error::Result;
use crate::model::{Engagement, EngagementDraft, EngagementFilter};
use crate::store::{self, WriteKind};
use crate::Pocketbook;

impl Pocketbook {
    /// Records a school engagement at a known establishment.
    pub fn record_engagement(&self, draft: EngagementDraft) -> Result<Engagement> {
        self.mutate(|ctx| {
            ctx.check_establishment("establishment_id", draft.establishment_id)?;
            let meta = ctx.meta(
                Entity::Engagement,
                draft.marking.unwrap_or(Marking::Official),
            )?;
            let engagement = draft.into_record(ctx.new_id(), meta, ctx.now)?;
            ctx.capture(WriteKind::Create(&engagement))?;
            Ok(engagement)
        })
    }

    /// Engagements matching `filter`, most recent first (while the lease has lapsed, only
    /// those this officer recorded since).
    pub fn engagements(&self, filter: &EngagementFilter) -> Result<Vec<Engagement>> {
        let lapse = self.lapse()?;
        let all = self
            .store
            .read(|c| store::list::<Engagement>(c, store::Scope::default()))?;
        Ok(crate::lease::filter(lapse, all)
            .into_iter()
            .filter(|e| filter.matches(e))
            .collect())
    }
}
