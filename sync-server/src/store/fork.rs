//! Forks detected (issue 12, DESIGN §5): a push compares what it resends with what the server
//! already took from this device instead of answering it unread. A mutation resent at a seq
//! the server holds must have the digest stored for that seq; an audit event resent at a seq
//! the server holds must equal the stored one; the position the device says was acknowledged
//! must name the server's audit head at that seq. Anything else is a second copy of the
//! device's store (a cloned or restored phone): `409 device_forked`, nothing applied, and the
//! longest prefix the server holds as sent, so the copy keeps what is its own and re-enrols
//! the rest under a new id. A position AHEAD of the server's is a restored server, not a fork
//! (answered before this check). Runs inside the caller's transaction.

use std::collections::BTreeMap;

use pocketbook_protocol::digest::mutation_digest;
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::wire::{AckedPosition, PushOutcome, PushRequest};
use pocketbook_protocol::{AuditEvent, Mutation, GENESIS_HASH};
use serde_json::json;

use super::decode::{corrupt, counter, db_int};
use super::meta::audit;
use super::sql::{args, Db};
use super::Device;
use crate::error::{PushRefusal, StoreError};

/// What the server holds of a device before a push: its high-water mark and audit head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPosition {
    /// Highest mutation seq taken.
    pub high_water: u64,
    /// Highest audit event seq taken.
    pub audit_seq: u64,
    /// Hash of that event (genesis when none).
    pub audit_head: String,
}

/// Where the longest prefix held as sent ends in the mutations: `Ok(seq)` when every resent
/// mutation with a stored digest matches, `Err(seq)` when one does not (the seq of the last
/// match before it, or `floor`). Only seqs at or below `high_water` are compared; a seq with
/// no stored digest (taken before digests were kept) is taken as before.
pub fn mutation_prefix(
    sent: &[Mutation],
    digests: &BTreeMap<u64, String>,
    high_water: u64,
    floor: u64,
) -> Result<u64, u64> {
    let mut prefix = floor.min(high_water);
    for m in sent.iter().filter(|m| m.seq <= high_water) {
        match digests.get(&m.seq) {
            Some(held) if *held != mutation_digest(m) => {
                return Err(prefix.min(m.seq.saturating_sub(1)))
            }
            _ => prefix = prefix.max(m.seq),
        }
    }
    Ok(prefix)
}

/// Where the longest prefix held as sent ends in the audit chain, as for
/// [`mutation_prefix`]: `floor` is the acknowledged `(seq, head)` both sides agree on; each
/// resent event at or below `audit_seq` must equal the stored one (missing rows are skipped).
pub fn audit_prefix(
    sent: &[AuditEvent],
    stored: &BTreeMap<u64, AuditEvent>,
    audit_seq: u64,
    floor: (u64, String),
) -> Result<(u64, String), (u64, String)> {
    let mut prefix = floor;
    for e in sent.iter().filter(|e| e.seq <= audit_seq) {
        match stored.get(&e.seq) {
            Some(held) if held != e => return Err(prefix),
            Some(held) if held.seq > prefix.0 => prefix = (held.seq, held.hash.clone()),
            _ => {}
        }
    }
    Ok(prefix)
}

/// Whether a device's acknowledged audit position names the server's chain: at or below the
/// server's head, the hash stored at that seq (genesis at 0) must be the one named. `stored`
/// is the hash the server holds at `acked.audit_seq`, if it holds a row there.
pub fn acked_agrees(acked: &AckedPosition, held: &HeldPosition, stored: Option<&str>) -> bool {
    if acked.audit_seq > held.audit_seq {
        // Ahead of the server: a restored server, not a fork (another check's answer).
        return true;
    }
    let expected = if acked.audit_seq == 0 {
        Some(GENESIS_HASH)
    } else if acked.audit_seq == held.audit_seq {
        Some(held.audit_head.as_str())
    } else {
        stored
    };
    expected.is_none_or(|h| h == acked.audit_head)
}

