//! What a push answer does to the device's outbox, decided as a pure function of the
//! mutations sent and the server's answer. Returns the operations the store applies in one
//! transaction (`store::push::apply`) and the tally the sync report shows. Does no IO.

use pocketbook_protocol::wire::{PushOutcome, PushResponse};
use pocketbook_protocol::{Entity, Mutation, RejectCode};
use uuid::Uuid;

/// One thing a push answer does to the store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PushOp {
    /// Keep a refused mutation for `sync_status`, so the officer sees what was refused and why.
    KeepRefusal {
        /// Its sequence number on this device.
        seq: u64,
        /// The kind of record.
        entity: Entity,
        /// The record.
        record_id: Uuid,
        /// The server's code.
        code: RejectCode,
        /// The server's reason.
        message: String,
    },
    /// Drop every outbox entry up to and including this sequence number: the server holds
    /// them (applied, merged or quarantined).
    DropOutboxThrough(u64),
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
}

/// Plans what the answer to a push of `sent` does, in the order it must run.
pub(crate) fn plan_push_answer(
    sent: &[Mutation],
    answer: &PushResponse,
) -> (Vec<PushOp>, PushTally) {
    let mut tally = PushTally::default();
    let mut ops = Vec::new();
    for result in &answer.results {
        match &result.outcome {
            PushOutcome::Applied => tally.applied += 1,
            PushOutcome::Merged { .. } => tally.merged += 1,
            PushOutcome::Rejected { code, message } => {
                tally.rejected += 1;
                // A result for a mutation this device did not send names nothing to keep.
                if let Some(m) = sent.iter().find(|m| m.seq == result.seq) {
                    ops.push(PushOp::KeepRefusal {
                        seq: m.seq,
                        entity: m.entity.clone(),
                        record_id: m.record_id,
                        code: code.clone(),
                        message: message.clone(),
                    });
                }
            }
        }
    }
    ops.push(PushOp::DropOutboxThrough(answer.acked_seq));
    ops.extend(answer.resolved.iter().cloned().map(PushOp::ResolutionTaken));
    ops.push(PushOp::AuditAckedThrough(answer.audit_acked_seq));
    (ops, tally)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use pocketbook_protocol::wire::PushResult;
    use pocketbook_protocol::{Hlc, Marking, MutationKind, Version};

    use super::*;

    fn sent(seq: u64) -> Mutation {
        Mutation {
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
                rejected: 1
            }
        );
        assert_eq!(
            ops,
            [
                PushOp::KeepRefusal {
                    seq: 3,
                    entity: Entity::Visit,
                    record_id: Uuid::from_u128(3),
                    code: RejectCode::ForbiddenBucket,
                    message: "not your team".into(),
                },
                PushOp::DropOutboxThrough(3),
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
    fn an_answer_acknowledging_less_than_was_sent_drops_only_that_much() {
        let (ops, _) = plan_push_answer(
            &[sent(1), sent(2)],
            &answer(vec![(1, PushOutcome::Applied)], 1),
        );
        assert!(ops.contains(&PushOp::DropOutboxThrough(1)));
    }
}
