//! The merge of a `restore` mutation (issue 12, after a server restore): the device's
//! acknowledged state of a record laid over the server's, field by field, the higher version
//! winning, with no conflicts (both values were acknowledged once: the newer is what the
//! server last said). Pure; the server runs it, the device plans what to send with the same
//! rule (`newer_fields`).

use std::collections::BTreeMap;

use crate::clock::Version;
use crate::merge::{RecordState, DELETED_FIELD, TOMBSTONE_FIELDS};

/// Merges `incoming` (a device's acknowledged state, or the part of it it sends) into
/// `stored` (the server's, `None` when the server lacks the record): each field takes the
/// value of the higher version; a delete in either wins (a tombstone keeps only
/// `TOMBSTONE_FIELDS`); an incoming field with no version is ignored.
pub fn merge_restore(stored: Option<&RecordState>, incoming: &RecordState) -> RecordState {
    let mut out = stored.cloned().unwrap_or_default();
    for (field, value) in &incoming.fields {
        let Some(theirs) = incoming.versions.get(field) else {
            continue;
        };
        if out.versions.get(field).is_none_or(|ours| theirs > ours) {
            out.fields.insert(field.clone(), value.clone());
            out.versions.insert(field.clone(), *theirs);
        }
    }
    if incoming.deleted {
        if let Some(theirs) = incoming.versions.get(DELETED_FIELD) {
            if out
                .versions
                .get(DELETED_FIELD)
                .is_none_or(|ours| theirs > ours)
            {
                out.versions.insert(DELETED_FIELD.to_string(), *theirs);
            }
        }
        out.deleted = true;
    }
    if out.deleted {
        out.fields
            .retain(|k, _| TOMBSTONE_FIELDS.contains(&k.as_str()));
        out.versions
            .retain(|k, _| k == DELETED_FIELD || TOMBSTONE_FIELDS.contains(&k.as_str()));
    }
    out
}

/// What of `acknowledged` (the device's) the server's `server` state lacks: the fields whose
/// version on the device is newer (or absent on the server), with their versions, and whether
/// the delete is newer. `None` when the server holds everything the device does.
pub fn newer_fields(
    acknowledged: &RecordState,
    server: Option<&RecordState>,
) -> Option<RecordState> {
    let Some(server) = server else {
        return Some(acknowledged.clone());
    };
    if server.deleted {
        // A tombstone on the server stays one; nothing the device holds can add to it.
        return None;
    }
    let mut out = RecordState::default();
    let newer = |field: &str, mine: &Version| server.versions.get(field).is_none_or(|s| mine > s);
    for (field, value) in &acknowledged.fields {
        if let Some(mine) = acknowledged.versions.get(field) {
            if newer(field, mine) {
                out.fields.insert(field.clone(), value.clone());
                out.versions.insert(field.clone(), *mine);
            }
        }
    }
    if acknowledged.deleted {
        out.deleted = true;
        if let Some(mine) = acknowledged.versions.get(DELETED_FIELD) {
            out.versions.insert(DELETED_FIELD.to_string(), *mine);
        }
        // A tombstone carries what routes it.
        for field in TOMBSTONE_FIELDS {
            if let (Some(v), Some(ver)) = (
                acknowledged.fields.get(field),
                acknowledged.versions.get(field),
            ) {
                out.fields.insert(field.to_string(), v.clone());
                out.versions.insert(field.to_string(), *ver);
            }
        }
    }
    (!out.fields.is_empty() || out.deleted).then_some(out)
}

