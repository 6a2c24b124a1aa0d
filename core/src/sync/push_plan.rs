//! What a push answer does to the device's outbox, decided as a pure function of the
//! mutations sent and the server's answer. Returns the operations the store applies in one
//! transaction (`store::push::apply`) and the tally the sync report shows. Does no IO.
//!
//! A refused mutation is kept (content, code, message) for the officer to correct and resubmit
//! or discard, and its record falls back to the acknowledged state with the remaining pending
//! edits over it. One refused `server_too_old` is not the officer's fault: it is held, still
//! shown in the record, and resent once an answer carries a higher model generation.

use pocketbook_protocol::wire::{PushOutcome, PushResponse};
use pocketbook_protocol::{Entity, Mutation, MutationKind, RejectCode};
use uuid::Uuid;

/// One thing a push answer does to the store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PushOp {
    /// Keep a refused mutation for `sync_status`, so the officer sees what was refused and why
    /// and can correct and resubmit it, or discard it.
    KeepRefusal {
        /// The refused mutation, as sent.
        mutation: Mutation,
        /// The server's code.
        code: RejectCode,
        /// The server's reason.
        message: String,
    },
    /// Hold a mutation refused `server_too_old` until an answer's model generation passes
    /// `generation` (the one it was refused under).
    Hold {
        /// The held mutation, as sent.
        mutation: Mutation,
        /// The model generation of the answer that refused it (0 when the answer named none).
        generation: u32,
    },
    /// Drop every outbox entry up to and including this sequence number: the server holds
    /// them (applied, merged or quarantined).
    DropOutboxThrough(u64),
    /// The server took this mutation (applied or merged): the acknowledged state of its
    /// record, kept while edits of it are pending, moves on by it.
    Acknowledged(Mutation),
    /// A refused change leaves the record's view: rebuild it from the acknowledged state and
    /// the edits still pending. `refused_create` says the record itself was refused.
    Revert {
        /// The kind of record.
        entity: Entity,
        /// The record.
        record_id: Uuid,
        /// Whether the refusal was of the record's creation.
        refused_create: bool,
    },
    /// Resend held mutations refused under a model generation below this one.
    ReleaseHeld(u32),
    /// The server took this conflict resolution: stop sending it.
    ResolutionTaken(String),
    /// The server holds this device's audit events up to this number.
    AuditAckedThrough(u64),
}

/// How many mutations of a push were applied, merged and refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PushTally {
    /// Applied as sent (or already applied before).
    pub applied: u64,
    /// Reconciled with concurrent edits.
    pub merged: u64,
    /// Refused and quarantined by the server.
    pub rejected: u64,
    /// Refused `server_too_old`: held until the server is upgraded.
    pub held: u64,
}

/// Plans what the answer to a push of `sent` does, in the order it must run.
pub(crate) fn plan_push_answer(
    sent: &[Mutation],
    answer: &PushResponse,
) -> (Vec<PushOp>, PushTally) {
    let mut tally = PushTally::default();
    let mut ops = Vec::new();
    let mut taken = Vec::new();
    let mut reverts: Vec<PushOp> = Vec::new();
    for result in &answer.results {
        // A result for a mutation this device did not send names nothing to keep.
        let m = sent.iter().find(|m| m.seq == result.seq);
        match &result.outcome {
            PushOutcome::Applied => {
                tally.applied += 1;
                taken.extend(m.cloned().map(PushOp::Acknowledged));
            }
            PushOutcome::Merged { .. } => {
                tally.merged += 1;
                taken.extend(m.cloned().map(PushOp::Acknowledged));
            }
            PushOutcome::Rejected {
                code: RejectCode::ServerTooOld,
                ..
            } => {
                tally.held += 1;
                ops.extend(m.cloned().map(|mutation| PushOp::Hold {
                    mutation,
                    generation: answer.model_generation.unwrap_or(0),
                }));
            }
            PushOutcome::Rejected { code, message } => {
                tally.rejected += 1;
                let Some(m) = m else { continue };
                ops.push(PushOp::KeepRefusal {
                    mutation: m.clone(),
                    code: code.clone(),
                    message: message.clone(),
                });
                let refused_create = m.kind == MutationKind::Create;
                match reverts.iter_mut().find(
                    |op| matches!(op, PushOp::Revert { record_id, .. } if *record_id == m.record_id),
                ) {
                    Some(PushOp::Revert {
                        refused_create: was,
                        ..
                    }) => *was |= refused_create,
                    _ => reverts.push(PushOp::Revert {
                        entity: m.entity.clone(),
                        record_id: m.record_id,
                        refused_create,
                    }),
                }
            }
        }
    }
    ops.push(PushOp::DropOutboxThrough(answer.acked_seq));
    ops.extend(taken);
    ops.extend(reverts);
    ops.extend(answer.model_generation.map(PushOp::ReleaseHeld));
    ops.extend(answer.resolved.iter().cloned().map(PushOp::ResolutionTaken));
    ops.push(PushOp::AuditAckedThrough(answer.audit_acked_seq));
    (ops, tally)
}

