//! What a device sends a server restored from a backup (issue 12), decided as a pure function:
//! from the device's ACKNOWLEDGED state of each record (never its pending edits) and the
//! server's state after the reconciling pull, one `restore` mutation per record the server
//! lacks or holds older — the fields (or the delete) whose version on the device is newer,
//! with their own versions — and for each record the server holds with open conflicts it lost,
//! carrying those conflicts; numbered after `after_seq`. Does no IO; unit-tested without a
//! database or a network.

use std::collections::BTreeMap;

use pocketbook_protocol::merge::{Conflict, RecordState};
use pocketbook_protocol::merge_restore::{highest, newer_fields};
use pocketbook_protocol::{Entity, Marking, Mutation, MutationKind};
use uuid::Uuid;

/// One record the device held acknowledged when the server's epoch changed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeldRecord {
    /// Its kind.
    pub entity: Entity,
    /// Its id.
    pub id: Uuid,
    /// Its team and marking as the device held them.
    pub team_id: Uuid,
    /// Its marking.
    pub marking: Marking,
    /// The state the server had acknowledged to the device.
    pub acknowledged: RecordState,
    /// The restored server's state, `None` when its pull did not return the record.
    pub server: Option<RecordState>,
}

/// The order records are restored in: what others name first (a young person before the
/// records about them, a concern before its addenda and actions).
fn rank(entity: &Entity) -> u8 {
    match entity {
        Entity::YoungPerson => 0,
        Entity::Concern => 1,
        Entity::Visit | Entity::Engagement => 2,
        Entity::Addendum | Entity::Action => 3,
        Entity::Unknown(_) => 4,
    }
}

