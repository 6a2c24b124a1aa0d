//! Who a request comes from (issue 11): a token's device and whether its lease still holds,
//! enrolment counted per client address and per code, and the lease a sync renews. The
//! takeover refusal itself is in [`super::enrol`].

use pocketbook_protocol::sources::Sources;

use super::clock::{now_ms, now_text};
use super::decode::parse_id;
use super::enrol;
use super::meta::audit;
use super::reference::officer;
use super::sql::{args, Db};
use super::sql_store::{Backend, SqlStore};
use super::{Device, EnrolAttempt, Enrolment, TokenCheck};
use crate::error::StoreError;
use crate::journal::{record, Action};
use serde_json::json;
use uuid::Uuid;

/// Looks a token (by its hash) up: its device, and whether it is revoked, suspended or past
/// its lease (a lease not yet recorded holds until the device's next sync records one).
pub fn check_token(
    db: &mut dyn Db,
    sources: &dyn Sources,
    token_hash: &str,
) -> Result<TokenCheck, StoreError> {
    let Some(row) = db.query_opt(
        "SELECT device_id, officer_id, revoked_at, suspended_at, lease_until FROM devices
         WHERE token_hash = ?1",
        args![token_hash],
    )?
    else {
        return Ok(TokenCheck::Unknown);
    };
    if row.opt_text(2)?.is_some() {
        return Ok(TokenCheck::Revoked);
    }
    if row.opt_text(3)?.is_some() {
        return Ok(TokenCheck::Suspended);
    }
    let Some(officer) = officer(db, parse_id(&row.text(1)?)?)? else {
        return Ok(TokenCheck::Unknown);
    };
    let device = Device {
        device_id: parse_id(&row.text(0)?)?,
        officer,
    };
    match row.opt_int(4)? {
        Some(lease_until_ms) if lease_until_ms <= now_ms(sources) => Ok(TokenCheck::Lapsed {
            device,
            lease_until_ms,
        }),
        _ => Ok(TokenCheck::Valid(device)),
    }
}

/// The rate-limit key of an enrolment code (by a prefix of its hash, never the code).
fn code_key(code_hash: &str) -> String {
    format!("code:{}", code_hash.get(..16).unwrap_or(code_hash))
}

/// Counts the attempt against its client address and its code (each committed on its own, so
/// failed attempts count too), then exchanges the code.
pub async fn enroll<B: Backend>(
    store: &SqlStore<B>,
    attempt: EnrolAttempt,
) -> Result<Enrolment, StoreError> {
    let limit = store.enrol_limit;
    let keys = [attempt.client.clone(), code_key(&attempt.code_hash)];
    let limited = store
        .run(move |db, sources| {
            let mut over = false;
            for key in &keys {
                over |= enrol::over_limit(db, sources, key, limit)?;
            }
            Ok(over)
        })
        .await?;
    if limited {
        return Ok(Enrolment::RateLimited);
    }
    let device = enrol::NewDevice {
        code_hash: attempt.code_hash,
        device_id: attempt.device_id,
        device_name: attempt.device_name,
        token_hash: attempt.token_hash,
        proof_hash: attempt.proof_hash,
        lease_until_ms: attempt.lease_until_ms,
    };
    store
        .run(move |db, sources| enrol::exchange_code(db, sources, &device))
        .await
}

/// An attempt without proof of possession or lease (the store's original `enroll`).
pub fn plain(
    code_hash: String,
    device_id: Uuid,
    device_name: String,
    token_hash: String,
    client: String,
) -> EnrolAttempt {
    EnrolAttempt {
        code_hash,
        device_id,
        device_name,
        token_hash,
        client,
        proof_hash: None,
        lease_until_ms: None,
    }
}

/// Sets a device's lease end.
pub fn renew_lease(
    db: &mut dyn Db,
    device_id: Uuid,
    lease_until_ms: i64,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE devices SET lease_until = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
        args![device_id.to_string(), lease_until_ms],
    )?;
    Ok(())
}

/// Revokes a live device (audited and journaled); false when there is none.
pub fn revoke(db: &mut dyn Db, sources: &dyn Sources, device_id: Uuid) -> Result<bool, StoreError> {
    let n = db.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
        args![device_id.to_string(), now_text(sources)],
    )?;
    if n > 0 {
        audit(
            db,
            sources,
            "admin_revoke",
            None,
            Some(device_id),
            json!({}),
        )?;
        record(db, sources, Action::Revoke { device_id })?;
    }
    Ok(n > 0)
}
