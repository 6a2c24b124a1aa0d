//! Conflicts on the device: listing those still open, and resolving one by keeping the value
//! that won or putting the losing value back as an ordinary captured edit.

use serde_json::Value;
use uuid::Uuid;

use pocketbook_protocol::merge::Conflict;
use pocketbook_protocol::Entity;

use crate::error::{Error, Result};
use crate::model::{Action, Addendum, Concern, Engagement, Record, Visit, YoungPerson};
use crate::ops::WriteContext;
use crate::store::{self, WriteKind};
use crate::{ConflictChoice, Pocketbook};

impl Pocketbook {
    /// Conflicts not yet resolved on this device.
    /// While the lease has lapsed this is [`Error::LeaseExpired`].
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        crate::lease::refuse_if_lapsed(self.lapse()?)?;
        self.store.read(store::open_conflicts)
    }

    /// Resolves a conflict: keep the current value, or put the losing value back as a new
    /// edit (which syncs, and may itself meet concurrent edits).
    pub fn resolve_conflict(&self, id: &str, choice: ConflictChoice) -> Result<()> {
        let conflict = self
            .conflicts()?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(Error::ConflictNotFound)?;
        self.mutate(|ctx| {
            if choice == ConflictChoice::TakeLosing {
                let (entity, id) = (&conflict.entity, conflict.record_id);
                let (field, value) = (conflict.field.as_str(), &conflict.losing_value);
                match entity {
                    Entity::YoungPerson => restore::<YoungPerson>(ctx, id, field, value)?,
                    Entity::Visit => restore::<Visit>(ctx, id, field, value)?,
                    Entity::Concern => restore::<Concern>(ctx, id, field, value)?,
                    Entity::Addendum => restore::<Addendum>(ctx, id, field, value)?,
                    Entity::Action => restore::<Action>(ctx, id, field, value)?,
                    Entity::Engagement => restore::<Engagement>(ctx, id, field, value)?,
                    // A kind of record this build cannot read: its value cannot be put back.
                    Entity::Unknown(_) => {
                        return Err(Error::NotFound {
                            entity: entity.clone(),
                            id,
                        })
                    }
                }
            }
            store::mark_resolved(ctx.tx, &conflict.id)?;
            ctx.note_change();
            Ok(())
        })
    }
}

/// Sets one field of a record back to `value`, as an ordinary captured edit.
fn restore<T: Record>(
    ctx: &mut WriteContext<'_>,
    id: Uuid,
    field: &str,
    value: &Value,
) -> Result<()> {
    let stored = ctx.get::<T>(id)?;
    let mut fields = match serde_json::to_value(&stored.record) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::Corrupt { what: "record" }),
    };
    fields.insert(field.to_string(), value.clone());
    let restored: T = store::decode_fields(&id.to_string(), fields)?;
    ctx.capture(WriteKind::Update(&stored, &restored))?;
    Ok(())
}