/// The restore mutations for `held`, numbered `after_seq + 1, …`, parents first; `lost` are
/// the open conflicts the server lacks, by record.
pub(crate) fn plan_restores(
    held: &[HeldRecord],
    lost: &BTreeMap<Uuid, Vec<Conflict>>,
    after_seq: u64,
) -> Vec<Mutation> {
    let mut ordered: Vec<&HeldRecord> = held
        .iter()
        .filter(|h| !matches!(h.entity, Entity::Unknown(_)))
        .collect();
    ordered.sort_by_key(|h| (rank(&h.entity), h.id));
    let mut seq = after_seq;
    let mut out = Vec::new();
    for h in ordered {
        let conflicts = lost.get(&h.id).filter(|c| !c.is_empty()).cloned();
        let send = newer_fields(&h.acknowledged, h.server.as_ref());
        let send = match (send, &conflicts, &h.server) {
            (Some(send), _, _) => send,
            // Only conflicts to bring back: onto the record the server returned, alive.
            (None, Some(_), Some(server)) if !server.deleted => RecordState::default(),
            _ => continue,
        };
        let Some(version) = highest(&send.versions)
            .or_else(|| conflicts.iter().flatten().map(|c| c.losing_version).max())
        else {
            continue;
        };
        seq += 1;
        out.push(Mutation {
            seq,
            entity: h.entity.clone(),
            record_id: h.id,
            kind: MutationKind::Restore,
            team_id: h.team_id,
            marking: h.marking,
            fields: send.fields.into_iter().collect(),
            base: BTreeMap::new(),
            sets: BTreeMap::new(),
            version,
            reason: None,
            versions: Some(send.versions),
            conflicts,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use pocketbook_protocol::merge::DELETED_FIELD;
    use pocketbook_protocol::merge_restore::merge_restore;
    use pocketbook_protocol::{Hlc, Version};
    use serde_json::{json, Value};

    use super::*;

    fn v(millis: u64) -> Version {
        Version {
            hlc: Hlc { millis, counter: 0 },
            node: Uuid::from_u128(7),
        }
    }

    fn state(fields: &[(&str, Value, u64)], deleted: Option<u64>) -> RecordState {
        let mut s = RecordState {
            fields: fields
                .iter()
                .map(|(k, val, _)| (k.to_string(), val.clone()))
                .collect(),
            versions: fields
                .iter()
                .map(|(k, _, m)| (k.to_string(), v(*m)))
                .collect(),
            deleted: deleted.is_some(),
        };
        if let Some(d) = deleted {
            s.versions.insert(DELETED_FIELD.into(), v(d));
        }
        s
    }

    fn held(entity: Entity, id: u128, ack: RecordState, server: Option<RecordState>) -> HeldRecord {
        HeldRecord {
            entity,
            id: Uuid::from_u128(id),
            team_id: Uuid::from_u128(99),
            marking: Marking::Official,
            acknowledged: ack,
            server,
        }
    }

    #[test]
    fn only_records_the_server_lacks_or_holds_older_are_sent_numbered_after_the_acked_seq() {
        let same = state(&[("notes", json!("a"), 1)], None);
        let edited = state(&[("notes", json!("b"), 5), ("place", json!("p"), 1)], None);
        let before_edit = state(&[("notes", json!("a"), 1), ("place", json!("p"), 1)], None);
        let plan = plan_restores(
            &[
                held(Entity::Visit, 1, same.clone(), Some(same.clone())),
                held(Entity::Visit, 2, edited.clone(), Some(before_edit.clone())),
                held(Entity::Visit, 3, same.clone(), None),
            ],
            &BTreeMap::new(),
            41,
        );
        assert_eq!(plan.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![42, 43]);
        assert_eq!(plan[0].record_id, Uuid::from_u128(2));
        assert_eq!(plan[0].fields.keys().collect::<Vec<_>>(), vec!["notes"]);
        assert_eq!(plan[0].version, v(5));
        assert!(plan.iter().all(|m| m.kind == MutationKind::Restore));
        // Merged on the server, each gives back the device's acknowledged state.
        let mut restored = plan[0].versions.clone().map(|versions| RecordState {
            fields: plan[0].fields.clone().into_iter().collect(),
            versions,
            deleted: false,
        });
        let merged = merge_restore(Some(&before_edit), restored.as_mut().unwrap());
        assert_eq!(merged, edited);
        assert_eq!(plan[1].record_id, Uuid::from_u128(3));
        assert_eq!(plan[1].fields.len(), 1);
    }

    #[test]
    fn a_delete_the_server_forgot_is_resent_and_a_server_tombstone_is_left_alone() {
        let tomb = state(&[("team_id", json!("t"), 1)], Some(9));
        let live = state(
            &[("team_id", json!("t"), 1), ("notes", json!("x"), 2)],
            None,
        );
        let plan = plan_restores(
            &[
                held(Entity::Visit, 1, tomb.clone(), Some(live.clone())),
                held(Entity::Visit, 2, live.clone(), Some(tomb.clone())),
            ],
            &BTreeMap::new(),
            0,
        );
        assert_eq!(plan.len(), 1);
        assert_eq!(plan[0].record_id, Uuid::from_u128(1));
        assert!(plan[0]
            .versions
            .as_ref()
            .is_some_and(|v| v.contains_key(DELETED_FIELD)));
    }

    #[test]
    fn parents_go_first_and_unknown_kinds_are_not_sent() {
        let s = state(&[("notes", json!("a"), 1)], None);
        let plan = plan_restores(
            &[
                held(Entity::Addendum, 1, s.clone(), None),
                held(Entity::Unknown("homework".into()), 2, s.clone(), None),
                held(Entity::Concern, 3, s.clone(), None),
                held(Entity::YoungPerson, 4, s.clone(), None),
            ],
            &BTreeMap::new(),
            0,
        );
        let kinds: Vec<Entity> = plan.iter().map(|m| m.entity.clone()).collect();
        assert_eq!(
            kinds,
            vec![Entity::YoungPerson, Entity::Concern, Entity::Addendum]
        );
        assert_eq!(
            plan.iter().map(|m| m.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn nothing_to_send_when_the_server_holds_everything() {
        let s = state(&[("notes", json!("a"), 3)], None);
        let newer_on_server = state(&[("notes", json!("z"), 8)], None);
        assert!(plan_restores(
            &[held(Entity::Visit, 1, s, Some(newer_on_server))],
            &BTreeMap::new(),
            5
        )
        .is_empty());
    }

    fn lost(record: u128, losing: u64) -> Conflict {
        let record_id = Uuid::from_u128(record);
        Conflict {
            id: pocketbook_protocol::merge::conflict_id(record_id, "notes", v(losing)),
            entity: Entity::Visit,
            record_id,
            field: "notes".into(),
            losing_value: json!("lost"),
            losing_version: v(losing),
            winning_value: json!("a"),
            winning_version: v(losing + 1),
        }
    }

    #[test]
    fn lost_conflicts_ride_with_their_records_restore_or_alone_onto_a_live_record() {
        let same = state(&[("notes", json!("a"), 5)], None);
        let newer = state(&[("notes", json!("b"), 9)], None);
        let deleted = state(&[("notes", json!("a"), 5)], Some(6));
        let lost_conflicts: BTreeMap<Uuid, Vec<Conflict>> = [1, 2, 3, 4]
            .into_iter()
            .map(|r| (Uuid::from_u128(r), vec![lost(r, 2)]))
            .collect();
        let plan = plan_restores(
            &[
                // The server holds it as the device does: the conflicts go alone.
                held(Entity::Visit, 1, same.clone(), Some(same.clone())),
                // The device's is newer: the conflicts ride with the fields.
                held(Entity::Visit, 2, newer.clone(), Some(same.clone())),
                // The server lacks the record, or holds it deleted: nothing to open them on
                // (record 3's restore carries them with the record itself).
                held(Entity::Visit, 3, same.clone(), None),
                held(Entity::Visit, 4, deleted.clone(), Some(deleted.clone())),
            ],
            &lost_conflicts,
            10,
        );
        let by_record: BTreeMap<u128, &Mutation> =
            plan.iter().map(|m| (m.record_id.as_u128(), m)).collect();
        assert_eq!(by_record.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        let alone = by_record[&1];
        assert!(alone.fields.is_empty());
        assert_eq!(alone.versions.as_ref().map(BTreeMap::len), Some(0));
        assert_eq!(alone.version, v(2), "the highest losing version");
        assert_eq!(alone.conflicts, Some(vec![lost(1, 2)]));
        assert_eq!(by_record[&2].fields["notes"], json!("b"));
        assert_eq!(by_record[&2].conflicts, Some(vec![lost(2, 2)]));
        assert_eq!(by_record[&3].conflicts, Some(vec![lost(3, 2)]));
    }
}
