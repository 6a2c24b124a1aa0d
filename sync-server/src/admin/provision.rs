//! Bulk provisioning for load tests and rehearsals: teams of officers, each with one
//! enrolment code, handed back one officer at a time so a caller can print as they are made.

use pocketbook_protocol::Role;
use uuid::Uuid;

use super::{check_ttl_hours, AdminError};
use crate::secrets::{code_hash, new_code_from};
use crate::store::Store;

/// What to provision.
#[derive(Debug, Clone)]
pub struct ProvisionPlan {
    /// Teams to add (1 to 10,000).
    pub teams: u32,
    /// Officers in each team (1 to 1,000).
    pub officers_per_team: u32,
    /// Name prefix of the teams (team names are unique): `{prefix} 1`, `{prefix} 2`, …
    pub prefix: String,
    /// Hours until the codes expire (1 to 336).
    pub ttl_hours: i64,
}

/// One provisioned officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provisioned {
    /// Their team.
    pub team_id: Uuid,
    /// The officer.
    pub officer_id: Uuid,
    /// Their one-time enrolment code.
    pub code: String,
}

/// Adds the plan's teams and officers (`Officer {team}-{n}`, role officer, numbered from
/// 10,000) with a code each, calling `each` as every officer is made.
pub async fn provision<S: Store>(
    store: &S,
    plan: &ProvisionPlan,
    mut each: impl FnMut(Provisioned),
) -> Result<(), AdminError> {
    if !(1..=10_000).contains(&plan.teams) || !(1..=1_000).contains(&plan.officers_per_team) {
        return Err(AdminError::ProvisionOutOfRange);
    }
    check_ttl_hours(plan.ttl_hours)?;
    for t in 0..plan.teams {
        let team = store.add_team(format!("{} {}", plan.prefix, t + 1)).await?;
        for n in 0..plan.officers_per_team {
            let officer = store
                .add_officer(
                    format!("Officer {}-{}", t + 1, n + 1),
                    format!("{}", 10_000 + t * plan.officers_per_team + n),
                    Role::Officer,
                    vec![team.id],
                )
                .await?;
            let code = new_code_from(store.sources().as_ref());
            store
                .add_code(officer.id, code_hash(&code), plan.ttl_hours * 3600)
                .await?;
            each(Provisioned {
                team_id: team.id,
                officer_id: officer.id,
                code,
            });
        }
    }
    Ok(())
}
