//! What officers do, through the public API only, chosen and filled in by the seed: add young
//! people, record, edit (the same fields on several devices) and delete visits, raise and
//! triage concerns (risk, status, marking), add addenda and resolve conflicts. A refusal by
//! the core (validation, authorisation) is an ordinary outcome, traced by its kind.

use chrono::Duration;
use pocketbook_core::model::{
    ConcernFilter, ConcernStatus, ConcernTriageUpdate, Marking, Risk, VisitFilter, VisitOutcome,
    VisitUpdate,
};
use pocketbook_core::{ConflictChoice, Entity, Sources};
use uuid::Uuid;

use super::clock::Rng;
use super::device::{kind, SimDevice};

/// The officer actions, with their weights.
const ACTIONS: [(Action, u64); 9] = [
    (Action::AddYoungPerson, 6),
    (Action::RecordVisit, 14),
    (Action::EditVisit, 18),
    (Action::DeleteVisit, 3),
    (Action::RaiseConcern, 6),
    (Action::TriageConcern, 8),
    (Action::AddAddendum, 5),
    (Action::ResolveConflicts, 5),
    (Action::Sync, 24),
];

/// One thing an officer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Adds a young person.
    AddYoungPerson,
    /// Records a visit.
    RecordVisit,
    /// Edits a visit's narrative and outcome (often one other devices edit too).
    EditVisit,
    /// Deletes a visit with a reason.
    DeleteVisit,
    /// Raises a concern.
    RaiseConcern,
    /// Changes a concern's risk, status or marking.
    TriageConcern,
    /// Adds an addendum to a concern.
    AddAddendum,
    /// Resolves every open conflict one way or the other.
    ResolveConflicts,
    /// Syncs.
    Sync,
}

/// Picks an action by weight.
pub fn pick(rng: &mut Rng) -> Action {
    let total: u64 = ACTIONS.iter().map(|(_, w)| w).sum();
    let mut at = rng.below(total);
    for (action, weight) in ACTIONS {
        if at < weight {
            return action;
        }
        at -= weight;
    }
    Action::Sync
}

/// Does `action` on `device`; a line for the trace. `lead` is an officer who may lead
/// concerns.
pub async fn act(device: &mut SimDevice, action: Action, rng: &mut Rng, lead: Uuid) -> String {
    if device.wiped {
        return "wiped".into();
    }
    let now = device.sources.now();
    let step = rng.below(1_000_000);
    let book = device.book();
    let result: Result<Option<(Entity, Uuid)>, pocketbook_core::Error> = match action {
        Action::AddYoungPerson => {
            let mut draft = crate::person_draft();
            draft.first_name = format!("Child{}", rng.below(50));
            book.add_young_person(draft)
                .map(|p| Some((Entity::YoungPerson, p.id)))
        }
        Action::RecordVisit => match any_young_person(device, rng) {
            None => Ok(None),
            Some(child) => {
                let mut draft = crate::visit_draft(child, 1);
                draft.start = now - Duration::hours(2);
                draft.end = now - Duration::hours(1);
                draft.narrative = format!("Visit note {step}");
                device
                    .book()
                    .record_visit(draft)
                    .map(|v| Some((Entity::Visit, v.id)))
            }
        },
        Action::EditVisit => match some_visit(device, rng) {
            None => Ok(None),
            Some(id) => {
                let outcomes = [
                    VisitOutcome::AdviceGiven,
                    VisitOutcome::NoConcerns,
                    VisitOutcome::ReferralMade,
                ];
                let update = VisitUpdate {
                    narrative: Some(format!("Edited note {step}")),
                    outcome: rng
                        .chance(500)
                        .then(|| outcomes[rng.index(outcomes.len())].clone()),
                    ..VisitUpdate::default()
                };
                device.book().update_visit(id, update).map(|_| None)
            }
        },
        Action::DeleteVisit => match some_visit(device, rng) {
            None => Ok(None),
            Some(id) => device
                .book()
                .delete_visit(id, "Entered in error")
                .map(|()| None),
        },
        Action::RaiseConcern => match any_young_person(device, rng) {
            None => Ok(None),
            Some(child) => {
                let mut draft = crate::concern_draft(child, 1);
                draft.happened_at = now - Duration::hours(1);
                draft.assigned_lead = Some(lead);
                draft.marking = rng.chance(500).then_some(Marking::Official);
                device
                    .book()
                    .raise_concern(draft)
                    .map(|c| Some((Entity::Concern, c.id)))
            }
        },
        Action::TriageConcern => match some_concern(device, rng) {
            None => Ok(None),
            Some(id) => {
                let risks = [Risk::Low, Risk::Medium, Risk::High];
                let statuses = [
                    ConcernStatus::Open,
                    ConcernStatus::Monitoring,
                    ConcernStatus::New,
                ];
                let markings = [Marking::Official, Marking::OfficialSensitive];
                let update = ConcernTriageUpdate {
                    risk: rng.chance(600).then(|| risks[rng.index(3)].clone()),
                    status: rng.chance(500).then(|| statuses[rng.index(3)].clone()),
                    marking: rng.chance(300).then(|| markings[rng.index(2)]),
                    note: Some("Reviewed".into()),
                    ..ConcernTriageUpdate::default()
                };
                device
                    .book()
                    .update_concern_triage(id, update)
                    .map(|_| None)
            }
        },
        Action::AddAddendum => match some_concern(device, rng) {
            None => Ok(None),
            Some(id) => device
                .book()
                .add_addendum(id, &format!("Addendum {step}"))
                .map(|a| Some((Entity::Addendum, a.id))),
        },
        Action::ResolveConflicts => {
            let conflicts = device.book().conflicts().unwrap_or_default();
            let mut outcome = Ok(None);
            for c in conflicts {
                let choice = if rng.chance(500) {
                    ConflictChoice::KeepCurrent
                } else {
                    ConflictChoice::TakeLosing
                };
                if let Err(e) = device.book().resolve_conflict(&c.id, choice) {
                    outcome = Err(e);
                }
            }
            outcome
        }
        Action::Sync => {
            return match device.sync().await {
                Ok(r) => format!(
                    "sync ok pushed {} rejected {} pulled {} conflicts {}",
                    r.pushed, r.rejected, r.pulled, r.conflicts
                ),
                Err(kind) => format!("sync {kind}"),
            };
        }
    };
    match result {
        Ok(Some(created)) => {
            device.created.push(created);
            format!("{action:?} ok")
        }
        Ok(None) => format!("{action:?} done"),
        Err(e) => format!("{action:?} {}", kind(&e)),
    }
}

fn any_young_person(device: &SimDevice, rng: &mut Rng) -> Option<Uuid> {
    let mut people = device.book().find_young_people("").ok()?;
    people.sort_by_key(|p| p.id);
    (!people.is_empty()).then(|| people[rng.index(people.len())].id)
}

/// One of the few oldest visits (so devices often edit the same ones).
fn some_visit(device: &SimDevice, rng: &mut Rng) -> Option<Uuid> {
    let mut visits = device.book().visits(&VisitFilter::default()).ok()?;
    visits.sort_by_key(|v| v.id);
    visits.truncate(3);
    (!visits.is_empty()).then(|| visits[rng.index(visits.len())].id)
}

fn some_concern(device: &SimDevice, rng: &mut Rng) -> Option<Uuid> {
    let mut concerns = device.book().concerns(&ConcernFilter::default()).ok()?;
    concerns.sort_by_key(|c| c.id);
    concerns.truncate(3);
    (!concerns.is_empty()).then(|| concerns[rng.index(concerns.len())].id)
}
