//! Per-device caps: a device whose refused mutations or stored audit events pass their bound
//! (`protocol::limits`) is suspended — every authenticated request then answers
//! `403 device_suspended` — until an admin lifts it. Lifting moves the device's floors, so only
//! what comes after counts against the caps again. Runs inside the caller's transaction.

use pocketbook_protocol::limits::{MAX_AUDIT_ROWS_PER_DEVICE, MAX_QUARANTINED_PER_DEVICE};
use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::RejectCode;
use serde_json::json;
use uuid::Uuid;

use super::clock::now_text;
use super::decode::counter;
use super::meta::audit;
use super::sql::{args, Db};
use super::Device;
use crate::error::StoreError;

/// Suspends the device if a push just took it past a cap (a `server_too_old` refusal is the
/// server's shortcoming, not the device's, and never counts): `refused_now` says whether the push
/// quarantined anything (only then is the quarantine counted), `audit_seq` is the device's
/// audit chain position after the push (its events are numbered from 1 without gaps).
pub fn enforce(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &Device,
    refused_now: bool,
    audit_seq: u64,
) -> Result<(), StoreError> {
    let id = device.device_id.to_string();
    let row = db.query_one(
        "SELECT quarantine_floor, audit_floor FROM devices WHERE device_id = ?1",
        args![&id],
    )?;
    let (quarantine_floor, audit_floor) = (row.int(0)?, row.int(1)?);
    let mut reason = None;
    if audit_seq.saturating_sub(counter(audit_floor)) > MAX_AUDIT_ROWS_PER_DEVICE {
        reason = Some("audit_rows");
    } else if refused_now {
        let refused = db
            .query_one(
                "SELECT count(*) FROM quarantine
                 WHERE device_id = ?1 AND id > ?2 AND code <> ?3",
                args![&id, quarantine_floor, RejectCode::ServerTooOld.as_str()],
            )?
            .int(0)?;
        if counter(refused) > u64::try_from(MAX_QUARANTINED_PER_DEVICE).unwrap_or(u64::MAX) {
            reason = Some("quarantined");
        }
    }
    let Some(reason) = reason else {
        return Ok(());
    };
    let n = db.execute(
        "UPDATE devices SET suspended_at = ?2 WHERE device_id = ?1 AND suspended_at IS NULL",
        args![&id, now_text(sources)],
    )?;
    if n > 0 {
        tracing::warn!(device = %device.device_id, reason, "device suspended");
        audit(
            db,
            sources,
            "suspend_device",
            Some(device.officer.id),
            Some(device.device_id),
            json!({ "reason": reason }),
        )?;
    }
    Ok(())
}

/// Lifts a device's suspension (an admin's act, audited); false when it was not suspended.
pub fn lift(db: &mut dyn Db, sources: &dyn Sources, device_id: Uuid) -> Result<bool, StoreError> {
    let id = device_id.to_string();
    let floor = db
        .query_one(
            "SELECT coalesce(max(id), 0) FROM quarantine WHERE device_id = ?1",
            args![&id],
        )?
        .int(0)?;
    let n = db.execute(
        "UPDATE devices SET suspended_at = NULL, quarantine_floor = ?2, audit_floor = audit_seq
         WHERE device_id = ?1 AND suspended_at IS NOT NULL",
        args![&id, floor],
    )?;
    if n > 0 {
        audit(
            db,
            sources,
            "admin_lift_suspension",
            None,
            Some(device_id),
            json!({}),
        )?;
        crate::journal::record(
            db,
            sources,
            crate::journal::Action::LiftSuspension { device_id },
        )?;
    }
    Ok(n > 0)
}
