//! Conflicts the merge kept: listing them, and resolving one as an admin (keeping the value
//! that won; devices learn at their next sync).

use pocketbook_protocol::merge::Conflict;

use super::AdminError;
use crate::store::Store;

/// The open conflicts, or all with `all`, each with whether it is resolved.
pub async fn conflicts<S: Store>(
    store: &S,
    all: bool,
) -> Result<Vec<(Conflict, bool)>, AdminError> {
    Ok(store.conflicts(all).await?)
}

/// Resolves an open conflict.
pub async fn resolve_conflict<S: Store>(store: &S, id: String) -> Result<(), AdminError> {
    if store.resolve_conflict(id).await? {
        Ok(())
    } else {
        Err(AdminError::UnknownConflict)
    }
}