/// Compares a push with what the server holds; `Some(refusal)` (audited, nothing else
/// written) when it is a fork.
pub fn check(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    request: &PushRequest,
    held: &HeldPosition,
) -> Result<Option<PushRefusal>, StoreError> {
    let id = device.device_id.to_string();
    let digests = held_digests(db, &id, &request.mutations, held.high_water)?;
    let stored = held_events(db, &id, &request.audit, held.audit_seq)?;
    let mut acked_ok = true;
    let mut audit_floor = (0, GENESIS_HASH.to_string());
    let mut seq_floor = 0;
    if let Some(acked) = &request.acked {
        let at = if acked.audit_seq > 0 && acked.audit_seq < held.audit_seq {
            event_at(db, &id, acked.audit_seq)?.map(|e| e.hash)
        } else {
            None
        };
        acked_ok = acked_agrees(acked, held, at.as_deref());
        if acked_ok && acked.audit_seq <= held.audit_seq {
            audit_floor = (acked.audit_seq, acked.audit_head.clone());
        }
        seq_floor = acked.seq;
    }
    let mutations = mutation_prefix(&request.mutations, &digests, held.high_water, seq_floor);
    let events = audit_prefix(&request.audit, &stored, held.audit_seq, audit_floor);
    if acked_ok && mutations.is_ok() && events.is_ok() {
        return Ok(None);
    }
    let (mutation_mismatch, audit_mismatch) = (mutations.is_err(), events.is_err() || !acked_ok);
    let seq = mutations.unwrap_or_else(|s| s);
    let (audit_seq, audit_head) = events.unwrap_or_else(|p| p);
    audit(
        db,
        sources,
        "device_forked",
        Some(device.officer.id),
        Some(device.device_id),
        json!({
            "mutation_mismatch": mutation_mismatch,
            "audit_mismatch": audit_mismatch,
            "held_seq": seq,
            "held_audit_seq": audit_seq,
        }),
    )?;
    Ok(Some(PushRefusal::DeviceForked(AckedPosition {
        seq,
        audit_seq,
        audit_head,
    })))
}

/// Keeps the digest of a mutation taken at its seq (applied, merged or refused), in the
/// transaction that takes it.
pub fn remember(
    db: &mut dyn Db,
    device: &Device,
    m: &Mutation,
    outcome: &PushOutcome,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO mutation_digests (device_id, seq, digest, outcome) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (device_id, seq) DO UPDATE SET digest = excluded.digest,
             outcome = excluded.outcome",
        args![
            device.device_id.to_string(),
            db_int(m.seq),
            mutation_digest(m),
            serde_json::to_string(outcome).map_err(corrupt("push outcome"))?
        ],
    )?;
    Ok(())
}

/// The outcome the server gave the mutation a device sent at `seq`, to answer a resend with
/// (a refusal whose answer was lost is still a refusal). `Applied` for a seq taken before
/// outcomes were kept.
pub fn outcome_at(db: &mut dyn Db, device: &Device, seq: u64) -> Result<PushOutcome, StoreError> {
    let row = db.query_opt(
        "SELECT outcome FROM mutation_digests WHERE device_id = ?1 AND seq = ?2",
        args![device.device_id.to_string(), db_int(seq)],
    )?;
    match row {
        Some(row) => {
            serde_json::from_str(&row.text(0)?).map_err(|_| StoreError::Corrupt("push outcome"))
        }
        None => Ok(PushOutcome::Applied),
    }
}

/// The stored digests of the resent seqs (those at or below the high-water mark).
fn held_digests(
    db: &mut dyn Db,
    id: &str,
    sent: &[Mutation],
    high_water: u64,
) -> Result<BTreeMap<u64, String>, StoreError> {
    let resent: Vec<u64> = sent
        .iter()
        .map(|m| m.seq)
        .filter(|s| *s <= high_water)
        .collect();
    let (Some(first), Some(last)) = (resent.iter().min(), resent.iter().max()) else {
        return Ok(BTreeMap::new());
    };
    db.query(
        "SELECT seq, digest FROM mutation_digests WHERE device_id = ?1 AND seq >= ?2 AND seq <= ?3",
        args![id, db_int(*first), db_int(*last)],
    )?
    .iter()
    .map(|r| Ok((counter(r.int(0)?), r.text(1)?)))
    .collect()
}

/// The stored audit events at the resent seqs (those at or below the server's audit head).
fn held_events(
    db: &mut dyn Db,
    id: &str,
    sent: &[AuditEvent],
    audit_seq: u64,
) -> Result<BTreeMap<u64, AuditEvent>, StoreError> {
    let resent: Vec<u64> = sent
        .iter()
        .map(|e| e.seq)
        .filter(|s| *s <= audit_seq)
        .collect();
    let (Some(first), Some(last)) = (resent.iter().min(), resent.iter().max()) else {
        return Ok(BTreeMap::new());
    };
    db.query(
        "SELECT seq, event FROM device_audit WHERE device_id = ?1 AND seq >= ?2 AND seq <= ?3",
        args![id, db_int(*first), db_int(*last)],
    )?
    .iter()
    .map(|r| {
        let event: AuditEvent =
            serde_json::from_str(&r.text(1)?).map_err(corrupt("audit event"))?;
        Ok((counter(r.int(0)?), event))
    })
    .collect()
}

/// The stored audit event at one seq.
fn event_at(db: &mut dyn Db, id: &str, seq: u64) -> Result<Option<AuditEvent>, StoreError> {
    db.query_opt(
        "SELECT event FROM device_audit WHERE device_id = ?1 AND seq = ?2",
        args![id, db_int(seq)],
    )?
    .map(|r| serde_json::from_str(&r.text(0)?).map_err(corrupt("audit event")))
    .transpose()
}

#[cfg(test)]
#[path = "fork_tests.rs"]
mod tests;
