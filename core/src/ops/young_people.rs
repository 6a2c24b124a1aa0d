//! Adding and finding young people.

use uuid::Uuid;

use pocketbook_protocol::{Entity, Marking};

use crate::error::Result;
use crate::lease;
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

    /// One young person (while the lease has lapsed, only one this officer added since).
    pub fn young_person(&self, id: Uuid) -> Result<YoungPerson> {
        let lapse = self.lapse()?;
        let person = self
            .store
            .read(|c| Ok(store::get::<YoungPerson>(c, id)?.record))?;
        lease::check(lapse, &person)?;
        Ok(person)
    }

    /// Young people whose names contain every word of `query` (case-insensitive), by name.
    /// An empty query lists everyone.
    ///
    /// While the lease has lapsed the picker lists nobody: it answers only a query that is a
    /// child's full name exactly ("first last", case and spacing aside), with that child, so
    /// an officer at a door can name a child the device knows in a new visit without the
    /// phone listing children; young people this officer added since the lapse are found as
    /// usual.
    pub fn find_young_people(&self, query: &str) -> Result<Vec<YoungPerson>> {
        let lapse = self.lapse()?;
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let full_name = |p: &YoungPerson| {
            format!("{} {}", p.first_name, p.last_name)
                .split_whitespace()
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        };
        let mut found: Vec<YoungPerson> = self
            .store
            .read(|c| store::list::<YoungPerson>(c, store::Scope::default()))?
            .into_iter()
            .filter(|p| {
                let name = full_name(p).join(" ");
                let matches = words.iter().all(|w| name.contains(w.as_str()));
                match lapse {
                    None => matches,
                    Some(l) => {
                        (matches && l.allows(&p.meta))
                            || (!words.is_empty() && full_name(p) == words)
                    }
                }
            })
            .collect();
        found.sort_by(|a, b| {
            (a.last_name.to_lowercase(), a.first_name.to_lowercase())
                .cmp(&(b.last_name.to_lowercase(), b.first_name.to_lowercase()))
        });
        Ok(found)
    }
}
