//! Enrolment in the database: the per-client rate limit, kept in the database so every server
//! process sharing it counts the same attempts, and the exchange of a one-time code (by its
//! hash) for a device registration. Runs inside the caller's transaction.

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::GENESIS_HASH;
use serde_json::json;
use uuid::Uuid;

use super::clock::{now_ms, now_text};
use super::decode::parse_id;
use super::meta::audit;
use super::reference::{officer, provisioning_for};
use super::sql::{args, Db};
use super::Enrolment;
use crate::error::StoreError;

/// Records an enrolment attempt from `client`; whether it had already made `limit` in the last
/// minute. The caller commits this on its own, so failed attempts count too.
pub fn over_limit(
    db: &mut dyn Db,
    sources: &dyn Sources,
    client: &str,
    limit: i64,
) -> Result<bool, StoreError> {
    let now = now_ms(sources);
    db.execute(
        "DELETE FROM enrol_attempts WHERE at < ?1",
        args![now - 60_000],
    )?;
    let recent = db
        .query_one(
            "SELECT count(*) FROM enrol_attempts WHERE client = ?1",
            args![client],
        )?
        .int(0)?;
    db.execute(
        "INSERT INTO enrol_attempts (client, at) VALUES (?1, ?2)",
        args![client, now],
    )?;
    Ok(recent >= limit)
}

/// A device asking to enrol, with the hashes of its code and of the token it will be given.
pub struct NewDevice {
    /// SHA-256 of the one-time code.
    pub code_hash: String,
    /// The device's id.
    pub device_id: Uuid,
    /// The device's name.
    pub device_name: String,
    /// SHA-256 of its new token.
    pub token_hash: String,
}

/// Takes a live code and registers the device for the code's officer; their reference data.
pub fn exchange_code(
    db: &mut dyn Db,
    sources: &dyn Sources,
    device: &NewDevice,
) -> Result<Enrolment, StoreError> {
    let row = db.query_opt(
        "SELECT officer_id, expires_at, used_at FROM enrol_codes WHERE code_hash = ?1",
        args![&device.code_hash],
    )?;
    let live = match &row {
        Some(r) => r.opt_int(2)?.is_none() && r.int(1)? > now_ms(sources),
        None => false,
    };
    let Some(row) = row.filter(|_| live) else {
        audit(
            db,
            sources,
            "enrol_refused",
            None,
            Some(device.device_id),
            json!({}),
        )?;
        return Ok(Enrolment::BadCode);
    };
    let officer_id = parse_id(&row.text(0)?)?;
    let Some(me) = officer(db, officer_id)? else {
        return Ok(Enrolment::BadCode);
    };
    // Only an unused code is taken, so two servers racing on one code enrol one device.
    let taken = db.execute(
        "UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
        args![&device.code_hash, now_ms(sources)],
    )?;
    if taken == 0 {
        return Ok(Enrolment::BadCode);
    }
    db.execute(
        "INSERT INTO devices (device_id, officer_id, name, token_hash, enrolled_at, audit_head)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (device_id) DO UPDATE SET officer_id = excluded.officer_id,
             name = excluded.name, token_hash = excluded.token_hash,
             enrolled_at = excluded.enrolled_at",
        args![
            device.device_id.to_string(),
            officer_id.to_string(),
            &device.device_name,
            &device.token_hash,
            now_text(sources),
            GENESIS_HASH
        ],
    )?;
    audit(
        db,
        sources,
        "enrol",
        Some(officer_id),
        Some(device.device_id),
        json!({}),
    )?;
    Ok(Enrolment::Enrolled(provisioning_for(db, &me)?))
}
