//! The merge rules the server applies to every pushed mutation (DESIGN §5 "Merge"), and the
//! rebase a device applies to show its pending edits over the server's state. Pure functions:
//! the server is the only arbiter because it alone runs `merge`, in commit order.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Version;
use crate::mutation::{canonical, canonical_set, Entity, Mutation, MutationKind, SetDelta};

/// The pseudo-field whose version records a delete.
pub const DELETED_FIELD: &str = "deleted";

/// The fields a tombstone keeps: what routes it (team, marking, author) and its dates. A
/// delete erases every other field.
pub const TOMBSTONE_FIELDS: [&str; 5] = [
    "team_id",
    "created_by",
    "created_at",
    "marking",
    "review_due",
];

/// How concurrent edits to one field are reconciled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// The edit with the higher version wins; the other value becomes a conflict.
    HigherVersion,
    /// A concern's risk: the higher risk wins (then the higher version).
    HigherRisk,
    /// A set: additions are united, explicit removals applied; nothing is lost.
    AddWinsSet,
}

/// The set fields of each kind of record: merged as add-wins sets, never made conflicts of.
/// Named as the record types serialise them (a test in the model crate holds them to it).
pub const SET_FIELDS: &[(Entity, &[&str])] = &[
    (Entity::YoungPerson, &["flags", "carers"]),
    (
        Entity::Visit,
        &[
            "young_person_ids",
            "officer_ids",
            "present",
            "support_given",
            "signposted_to",
        ],
    ),
    (Entity::Concern, &["sub_categories", "triage_history"]),
    (Entity::Engagement, &["topics", "year_groups"]),
];

/// The fields whose concurrent edits go to the higher risk rather than the later edit.
pub const HIGHER_RISK_FIELDS: &[(Entity, &str)] = &[(Entity::Concern, "risk")];

/// A concern's risk levels on the wire, lowest first: the order [`FieldRule::HigherRisk`]
/// ranks them in.
pub const RISK_ORDER: [&str; 3] = ["low", "medium", "high"];

/// The rule for `field` of `entity`.
pub fn rule(entity: &Entity, field: &str) -> FieldRule {
    if HIGHER_RISK_FIELDS
        .iter()
        .any(|(e, f)| e == entity && *f == field)
    {
        return FieldRule::HigherRisk;
    }
    let is_set = SET_FIELDS
        .iter()
        .any(|(e, fields)| e == entity && fields.contains(&field));
    if is_set {
        FieldRule::AddWinsSet
    } else {
        FieldRule::HigherVersion
    }
}

/// The fields of a concern that form its account: fixed once the concern is submitted.
pub const CONCERN_ACCOUNT_FIELDS: [&str; 9] = [
    "young_person_ids",
    "happened_at",
    "recorded_at",
    "category",
    "sub_categories",
    "account",
    "childs_words",
    "risk_text",
    "thrive",
];

/// A record's state: its fields, the version of each, and whether it is a tombstone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordState {
    /// Field values.
    pub fields: Map<String, Value>,
    /// Version of each field (and of `deleted` once deleted).
    pub versions: BTreeMap<String, Version>,
    /// Whether the record has been deleted.
    pub deleted: bool,
}

/// A value that lost a concurrent edit, kept so a person can restore it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conflict {
    /// `hash(record, field, losing version)`: the same loss always has the same id.
    pub id: String,
    /// The record's kind.
    pub entity: Entity,
    /// The record.
    pub record_id: Uuid,
    /// The field.
    pub field: String,
    /// The value that lost.
    pub losing_value: Value,
    /// Its version.
    pub losing_version: Version,
    /// The value that won.
    pub winning_value: Value,
    /// Its version.
    pub winning_version: Version,
}

/// The id of the conflict for a losing version of a field.
pub fn conflict_id(record_id: Uuid, field: &str, losing: Version) -> String {
    let digest = Sha256::digest(format!("{record_id}/{field}/{losing}").as_bytes());
    hex::encode(&digest[..16])
}

/// Names a conflict whose losing value is the record's value of a field raised by a rank win
/// (a higher risk with an older version beat a newer one: the field then took the newer
/// version, which is also the id of the conflict that rank win made). `made` looks up a
/// conflict the server already holds by id. While `c`'s id is taken by that earlier loss,
/// `c` is named by the version its losing value won with, kept there as the winning version
/// (each step goes to an older version, so it ends). So two losses never share an id and
/// neither is dropped.
pub fn rename_if_taken<E>(
    c: &mut Conflict,
    made: &mut dyn FnMut(&str) -> Result<Option<Conflict>, E>,
) -> Result<(), E> {
    while let Some(earlier) = made(&c.id)? {
        let earlier_loss = earlier.record_id == c.record_id
            && earlier.field == c.field
            && earlier.losing_version == c.losing_version
            && earlier.losing_value != c.losing_value
            && earlier.winning_value == c.losing_value
            && earlier.winning_version < c.losing_version;
        if !earlier_loss {
            break;
        }
        c.losing_version = earlier.winning_version;
        c.id = conflict_id(c.record_id, &c.field, c.losing_version);
    }
    Ok(())
}

