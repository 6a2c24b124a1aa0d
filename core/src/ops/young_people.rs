//! Adding and finding young people.

use uuid::Uuid;

use pocketbook_protocol::{Entity, Marking};

use crate::error::Result;
use crate::model::{YoungPerson, YoungPersonDraft};
use crate::store::{self, WriteKind};
use crate::Pocketbook;

impl Pocketbook {
    /// Adds a young person. Their establishment, if given, must be known.
    pub fn add_young_person(&self, draft: YoungPersonDraft) -> Result<YoungPerson> {
        self.mutate(|ctx| {
            draft.validate(ctx.now.date_naive())?;
            if let Some(e) = draft.establishment_id {
                ctx.check_establishment("establishment_id", e)?;
            }
            let meta = ctx.meta(Entity::YoungPerson, Marking::Official)?;
            let person = draft.into_record(ctx.new_id(), meta);
            ctx.capture(WriteKind::Create(&person))?;
            Ok(person)
        })
    }

    /// One young person.
    pub fn young_person(&self, id: Uuid) -> Result<YoungPerson> {
        self.guard_lease()?;
        self.store
            .read(|c| Ok(store::get::<YoungPerson>(c, id)?.record))
    }

    /// Young people whose names contain every word of `query` (case-insensitive), by name.
    /// An empty query lists everyone.
    pub fn find_young_people(&self, query: &str) -> Result<Vec<YoungPerson>> {
        self.guard_lease()?;
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let mut found: Vec<YoungPerson> = self
            .store
            .read(|c| store::list::<YoungPerson>(c, store::Scope::default()))?
            .into_iter()
            .filter(|p| {
                let name = format!("{} {}", p.first_name, p.last_name).to_lowercase();
                words.iter().all(|w| name.contains(w.as_str()))
            })
            .collect();
        found.sort_by(|a, b| {
            (a.last_name.to_lowercase(), a.first_name.to_lowercase())
                .cmp(&(b.last_name.to_lowercase(), b.first_name.to_lowercase()))
        });
        Ok(found)
    }
}
