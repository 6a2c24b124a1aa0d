//! The quiet phase and the invariants. With the faults stopped everyone syncs until a whole
//! round moves nothing; then: every device equals the server's view of its buckets (a fresh
//! witness device of the same officer, synced from nothing, holds exactly what it holds:
//! records and open conflicts); each acknowledged mutation is in the server's current state,
//! superseded by a higher version, or in exactly one conflict; every record a device created
//! is on the server (perhaps deleted) or refused into its quarantine; nothing is left in an
//! outbox; every audit chain verifies, the devices' and the server's.

use std::collections::{BTreeMap, BTreeSet};

use pocketbook_core::model::{ConcernFilter, VisitFilter};
use pocketbook_core::{MutationKind, Pocketbook};
use pocketbook_protocol::merge::{rule, FieldRule};
use pocketbook_protocol::Version;
use pocketbook_sync_server::store::Store;
use serde_json::Value;

use super::world::World;

/// Most rounds of syncing everyone before the world must be quiet.
const MAX_ROUNDS: usize = 12;

/// Syncs everyone until quiet, then checks every invariant; what failed, in words.
pub async fn settle_and_check(world: &mut World) -> Vec<String> {
    let mut failures = Vec::new();
    settle(world, &mut failures).await;
    compare_with_witnesses(world, &mut failures).await;
    check_ledger(world, &mut failures);
    for device in world.devices.iter().filter(|d| !d.wiped) {
        if let Err(e) = device.book().verify_audit_chain() {
            failures.push(format!(
                "d{}: audit chain does not verify: {e}",
                device.index
            ));
        }
    }
    match world.net.store().verify_audit().await {
        Ok(report) if report.broken.is_none() => {}
        Ok(report) => failures.push(format!("server audit chain broken at {:?}", report.broken)),
        Err(e) => failures.push(format!("server audit chain unreadable: {e}")),
    }
    failures
}

async fn settle(world: &mut World, failures: &mut Vec<String>) {
    for round in 0..MAX_ROUNDS {
        let mut moved = false;
        let mut errors = Vec::new();
        for device in world.devices.iter_mut().filter(|d| !d.wiped) {
            match device.sync().await {
                Ok(r) => {
                    moved |=
                        r.pushed + r.rejected + r.held + r.pulled + r.removed + r.conflicts > 0;
                }
                Err(kind) => {
                    moved = true;
                    errors.push(format!(
                        "d{}: sync failed on a perfect network: {kind}",
                        device.index
                    ));
                }
            }
            world
                .trace
                .line(&format!("settle {round} d{}", device.index));
        }
        if !moved {
            for device in world.devices.iter().filter(|d| !d.wiped) {
                match device.book().pending_changes() {
                    Ok(p) if p.is_empty() => {}
                    Ok(p) => {
                        failures.push(format!("d{}: {} changes never sent", device.index, p.len()))
                    }
                    Err(e) => failures.push(format!("d{}: outbox unreadable: {e}", device.index)),
                }
            }
            return;
        }
        if round + 1 == MAX_ROUNDS {
            failures.extend(errors);
        }
    }
    failures.push(format!(
        "not quiet after {MAX_ROUNDS} rounds of syncing everyone"
    ));
}

/// What a device shows: every record it holds and every open conflict, by key.
fn snapshot(book: &Pocketbook) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for p in book.find_young_people("").unwrap_or_default() {
        all.insert(format!("young_person {}", p.id), json(&p));
    }
    for v in book.visits(&VisitFilter::default()).unwrap_or_default() {
        all.insert(format!("visit {}", v.id), json(&v));
    }
    for c in book.concerns(&ConcernFilter::default()).unwrap_or_default() {
        for a in book.addenda(c.id).unwrap_or_default() {
            all.insert(format!("addendum {}", a.id), json(&a));
        }
        all.insert(format!("concern {}", c.id), json(&c));
    }
    for c in book.conflicts().unwrap_or_default() {
        all.insert(format!("conflict {}", c.id), json(&c));
    }
    all
}

