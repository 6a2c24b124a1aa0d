//! Enrolment in the database: the per-client rate limit, kept in the database so every server
//! process sharing it counts the same attempts, and the exchange of a one-time code (by its
//! hash) for a device registration. Runs inside the caller's transaction.
//!
//! A device id the server already holds is never taken by a code alone (issue 11): the request
//! must prove possession of that device's current or an earlier token; then it is a
//! re-authentication that keeps the device's id, high-water marks and audit chain.

use pocketbook_protocol::sources::Sources;
use pocketbook_protocol::GENESIS_HASH;
use serde_json::json;
use uuid::Uuid;

use super::clock::{now_ms, now_text};
use super::decode::parse_id;
use super::meta::audit;
use super::reference::{officer, provisioning_for};
use super::sql::{args, Db, Param};
use super::Enrolment;
use crate::error::StoreError;
use crate::journal::{record, Action};

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
    /// SHA-256 of the token the request presents as proof of possession, if any.
    pub proof_hash: Option<String>,
    /// The new lease end (ms since the epoch), if the caller sets one.
    pub lease_until_ms: Option<i64>,
}

/// What the server holds about a device id an enrolment names.
struct Held {
    officer_id: String,
    token_hash: String,
    revoked: bool,
    /// Enrolled, but no request with its token ever arrived: the enrolment's answer may
    /// never have reached the device.
    never_used: bool,
}

fn held(db: &mut dyn Db, device_id: Uuid) -> Result<Option<Held>, StoreError> {
    db.query_opt(
        "SELECT officer_id, token_hash, revoked_at, last_sync_at FROM devices
         WHERE device_id = ?1",
        args![device_id.to_string()],
    )?
    .map(|r| {
        Ok(Held {
            officer_id: r.text(0)?,
            token_hash: r.text(1)?,
            revoked: r.opt_text(2)?.is_some(),
            never_used: r.opt_text(3)?.is_none(),
        })
    })
    .transpose()
}

/// Whether `proof_hash` is the hash of a token `device_id` holds or held.
fn proves(
    db: &mut dyn Db,
    device_id: Uuid,
    held: &Held,
    proof_hash: Option<&str>,
) -> Result<bool, StoreError> {
    let Some(proof) = proof_hash else {
        return Ok(false);
    };
    if proof == held.token_hash {
        return Ok(true);
    }
    Ok(db
        .query_opt(
            "SELECT 1 FROM device_tokens WHERE token_hash = ?1 AND device_id = ?2",
            args![proof, device_id.to_string()],
        )?
        .is_some())
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
    // A device id the server holds: only its owner, proving possession of its token, may
    // re-authenticate it; the code must be that officer's. Nothing changes otherwise. An
    // enrolment whose token was never used (its answer lost, as a duplicated request's second
    // answer `code used` hides the first) may be taken again with a new code of the same
    // officer, or the phone could never enrol that id.
    let existing = held(db, device.device_id)?;
    if let Some(existing) = &existing {
        let refusal = if existing.revoked {
            Some(("enrol_refused_revoked", Enrolment::Revoked))
        } else if existing.officer_id != officer_id.to_string()
            || !(existing.never_used
                || proves(db, device.device_id, existing, device.proof_hash.as_deref())?)
        {
            Some(("enrol_refused_taken", Enrolment::Taken))
        } else {
            None
        };
        if let Some((operation, outcome)) = refusal {
            audit(
                db,
                sources,
                operation,
                Some(officer_id),
                Some(device.device_id),
                json!({}),
            )?;
            return Ok(outcome);
        }
    }
    // Only an unused code is taken, so two servers racing on one code enrol one device.
    let taken = db.execute(
        "UPDATE enrol_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL",
        args![&device.code_hash, now_ms(sources)],
    )?;
    if taken == 0 {
        return Ok(Enrolment::BadCode);
    }
    let reauthenticating = existing.is_some();
    if let Some(existing) = existing {
        db.execute(
            "INSERT INTO device_tokens (token_hash, device_id, retired_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (token_hash) DO NOTHING",
            args![
                &existing.token_hash,
                device.device_id.to_string(),
                now_text(sources)
            ],
        )?;
        db.execute(
            "UPDATE devices SET name = ?2, token_hash = ?3, lease_until = ?4 WHERE device_id = ?1",
            args![
                device.device_id.to_string(),
                &device.device_name,
                &device.token_hash,
                device.lease_until_ms.map_or(Param::Null, Param::Int)
            ],
        )?;
    } else {
        db.execute(
            "INSERT INTO devices (device_id, officer_id, name, token_hash, enrolled_at, audit_head,
                 lease_until)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            args![
                device.device_id.to_string(),
                officer_id.to_string(),
                &device.device_name,
                &device.token_hash,
                now_text(sources),
                GENESIS_HASH,
                device.lease_until_ms.map_or(Param::Null, Param::Int)
            ],
        )?;
    }
    audit(
        db,
        sources,
        if reauthenticating {
            "reauthenticate"
        } else {
            "enrol"
        },
        Some(officer_id),
        Some(device.device_id),
        json!({}),
    )?;
    let action = Action::Enrol {
        device_id: device.device_id,
        officer_id,
        device_name: device.device_name.clone(),
        token_hash: device.token_hash.clone(),
        code_hash: device.code_hash.clone(),
        lease_until_ms: device.lease_until_ms,
    };
    record(db, sources, action)?;
    Ok(Enrolment::Enrolled(provisioning_for(db, &me)?))
}

/// Stores a one-time code (by its hash) for an officer, valid for `ttl_seconds`; audited and
/// journaled (the hash, never the code).
pub fn add_code(
    db: &mut dyn Db,
    sources: &dyn Sources,
    officer_id: Uuid,
    code_hash: &str,
    ttl_seconds: i64,
) -> Result<(), StoreError> {
    if officer(db, officer_id)?.is_none() {
        return Err(StoreError::Invalid("unknown officer".into()));
    }
    let expires_at_ms = now_ms(sources) + ttl_seconds * 1000;
    db.execute(
        "INSERT INTO enrol_codes (code_hash, officer_id, expires_at) VALUES (?1, ?2, ?3)",
        args![code_hash, officer_id.to_string(), expires_at_ms],
    )?;
    audit(
        db,
        sources,
        "admin_issue_code",
        Some(officer_id),
        None,
        json!({}),
    )?;
    let code_hash = code_hash.to_string();
    let action = Action::IssueCode {
        code_hash,
        officer_id,
        expires_at_ms,
    };
    record(db, sources, action)
}