/// The highest of a restore's versions: the `version` its mutation is stamped with.
pub fn highest(versions: &BTreeMap<String, Version>) -> Option<Version> {
    versions.values().copied().max()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Map, Value};
    use uuid::Uuid;

    use super::*;
    use crate::clock::Hlc;

    fn v(millis: u64, node: u128) -> Version {
        Version {
            hlc: Hlc { millis, counter: 0 },
            node: Uuid::from_u128(node),
        }
    }

    fn state(fields: &[(&str, Value, Version)], deleted: Option<Version>) -> RecordState {
        let mut s = RecordState {
            fields: fields
                .iter()
                .map(|(k, val, _)| (k.to_string(), val.clone()))
                .collect::<Map<_, _>>(),
            versions: fields
                .iter()
                .map(|(k, _, ver)| (k.to_string(), *ver))
                .collect(),
            deleted: deleted.is_some(),
        };
        if let Some(d) = deleted {
            s.versions.insert(DELETED_FIELD.into(), d);
        }
        s
    }

    #[test]
    fn the_higher_version_wins_each_field_whichever_side_holds_it() {
        let server = state(
            &[
                ("notes", json!("old"), v(10, 1)),
                ("place", json!("newer"), v(30, 2)),
            ],
            None,
        );
        let device = state(
            &[
                ("notes", json!("edited"), v(20, 1)),
                ("place", json!("older"), v(15, 1)),
            ],
            None,
        );
        let merged = merge_restore(Some(&server), &device);
        assert_eq!(merged.fields["notes"], json!("edited"));
        assert_eq!(merged.versions["notes"], v(20, 1));
        assert_eq!(merged.fields["place"], json!("newer"));
        assert_eq!(merged.versions["place"], v(30, 2));
        assert!(!merged.deleted);
    }

    #[test]
    fn a_record_the_server_lacks_is_taken_whole_and_a_field_without_version_is_ignored() {
        let mut device = state(&[("notes", json!("a"), v(5, 1))], None);
        device.fields.insert("sneaky".into(), json!("x"));
        let merged = merge_restore(None, &device);
        assert_eq!(merged.fields.len(), 1);
        assert_eq!(merged.fields["notes"], json!("a"));
    }

    #[test]
    fn a_delete_wins_and_leaves_a_tombstone_nothing_resurrects_it() {
        let server = state(
            &[
                ("notes", json!("x"), v(10, 1)),
                ("team_id", json!("t"), v(1, 1)),
            ],
            None,
        );
        let device = state(&[("team_id", json!("t"), v(1, 1))], Some(v(20, 1)));
        let merged = merge_restore(Some(&server), &device);
        assert!(merged.deleted);
        assert!(!merged.fields.contains_key("notes"));
        assert_eq!(merged.versions[DELETED_FIELD], v(20, 1));
        // A restore of live fields onto a tombstone leaves it a tombstone.
        let live = state(&[("notes", json!("back"), v(99, 1))], None);
        let again = merge_restore(Some(&merged), &live);
        assert!(again.deleted);
        assert!(!again.fields.contains_key("notes"));
    }

    #[test]
    fn newer_fields_sends_only_what_the_server_lacks_and_merging_them_restores_the_device_state() {
        let acked = state(
            &[
                ("notes", json!("edited"), v(20, 1)),
                ("place", json!("same"), v(5, 1)),
                ("marking", json!("OFFICIAL-SENSITIVE"), v(25, 1)),
            ],
            None,
        );
        let server = state(
            &[
                ("notes", json!("old"), v(10, 1)),
                ("place", json!("same"), v(5, 1)),
                ("marking", json!("OFFICIAL"), v(1, 1)),
            ],
            None,
        );
        let send = newer_fields(&acked, Some(&server)).expect("something newer");
        assert_eq!(
            send.fields.keys().collect::<Vec<_>>(),
            vec!["marking", "notes"]
        );
        assert_eq!(merge_restore(Some(&server), &send), acked);
        assert_eq!(newer_fields(&acked, Some(&acked)), None);
        assert_eq!(newer_fields(&acked, None), Some(acked.clone()));
        // Nothing is sent against a server tombstone.
        let tomb = state(&[], Some(v(1, 2)));
        assert_eq!(newer_fields(&acked, Some(&tomb)), None);
    }

    #[test]
    fn a_delete_the_server_lacks_is_sent_with_its_routing_fields() {
        let acked = state(&[("team_id", json!("t"), v(1, 1))], Some(v(30, 1)));
        let server = state(
            &[
                ("team_id", json!("t"), v(1, 1)),
                ("notes", json!("x"), v(2, 1)),
            ],
            None,
        );
        let send = newer_fields(&acked, Some(&server)).expect("the delete");
        assert!(send.deleted);
        assert_eq!(send.versions[DELETED_FIELD], v(30, 1));
        let merged = merge_restore(Some(&server), &send);
        assert!(merged.deleted);
        assert_eq!(merged, acked);
        assert_eq!(highest(&send.versions), Some(v(30, 1)));
    }
}