/// Any record as JSON.
fn json<T: serde::Serialize>(record: &T) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// A fresh device per officer, synced from nothing, is the server's view of that officer's
/// buckets: each of the officer's devices must hold exactly the same.
async fn compare_with_witnesses(world: &mut World, failures: &mut Vec<String>) {
    let officers: BTreeSet<usize> = world
        .devices
        .iter()
        .filter(|d| !d.wiped)
        .map(|d| d.officer)
        .collect();
    for officer in officers {
        let index = 100 + officer;
        let mut witness = world.enrolled_device(index, officer).await;
        if let Err(kind) = witness.sync().await {
            failures.push(format!("witness of officer {officer}: sync failed: {kind}"));
            continue;
        }
        let expected = snapshot(witness.book());
        for device in world
            .devices
            .iter()
            .filter(|d| !d.wiped && d.officer == officer)
        {
            let held = snapshot(device.book());
            if held != expected {
                let missing: Vec<&String> = expected
                    .keys()
                    .filter(|k| held.get(*k) != expected.get(*k))
                    .take(3)
                    .collect();
                let extra: Vec<&String> = held
                    .keys()
                    .filter(|k| !expected.contains_key(*k))
                    .take(3)
                    .collect();
                failures.push(format!(
                    "d{} differs from the server's view of its buckets ({} vs {} items; differing {missing:?}; extra {extra:?})",
                    device.index,
                    held.len(),
                    expected.len()
                ));
            }
        }
    }
}

/// A record row on the server.
struct ServerRecord {
    fields: BTreeMap<String, Value>,
    versions: BTreeMap<String, Version>,
    deleted: bool,
}

