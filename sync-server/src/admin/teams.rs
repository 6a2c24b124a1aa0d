//! Teams, and the officers in them: adding, listing, and moving an officer to other teams or
//! another role (their devices see the change at their next sync).

use pocketbook_protocol::{Officer, Role, Team};
use uuid::Uuid;

use super::AdminError;
use crate::store::Store;

/// Adds a team; names are unique.
pub async fn add_team<S: Store>(store: &S, name: String) -> Result<Team, AdminError> {
    Ok(store.add_team(name).await?)
}

/// Every team, by name.
pub async fn teams<S: Store>(store: &S) -> Result<Vec<Team>, AdminError> {
    Ok(store.teams().await?)
}

/// An officer to add.
#[derive(Debug, Clone)]
pub struct NewOfficer {
    /// Full name.
    pub name: String,
    /// Shoulder / warrant number.
    pub shoulder_number: String,
    /// Role.
    pub role: Role,
    /// Their teams (known team ids); the first is their home team.
    pub team_ids: Vec<Uuid>,
}

/// Adds an officer.
pub async fn add_officer<S: Store>(store: &S, new: NewOfficer) -> Result<Officer, AdminError> {
    Ok(store
        .add_officer(new.name, new.shoulder_number, new.role, new.team_ids)
        .await?)
}

/// Moves an officer to other teams (when `team_ids` is not empty, replacing the old ones)
/// and/or another role; the officer as updated.
pub async fn update_officer<S: Store>(
    store: &S,
    id: Uuid,
    team_ids: Vec<Uuid>,
    role: Option<Role>,
) -> Result<Officer, AdminError> {
    let mut officer = store
        .officers()
        .await?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or(AdminError::UnknownOfficer)?;
    if !team_ids.is_empty() {
        officer.team_ids = team_ids;
    }
    if let Some(role) = role {
        officer.role = role;
    }
    store.update_officer(officer.clone()).await?;
    Ok(officer)
}

/// Every officer, by id.
pub async fn officers<S: Store>(store: &S) -> Result<Vec<Officer>, AdminError> {
    Ok(store.officers().await?)
}