/// What `merge` did with a mutation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeKind {
    /// Every field fast-forwarded (its base was current).
    Applied,
    /// At least one field met a concurrent edit and was reconciled.
    Merged,
}

/// The result of merging one mutation into a record.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeResult {
    /// The record after the merge.
    pub state: RecordState,
    /// Applied or merged.
    pub kind: MergeKind,
    /// One conflict per losing value.
    pub conflicts: Vec<Conflict>,
    /// True when a delete landed: the record's existing conflicts are to be erased.
    pub erase_conflicts: bool,
}

/// A risk's rank: its place in [`RISK_ORDER`] from 1, or 0 for anything else.
fn risk_rank(value: &Value) -> usize {
    value
        .as_str()
        .and_then(|v| RISK_ORDER.iter().position(|r| *r == v))
        .map_or(0, |i| i + 1)
}

/// Whether value `a` beats value `b` of one field, each at its version, by the field's rule:
/// the higher risk (then the higher version) for a risk, else the higher version. A set has
/// no loser (its edits are united): never.
pub fn wins(entity: &Entity, field: &str, a: (&Value, Version), b: (&Value, Version)) -> bool {
    match rule(entity, field) {
        FieldRule::AddWinsSet => false,
        FieldRule::HigherRisk => (risk_rank(a.0), a.1) > (risk_rank(b.0), b.1),
        FieldRule::HigherVersion => a.1 > b.1,
    }
}

/// Applies a concurrent set edit to the set as it stands: its additions, then its removals.
/// Without a delta (an old client), the two sets are united. Elements are compared by their
/// canonical text in hashed sets, so the cost is O((n + m) log(n + m)), never the product of
/// the two sizes; the output keeps the current order, then the additions in their order.
pub fn unite(current: &Value, incoming: &Value, delta: Option<&SetDelta>) -> Value {
    let mut out: Vec<Value> = current.as_array().cloned().unwrap_or_default();
    let mut seen = canonical_set(&out);
    let added = match delta {
        Some(d) => d.added.as_slice(),
        None => incoming.as_array().map(Vec::as_slice).unwrap_or(&[]),
    };
    for v in added {
        if seen.insert(canonical(v)) {
            out.push(v.clone());
        }
    }
    if let Some(d) = delta {
        let removed = canonical_set(&d.removed);
        if !removed.is_empty() {
            out.retain(|v| !removed.contains(&canonical(v)));
        }
    }
    Value::Array(out)
}

