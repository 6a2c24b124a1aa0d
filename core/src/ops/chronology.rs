//! A young person's chronology: every visit, concern, addendum and action about them in the
//! order things happened (a backdated concern slots in where it happened). Reading it is a
//! Consult, logged with the reason the officer gives.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use pocketbook_protocol::Entity;

use crate::error::Result;
use crate::model::{check_text, Action, Addendum, AuditOperation, Concern, Visit, MAX_SHORT};
use crate::store;
use crate::Pocketbook;

/// The kind of a chronology entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChronologyKind {
    /// A visit.
    Visit,
    /// A concern.
    Concern,
    /// An addendum to a concern.
    Addendum,
    /// A referral or information share.
    Action,
}

/// One line of a chronology.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChronologyEntry {
    /// When it happened.
    pub happened_at: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// What it is.
    pub kind: ChronologyKind,
    /// The record's id.
    pub record_id: Uuid,
    /// A one-line heading (kind, category, outcome).
    pub title: String,
    /// The text (narrative, account, addendum, justification).
    pub detail: String,
}

fn name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s.replace('_', " "),
        _ => String::new(),
    }
}

impl From<Visit> for ChronologyEntry {
    fn from(v: Visit) -> Self {
        ChronologyEntry {
            happened_at: v.start,
            recorded_at: v.meta.created_at,
            kind: ChronologyKind::Visit,
            record_id: v.id,
            title: format!("Visit: {} ({})", name(&v.kind), name(&v.outcome)),
            detail: v.narrative,
        }
    }
}

impl From<Concern> for ChronologyEntry {
    fn from(c: Concern) -> Self {
        ChronologyEntry {
            happened_at: c.happened_at,
            recorded_at: c.recorded_at,
            kind: ChronologyKind::Concern,
            record_id: c.id,
            title: format!(
                "Concern: {} (risk {}, {})",
                name(&c.category),
                name(&c.risk),
                name(&c.status)
            ),
            detail: c.account,
        }
    }
}

impl From<Addendum> for ChronologyEntry {
    fn from(a: Addendum) -> Self {
        ChronologyEntry {
            happened_at: a.meta.created_at,
            recorded_at: a.meta.created_at,
            kind: ChronologyKind::Addendum,
            record_id: a.id,
            title: format!("Addendum to concern {}", a.concern_id),
            detail: a.text,
        }
    }
}

impl From<Action> for ChronologyEntry {
    fn from(a: Action) -> Self {
        ChronologyEntry {
            happened_at: a.meta.created_at,
            recorded_at: a.meta.created_at,
            kind: ChronologyKind::Action,
            record_id: a.id,
            title: format!(
                "Action: {} to {} ({})",
                name(&a.kind),
                a.recipient,
                name(&a.status)
            ),
            detail: a.justification,
        }
    }
}

impl Pocketbook {
    /// The young person's chronology, oldest first. `reason` (why the officer is looking) is
    /// required and logged with a Consult audit event in the same transaction as the read.
    pub fn chronology(&self, young_person_id: Uuid, reason: &str) -> Result<Vec<ChronologyEntry>> {
        check_text("reason", reason, MAX_SHORT).map_err(crate::Error::from)?;
        self.mutate(|ctx| {
            crate::lease::refuse_if_lapsed(ctx.lapse)?;
            store::get::<crate::model::YoungPerson>(ctx.tx, young_person_id)?;
            let person = Some(young_person_id);
            let mut entries: Vec<ChronologyEntry> = Vec::new();
            entries.extend(
                store::list::<Visit>(ctx.tx, store::Scope::person(person))?
                    .into_iter()
                    .map(Into::into),
            );
            entries.extend(
                store::list::<Concern>(ctx.tx, store::Scope::person(person))?
                    .into_iter()
                    .map(Into::into),
            );
            entries.extend(
                store::list::<Addendum>(ctx.tx, store::Scope::person(person))?
                    .into_iter()
                    .map(Into::into),
            );
            entries.extend(
                store::list::<Action>(ctx.tx, store::Scope::person(person))?
                    .into_iter()
                    .map(Into::into),
            );
            entries.sort_by(|a, b| {
                (a.happened_at, a.recorded_at, a.record_id).cmp(&(
                    b.happened_at,
                    b.recorded_at,
                    b.record_id,
                ))
            });
            ctx.audit(
                AuditOperation::Consult,
                Some(Entity::YoungPerson),
                Some(young_person_id),
                Some(reason.trim().to_string()),
            )?;
            Ok(entries)
        })
    }
}
