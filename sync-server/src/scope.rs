//! Who may see and write what (DESIGN §5 "Buckets", §6): the buckets of an officer, and the
//! buckets a record lives in. Pure functions; the stores apply them.

use pocketbook_protocol::wire::{sensitive_bucket, team_bucket};
use pocketbook_protocol::{Marking, Officer, Role};
use uuid::Uuid;

/// The bucket holding one officer's own sensitive records, so an author keeps seeing what they
/// wrote even when their role does not open the team's sensitive bucket.
pub fn author_bucket(officer_id: Uuid) -> String {
    format!("author:{officer_id}")
}

/// Whether the role sees every team's records (auditors and admins).
pub fn force_wide(role: Role) -> bool {
    matches!(role, Role::Auditor | Role::Admin)
}

/// Whether the role opens sensitive buckets.
pub fn sees_sensitive(role: Role) -> bool {
    matches!(
        role,
        Role::Supervisor | Role::SafeguardingLead | Role::Auditor | Role::Admin
    )
}

/// The buckets an officer may pull, given every team id (for force-wide roles).
pub fn buckets_of(officer: &Officer, all_teams: &[Uuid]) -> Vec<String> {
    let teams: &[Uuid] = if force_wide(officer.role) {
        all_teams
    } else {
        &officer.team_ids
    };
    let mut out: Vec<String> = teams.iter().map(|t| team_bucket(*t)).collect();
    if sees_sensitive(officer.role) {
        out.extend(teams.iter().map(|t| sensitive_bucket(*t)));
    }
    out.push(author_bucket(officer.id));
    out.sort();
    out.dedup();
    out
}

/// The buckets a record lives in, knowing the author's current teams: its team's (sensitive)
/// bucket, and for a sensitive record its author's bucket only while the author still belongs
/// to the record's team (an officer who moves team stops seeing the old team's sensitive
/// records).
pub fn buckets_of_record_for(
    team_id: Uuid,
    marking: Marking,
    created_by: Uuid,
    author_teams: &[Uuid],
) -> Vec<String> {
    match marking {
        Marking::Official => vec![team_bucket(team_id)],
        Marking::OfficialSensitive if author_teams.contains(&team_id) => {
            vec![sensitive_bucket(team_id), author_bucket(created_by)]
        }
        Marking::OfficialSensitive => vec![sensitive_bucket(team_id)],
    }
}

/// Whether the officer may write a record of `team_id` (only into their own teams' buckets;
/// force-wide roles anywhere).
pub fn may_write(officer: &Officer, team_id: Uuid) -> bool {
    force_wide(officer.role) || officer.team_ids.contains(&team_id)
}

/// Whether an officer may change a record they can see under this marking.
pub fn may_alter(officer: &Officer, team_id: Uuid, marking: Marking, created_by: Uuid) -> bool {
    may_write(officer, team_id)
        && (marking == Marking::Official
            || created_by == officer.id
            || sees_sensitive(officer.role))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(role: Role, teams: &[u128]) -> Officer {
        Officer {
            id: Uuid::from_u128(1),
            name: "x".into(),
            shoulder_number: "1".into(),
            role,
            team_ids: teams.iter().map(|t| Uuid::from_u128(*t)).collect(),
        }
    }

    #[test]
    fn officers_see_their_teams_supervisors_also_sensitive_auditors_everything() {
        let all = [Uuid::from_u128(10), Uuid::from_u128(20)];
        let peer = buckets_of(&officer(Role::Officer, &[10]), &all);
        assert!(peer.contains(&team_bucket(all[0])));
        assert!(!peer.contains(&sensitive_bucket(all[0])));
        assert!(!peer.contains(&team_bucket(all[1])));
        let sup = buckets_of(&officer(Role::Supervisor, &[10]), &all);
        assert!(sup.contains(&sensitive_bucket(all[0])));
        assert!(!sup.contains(&team_bucket(all[1])));
        let auditor = buckets_of(&officer(Role::Auditor, &[]), &all);
        assert!(auditor.contains(&sensitive_bucket(all[1])));
    }

    #[test]
    fn a_sensitive_record_lives_with_the_team_leads_and_its_author() {
        let (team, author) = (Uuid::from_u128(10), Uuid::from_u128(1));
        let buckets = buckets_of_record_for(team, Marking::OfficialSensitive, author, &[team]);
        assert_eq!(buckets, vec![sensitive_bucket(team), author_bucket(author)]);
        let peer = buckets_of(&officer(Role::Officer, &[10]), &[team]);
        assert!(
            buckets.iter().any(|b| peer.contains(b)),
            "the author sees it"
        );
        let mut other = officer(Role::Officer, &[10]);
        other.id = Uuid::from_u128(2);
        let theirs = buckets_of(&other, &[team]);
        assert!(
            !buckets.iter().any(|b| theirs.contains(b)),
            "a peer does not"
        );
    }

    #[test]
    fn an_author_who_left_the_team_loses_its_sensitive_records() {
        let (team, other, author) = (Uuid::from_u128(10), Uuid::from_u128(20), Uuid::from_u128(1));
        let still = buckets_of_record_for(team, Marking::OfficialSensitive, author, &[team]);
        assert!(still.contains(&author_bucket(author)));
        let moved = buckets_of_record_for(team, Marking::OfficialSensitive, author, &[other]);
        assert_eq!(moved, vec![sensitive_bucket(team)]);
        let plain = buckets_of_record_for(team, Marking::Official, author, &[other]);
        assert_eq!(plain, vec![team_bucket(team)]);
    }
}