/// Merges mutation `m` into the record's current state (`None`: the server has not seen the
/// record). Deterministic: the same state and mutation always give the same result.
pub fn merge(current: Option<&RecordState>, m: &Mutation) -> MergeResult {
    let mut state = current.cloned().unwrap_or_default();
    if m.kind == MutationKind::Delete {
        let version = state
            .versions
            .get(DELETED_FIELD)
            .map_or(m.version, |v| (*v).max(m.version));
        state.deleted = true;
        state.versions.insert(DELETED_FIELD.to_string(), version);
        state
            .fields
            .retain(|k, _| TOMBSTONE_FIELDS.contains(&k.as_str()));
        state
            .versions
            .retain(|k, _| k == DELETED_FIELD || TOMBSTONE_FIELDS.contains(&k.as_str()));
        return MergeResult {
            state,
            kind: MergeKind::Applied,
            conflicts: Vec::new(),
            erase_conflicts: true,
        };
    }
    if state.deleted {
        // A delete beats every concurrent edit.
        return MergeResult {
            state,
            kind: MergeKind::Merged,
            conflicts: Vec::new(),
            erase_conflicts: false,
        };
    }
    let mut kind = MergeKind::Applied;
    let mut conflicts = Vec::new();
    for (field, incoming) in &m.fields {
        let current_version = state.versions.get(field).copied();
        let base = m.base.get(field).copied().flatten();
        // A field's version never goes down: an edit based on the current value but stamped
        // below it (a device clock pulled back, a buggy client) is merged as concurrent.
        let fast_forward = match current_version {
            None => true,
            Some(current) => Some(current) == base && m.version > current,
        };
        if fast_forward {
            state.fields.insert(field.clone(), incoming.clone());
            state.versions.insert(field.clone(), m.version);
            continue;
        }
        kind = MergeKind::Merged;
        let Some(current_version) = current_version else {
            continue;
        };
        let current_value = state.fields.get(field).cloned().unwrap_or(Value::Null);
        if current_value == *incoming {
            state
                .versions
                .insert(field.clone(), current_version.max(m.version));
            continue;
        }
        if rule(&m.entity, field) == FieldRule::AddWinsSet {
            let united = unite(&current_value, incoming, m.sets.get(field));
            state.fields.insert(field.clone(), united);
            state
                .versions
                .insert(field.clone(), current_version.max(m.version));
            continue;
        }
        let incoming_wins = wins(
            &m.entity,
            field,
            (incoming, m.version),
            (&current_value, current_version),
        );
        let (winner, winner_version, loser, loser_version) = if incoming_wins {
            (incoming.clone(), m.version, current_value, current_version)
        } else {
            (current_value, current_version, incoming.clone(), m.version)
        };
        conflicts.push(Conflict {
            id: conflict_id(m.record_id, field, loser_version),
            entity: m.entity.clone(),
            record_id: m.record_id,
            field: field.clone(),
            losing_value: loser,
            losing_version: loser_version,
            winning_value: winner.clone(),
            winning_version: winner_version,
        });
        state.fields.insert(field.clone(), winner);
        // The field takes the higher of the two versions even when the older value won (a
        // higher risk): a restore's merge and every base compare by version.
        state
            .versions
            .insert(field.clone(), current_version.max(m.version));
    }
    MergeResult {
        state,
        kind,
        conflicts,
        erase_conflicts: false,
    }
}