/// Which records that left this device's scope while an edit of them was pending (`left`)
/// are now to be dropped: each that no edit still pending (`pending`: the outbox and the held
/// mutations) names — its edits were all acknowledged or refused. A refusal of a dropped
/// record keeps only its code and record id, not its content.
pub(crate) fn plan_left_scope(left: &[Uuid], pending: &[Mutation]) -> Vec<Uuid> {
    left.iter()
        .filter(|id| !pending.iter().any(|m| m.record_id == **id))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pocketbook_protocol::wire::PushResult;
    use pocketbook_protocol::{Hlc, Marking, Version};

    use super::*;

    fn sent(seq: u64) -> Mutation {
        Mutation {
            reason: None,
            seq,
            entity: Entity::Visit,
            record_id: Uuid::from_u128(u128::from(seq)),
            kind: MutationKind::Create,
            team_id: Uuid::nil(),
            marking: Marking::Official,
            fields: BTreeMap::new(),
            base: BTreeMap::new(),
            sets: BTreeMap::new(),
            version: Version {
                hlc: Hlc {
                    millis: seq,
                    counter: 0,
                },
                node: Uuid::nil(),
            },
            versions: None,
            conflicts: None,
        }
    }

    fn answer(results: Vec<(u64, PushOutcome)>, acked_seq: u64) -> PushResponse {
        PushResponse {
            results: results
                .into_iter()
                .map(|(seq, outcome)| PushResult { seq, outcome })
                .collect(),
            acked_seq,
            audit_acked_seq: 4,
            resolved: vec!["c1".into()],
            model_generation: None,
            server_time_ms: 0,
        }
    }

    fn refused() -> PushOutcome {
        PushOutcome::Rejected {
            code: RejectCode::ForbiddenBucket,
            message: "not your team".into(),
        }
    }

    #[test]
    fn a_record_that_left_scope_goes_once_no_edit_of_it_is_pending() {
        let (gone, waiting, other) = (sent(1), sent(2), sent(3));
        let left = [gone.record_id, waiting.record_id];
        // The edit of `waiting` is still pending (not yet answered, or held).
        let still = [waiting.clone(), other.clone()];
        assert_eq!(plan_left_scope(&left, &still), vec![gone.record_id]);
        assert_eq!(
            plan_left_scope(&left, &[]),
            vec![gone.record_id, waiting.record_id]
        );
        assert!(plan_left_scope(&[], &still).is_empty());
    }

    #[test]
    fn outcomes_are_tallied_and_the_outbox_dropped_to_the_acknowledged_number() {
        let merged = PushOutcome::Merged {
            conflicts: vec!["c9".into()],
        };
        let (ops, tally) = plan_push_answer(
            &[sent(1), sent(2), sent(3)],
            &answer(
                vec![(1, PushOutcome::Applied), (2, merged), (3, refused())],
                3,
            ),
        );
        assert_eq!(
            tally,
            PushTally {
                applied: 1,
                merged: 1,
                rejected: 1,
                held: 0,
            }
        );
        assert_eq!(
            ops,
            [
                PushOp::KeepRefusal {
                    mutation: sent(3),
                    code: RejectCode::ForbiddenBucket,
                    message: "not your team".into(),
                },
                PushOp::DropOutboxThrough(3),
                PushOp::Acknowledged(sent(1)),
                PushOp::Acknowledged(sent(2)),
                PushOp::Revert {
                    entity: Entity::Visit,
                    record_id: Uuid::from_u128(3),
                    refused_create: true,
                },
                PushOp::ResolutionTaken("c1".into()),
                PushOp::AuditAckedThrough(4),
            ]
        );
    }

    #[test]
    fn a_refusal_of_a_mutation_not_sent_is_counted_but_keeps_nothing() {
        let (ops, tally) = plan_push_answer(&[sent(1)], &answer(vec![(7, refused())], 1));
        assert_eq!(tally.rejected, 1);
        assert!(!ops
            .iter()
            .any(|op| matches!(op, PushOp::KeepRefusal { .. })));
    }

    #[test]
    fn a_refused_update_reverts_its_record_once_however_many_edits_were_refused() {
        let mut a = sent(1);
        a.kind = MutationKind::Update;
        let mut b = sent(2);
        b.kind = MutationKind::Update;
        b.record_id = a.record_id;
        let (ops, _) = plan_push_answer(
            &[a.clone(), b],
            &answer(vec![(1, refused()), (2, refused())], 2),
        );
        let reverts: Vec<_> = ops
            .iter()
            .filter(|op| matches!(op, PushOp::Revert { .. }))
            .collect();
        assert_eq!(
            reverts,
            [&PushOp::Revert {
                entity: Entity::Visit,
                record_id: a.record_id,
                refused_create: false,
            }]
        );
    }

    #[test]
    fn server_too_old_is_held_under_the_answers_generation_not_refused() {
        let too_old = PushOutcome::Rejected {
            code: RejectCode::ServerTooOld,
            message: "this server does not know that field yet".into(),
        };
        let mut reply = answer(vec![(1, too_old)], 1);
        reply.model_generation = Some(3);
        let (ops, tally) = plan_push_answer(&[sent(1)], &reply);
        assert_eq!((tally.rejected, tally.held), (0, 1));
        assert_eq!(
            ops[0],
            PushOp::Hold {
                mutation: sent(1),
                generation: 3
            }
        );
        assert!(!ops
            .iter()
            .any(|op| matches!(op, PushOp::KeepRefusal { .. } | PushOp::Revert { .. })));
        // The same answer's generation releases only what was held under a lower one.
        assert!(ops.contains(&PushOp::ReleaseHeld(3)));
    }

    #[test]
    fn an_answer_without_a_generation_releases_nothing() {
        let (ops, _) = plan_push_answer(&[sent(1)], &answer(vec![(1, PushOutcome::Applied)], 1));
        assert!(!ops.iter().any(|op| matches!(op, PushOp::ReleaseHeld(_))));
    }

    #[test]
    fn an_answer_acknowledging_less_than_was_sent_drops_only_that_much() {
        let (ops, _) = plan_push_answer(
            &[sent(1), sent(2)],
            &answer(vec![(1, PushOutcome::Applied)], 1),
        );
        assert!(ops.contains(&PushOp::DropOutboxThrough(1)));
    }
}
