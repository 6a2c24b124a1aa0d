//! One-time enrolment codes: issued for an officer from the store's sources of randomness,
//! kept only as their hash, valid for a number of hours.

use uuid::Uuid;

use super::{check_ttl_hours, AdminError};
use crate::secrets::{code_hash, new_code_from};
use crate::store::Store;

/// Issues a one-time enrolment code for an officer, valid for `ttl_hours` (1 to 336); the code,
/// to hand to the officer. Only its hash is stored.
pub async fn issue_code<S: Store>(
    store: &S,
    officer: Uuid,
    ttl_hours: i64,
) -> Result<String, AdminError> {
    check_ttl_hours(ttl_hours)?;
    let code = new_code_from(store.sources().as_ref());
    store
        .add_code(officer, code_hash(&code), ttl_hours * 3600)
        .await?;
    Ok(code)
}