/// The device's view of a record: the server's state with its own pending mutations (oldest
/// first) laid on top, as they will look if they fast-forward.
pub fn rebase<'a>(
    acknowledged: Option<&RecordState>,
    pending: impl IntoIterator<Item = &'a Mutation>,
) -> Option<RecordState> {
    let mut state = acknowledged.cloned();
    for m in pending {
        let s = state.get_or_insert_with(RecordState::default);
        if m.kind == MutationKind::Delete {
            s.deleted = true;
            s.versions.insert(DELETED_FIELD.to_string(), m.version);
            s.fields
                .retain(|k, _| TOMBSTONE_FIELDS.contains(&k.as_str()));
            s.versions
                .retain(|k, _| k == DELETED_FIELD || TOMBSTONE_FIELDS.contains(&k.as_str()));
            continue;
        }
        for (field, value) in &m.fields {
            s.fields.insert(field.clone(), value.clone());
            s.versions.insert(field.clone(), m.version);
        }
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unite_keeps_order_and_drops_duplicates_and_removals() {
        let current = json!(["a", "b", {"x": 1, "y": 2}]);
        let delta = SetDelta {
            added: vec![json!("c"), json!({"y": 2, "x": 1}), json!("a")],
            removed: vec![json!("b")],
        };
        assert_eq!(
            unite(&current, &Value::Null, Some(&delta)),
            json!(["a", {"x": 1, "y": 2}, "c"])
        );
        assert_eq!(
            unite(&json!([1, 2]), &json!([2, 3]), None),
            json!([1, 2, 3])
        );
    }

    fn version(millis: u64, node: u128) -> Version {
        Version {
            hlc: crate::Hlc { millis, counter: 0 },
            node: Uuid::from_u128(node),
        }
    }

    fn edit(field: &str, value: Value, base: Version, at: Version) -> Mutation {
        Mutation {
            seq: 1,
            entity: Entity::Visit,
            record_id: Uuid::from_u128(7),
            kind: MutationKind::Update,
            team_id: Uuid::from_u128(9),
            marking: crate::Marking::Official,
            fields: BTreeMap::from([(field.to_string(), value)]),
            base: BTreeMap::from([(field.to_string(), Some(base))]),
            sets: BTreeMap::new(),
            version: at,
            reason: None,
            versions: None,
            conflicts: None,
        }
    }

    #[test]
    fn an_edit_stamped_below_its_base_never_takes_a_fields_version_down() {
        // Seed 1117: a phone whose clock went back edited the current value; its stamp lay
        // below the version it was based on.
        let current = version(5_000, 1);
        let state = RecordState {
            fields: Map::from_iter([("narrative".to_string(), json!("theirs"))]),
            versions: BTreeMap::from([("narrative".to_string(), current)]),
            deleted: false,
        };
        let low = edit("narrative", json!("mine"), current, version(4_000, 2));
        let out = merge(Some(&state), &low);
        assert_eq!(out.kind, MergeKind::Merged);
        assert_eq!(out.state.versions["narrative"], current);
        assert_eq!(out.state.fields["narrative"], json!("theirs"));
        assert_eq!(out.conflicts.len(), 1, "the low edit is kept as a conflict");
        assert_eq!(out.conflicts[0].losing_value, json!("mine"));
        // The same edit stamped above its base fast-forwards as ever.
        let high = edit("narrative", json!("mine"), current, version(6_000, 2));
        let out = merge(Some(&state), &high);
        assert_eq!(out.kind, MergeKind::Applied);
        assert_eq!(out.state.versions["narrative"], version(6_000, 2));
        assert!(out.conflicts.is_empty());
    }

    #[test]
    fn a_higher_risk_that_wins_with_an_older_version_leaves_the_field_at_the_newer() {
        // Otherwise a restore (higher version wins) would lower the risk again.
        let older = version(1_000, 1);
        let state = RecordState {
            fields: Map::from_iter([("risk".to_string(), json!("high"))]),
            versions: BTreeMap::from([("risk".to_string(), older)]),
            deleted: false,
        };
        let mut lower = edit("risk", json!("low"), version(500, 2), version(2_000, 2));
        lower.entity = Entity::Concern;
        let out = merge(Some(&state), &lower);
        assert_eq!(out.state.fields["risk"], json!("high"));
        assert_eq!(out.state.versions["risk"], version(2_000, 2));
        assert_eq!(out.conflicts.len(), 1);
        assert_eq!(out.conflicts[0].losing_value, json!("low"));
        assert_eq!(out.conflicts[0].winning_version, older);
        assert!(wins(
            &Entity::Concern,
            "risk",
            (&json!("high"), version(2_000, 2)),
            (&json!("low"), version(2_000, 2))
        ));
        let restored = crate::merge_restore::merge_restore(
            Some(&out.state),
            &RecordState {
                fields: Map::from_iter([("risk".to_string(), json!("low"))]),
                versions: BTreeMap::from([("risk".to_string(), version(1_500, 3))]),
                deleted: false,
            },
        );
        assert_eq!(restored.fields["risk"], json!("high"), "the risk came down");
    }

    #[test]
    fn a_raised_value_that_loses_later_is_named_by_the_version_it_won_with() {
        // "medium" (v1) beat a later "low" (v2): the field took v2, and the conflict id(v2)
        // is the low's. When "high" then beats "medium", the loss is named v1, not v2 again.
        let risk = |value: &str, at: Version, base: Version| {
            let mut m = edit("risk", json!(value), base, at);
            m.entity = Entity::Concern;
            m
        };
        let (v0, v1, v2, v3) = (
            version(100, 9),
            version(1_000, 1),
            version(2_000, 2),
            version(500, 3),
        );
        let state = RecordState {
            fields: Map::from_iter([("risk".to_string(), json!("low"))]),
            versions: BTreeMap::from([("risk".to_string(), v2)]),
            deleted: false,
        };
        let first = merge(Some(&state), &risk("medium", v1, v0));
        assert_eq!(first.state.versions["risk"], v2);
        let made: BTreeMap<String, Conflict> = first
            .conflicts
            .iter()
            .map(|c| (c.id.clone(), c.clone()))
            .collect();
        let second = merge(Some(&first.state), &risk("high", v3, v0));
        let mut c = second.conflicts[0].clone();
        assert_eq!(c.id, first.conflicts[0].id, "the same id twice, unrenamed");
        rename_if_taken::<()>(&mut c, &mut |id| Ok(made.get(id).cloned())).unwrap();
        assert_eq!(
            (c.losing_value.clone(), c.losing_version),
            (json!("medium"), v1)
        );
        assert_eq!(c.id, conflict_id(c.record_id, "risk", v1));
        assert!(!made.contains_key(&c.id));
    }

    #[test]
    fn uniting_two_sets_of_fifty_thousand_is_not_quadratic() {
        // Quadratic uniting would compare 2.5 billion pairs here (minutes in a debug build).
        let n = 50_000;
        let current = Value::Array((0..n).map(|i| json!(format!("a{i}"))).collect());
        let incoming = Value::Array((0..n).map(|i| json!(format!("b{i}"))).collect());
        let delta = SetDelta::between(&current, &incoming).expect("sets differ");
        assert_eq!(delta.added.len(), n);
        assert_eq!(delta.removed.len(), n);
        let united = unite(&current, &incoming, None);
        assert_eq!(united.as_array().map(Vec::len), Some(2 * n));
        let applied = unite(&current, &incoming, Some(&delta));
        assert_eq!(applied, incoming);
    }
}