/// Every acknowledged mutation is held, superseded or in exactly one conflict; every created
/// record is on the server or in its quarantine; every refusal a device keeps is quarantined.
fn check_ledger(world: &World, failures: &mut Vec<String>) {
    let conn = rusqlite::Connection::open(world.net.server_path()).expect("server file opens");
    let record = |id: &str| -> Option<ServerRecord> {
        conn.query_row(
            "SELECT fields, versions, deleted FROM records WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .ok()
        .map(|(f, v, d)| ServerRecord {
            fields: serde_json::from_str(&f).unwrap_or_default(),
            versions: serde_json::from_str(&v).unwrap_or_default(),
            deleted: d != 0,
        })
    };
    let mut quarantined: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut quarantined_records: BTreeSet<String> = BTreeSet::new();
    // (device, record) of each quarantined change: a refusal a device kept from an earlier
    // identity is renumbered out of its new id's range, so it is found by its record.
    let mut quarantined_by_record: BTreeSet<(String, String)> = BTreeSet::new();
    if let Ok(mut stmt) = conn.prepare("SELECT device_id, seq, mutation FROM quarantine") {
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        });
        for (device, seq, mutation) in rows.into_iter().flatten().flatten() {
            if let Ok(m) = serde_json::from_str::<pocketbook_core::Mutation>(&mutation) {
                quarantined_records.insert(m.record_id.to_string());
                quarantined_by_record.insert((device.clone(), m.record_id.to_string()));
            }
            quarantined.insert((device, u64::try_from(seq).unwrap_or(0)));
        }
    }
    let conflicts_of = |record: &str| -> Vec<pocketbook_core::Conflict> {
        let Ok(mut stmt) = conn.prepare("SELECT data FROM conflicts WHERE record_id = ?1") else {
            return Vec::new();
        };
        stmt.query_map([record], |r| r.get::<_, String>(0))
            .map(|rows| {
                rows.flatten()
                    .filter_map(|d| serde_json::from_str(&d).ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let sent = world.net.sent();
    let lost = &world.restores.lost_everywhere;
    let lost_above = &world.restores.lost_above;
    for device in &world.devices {
        for (identity, ledger) in device.ledgers.iter().enumerate() {
            let identity = u32::try_from(identity).unwrap_or(u32::MAX);
            let device_id = ledger.id.to_string();
            for seq in &ledger.acked {
                let Some(sendings) = sent.get(&(device.index, identity, *seq)) else {
                    continue;
                };
                if quarantined.contains(&(device_id.clone(), *seq)) {
                    continue;
                }
                if sendings
                    .iter()
                    .any(|m| lost.contains(&m.record_id.to_string()))
                {
                    continue;
                }
                // The server holds whichever sending arrived first: one must check out.
                let verdicts: Vec<Result<(), String>> = sendings
                    .iter()
                    .map(|m| acknowledged_holds(m, &record, &conflicts_of, lost_above))
                    .collect();
                if !verdicts.iter().any(Result::is_ok) {
                    for verdict in verdicts.into_iter().filter_map(Result::err) {
                        failures.push(format!(
                            "d{} (identity {identity}) seq {seq}: {verdict}",
                            device.index
                        ));
                    }
                }
            }
        }
        let device_id = device.id().to_string();
        for (entity, id) in &device.created {
            let id = id.to_string();
            if record(&id).is_none() && !quarantined_records.contains(&id) && !lost.contains(&id) {
                failures.push(format!(
                    "d{}: a {} it recorded is neither on the server nor in its quarantine",
                    device.index,
                    entity.as_str()
                ));
            }
        }
        if !device.wiped {
            if let Ok(status) = device.book().sync_status() {
                for r in status.rejected {
                    let by_an_earlier_identity = device.ledgers.iter().any(|l| {
                        quarantined_by_record.contains(&(l.id.to_string(), r.record_id.to_string()))
                    });
                    let held = quarantined.contains(&(device_id.clone(), r.seq))
                        || (device.ledgers.len() > 1 && by_an_earlier_identity);
                    if !held {
                        failures.push(format!(
                            "d{} seq {}: refused, but not in the server's quarantine",
                            device.index, r.seq
                        ));
                    }
                }
            }
        }
    }
}

/// Whether the JSON array `held` holds every element of the array `added`.
fn contains_all(held: Option<&Value>, added: &Value) -> bool {
    let held = held.and_then(Value::as_array).cloned().unwrap_or_default();
    added
        .as_array()
        .is_none_or(|added| added.iter().all(|e| held.contains(e)))
}

/// Whether an acknowledged mutation is on the server: its record there (or deleted), and each
/// field it set held at its version, superseded by a higher one, or in exactly one conflict.
fn acknowledged_holds(
    m: &pocketbook_core::Mutation,
    record: &dyn Fn(&str) -> Option<ServerRecord>,
    conflicts_of: &dyn Fn(&str) -> Vec<pocketbook_core::Conflict>,
    lost_above: &std::collections::BTreeMap<(String, String), String>,
) -> Result<(), String> {
    let id = m.record_id.to_string();
    let Some(row) = record(&id) else {
        return Err("acknowledged, but its record is not on the server".into());
    };
    if row.deleted {
        return Ok(());
    }
    if m.kind == MutationKind::Delete {
        return Err("an acknowledged delete, but the record is not deleted".into());
    }
    for (field, value) in &m.fields {
        let held = row.versions.get(field);
        // A restore carries each field at its own version.
        let version = m
            .versions
            .as_ref()
            .and_then(|versions| versions.get(field))
            .unwrap_or(&m.version);
        // An edit only the server held, made after its backup, restored away with no copy
        // left anywhere.
        let lost_everywhere = lost_above
            .get(&(id.clone(), field.clone()))
            .is_some_and(|kept| version.to_string() > *kept);
        let fine = match held {
            _ if lost_everywhere => true,
            Some(v) if v > version => true,
            // Sets merge add-wins: the elements it added (its delta's, or a create's whole
            // set) are all still there.
            Some(v) if v == version && rule(&m.entity, field) == FieldRule::AddWinsSet => {
                match m.sets.get(field) {
                    Some(delta) => {
                        contains_all(row.fields.get(field), &Value::from(delta.added.clone()))
                    }
                    None => contains_all(row.fields.get(field), value),
                }
            }
            // Held at its version with its value; a value that lost (a lower risk) leaves
            // the field at its version too, and is then in a conflict.
            Some(v) if v == version && row.fields.get(field) == Some(value) => true,
            _ => {
                conflicts_of(&id)
                    .iter()
                    .filter(|c| c.field == *field && c.losing_version == *version)
                    .count()
                    == 1
            }
        };
        if !fine {
            return Err(format!(
                "acknowledged {field} ({:?} {}) neither held, superseded nor in one conflict (server {})",
                m.kind,
                version,
                held.map_or("none".to_string(), ToString::to_string)
            ));
        }
    }
    Ok(())
}
