//! Property tests of the merge rules over random interleavings: several devices edit offline
//! (plain fields, a set, a concern's risk, deletes) and sync in random order, some pushes losing
//! their response. Afterwards every device equals the server, every conflict is one real losing
//! value, and resending everything changes nothing.

use std::collections::{BTreeMap, BTreeSet};

use pocketbook_protocol::merge::{
    merge, rebase, rename_if_taken, rule, Conflict, FieldRule, RecordState,
};
use pocketbook_protocol::{Clock, Entity, Hlc, Marking, Mutation, MutationKind, SetDelta, Version};
use proptest::prelude::*;
use serde_json::{json, Value};
use uuid::Uuid;

const RECORDS: [(Entity, &[&str]); 3] = [
    (Entity::Visit, &["narrative", "outcome", "present"]),
    (Entity::Visit, &["narrative", "present"]),
    (Entity::Concern, &["risk", "status"]),
];

fn record_id(i: usize) -> Uuid {
    Uuid::from_u128(0x1000 + i as u128)
}

#[derive(Default)]
struct Server {
    records: BTreeMap<Uuid, RecordState>,
    conflicts: BTreeMap<String, Conflict>,
    high_water: BTreeMap<usize, u64>,
}

impl Server {
    fn push(&mut self, device: usize, batch: &[Mutation]) -> u64 {
        let hwm = self.high_water.entry(device).or_default();
        for m in batch {
            if m.seq <= *hwm {
                continue;
            }
            let result = merge(self.records.get(&m.record_id), m);
            if result.erase_conflicts {
                self.conflicts.retain(|_, c| c.record_id != m.record_id);
            }
            for mut c in result.conflicts {
                let conflicts = &self.conflicts;
                rename_if_taken::<()>(&mut c, &mut |id| Ok(conflicts.get(id).cloned())).unwrap();
                match rule(&c.entity, &c.field) {
                    FieldRule::HigherVersion => {
                        assert!(c.winning_version > c.losing_version, "the later edit wins")
                    }
                    FieldRule::HigherRisk => {
                        let rank =
                            |v: &Value| ["low", "medium", "high"].iter().position(|r| v == r);
                        assert!(
                            rank(&c.winning_value) > rank(&c.losing_value),
                            "the higher risk wins"
                        );
                    }
                    FieldRule::AddWinsSet => panic!("a set merge made a conflict"),
                }
                assert_eq!(result.state.fields[&c.field], c.winning_value);
                let id = c.id.clone();
                let newer = c.clone();
                if let Some(old) = self.conflicts.insert(id, c) {
                    panic!("a conflict id was made twice: {old:?} then {newer:?}");
                }
            }
            self.records.insert(m.record_id, result.state);
            *hwm = m.seq;
        }
        *hwm
    }
}

struct Device {
    index: usize,
    clock: Clock,
    skew: i64,
    acknowledged: BTreeMap<Uuid, RecordState>,
    outbox: Vec<Mutation>,
    sent: Vec<Mutation>,
    next_seq: u64,
}

impl Device {
    fn new(index: usize, skew: i64) -> Self {
        Device {
            index,
            clock: Clock::new(Uuid::from_u128(index as u128 + 1), Hlc::default()),
            skew,
            acknowledged: BTreeMap::new(),
            outbox: Vec::new(),
            sent: Vec::new(),
            next_seq: 1,
        }
    }

    fn view(&self, id: Uuid) -> Option<RecordState> {
        rebase(
            self.acknowledged.get(&id),
            self.outbox.iter().filter(|m| m.record_id == id),
        )
    }

    fn record(
        &mut self,
        now: u64,
        entity: Entity,
        id: Uuid,
        kind: MutationKind,
        fields: BTreeMap<String, Value>,
        history: &mut BTreeSet<(Uuid, String, Version)>,
    ) {
        let view = self.view(id);
        let base = fields
            .keys()
            .filter_map(|f| {
                view.as_ref()?
                    .versions
                    .get(f)
                    .map(|v| (f.clone(), Some(*v)))
            })
            .collect();
        let sets = fields
            .iter()
            .filter(|(f, _)| f.as_str() == "present")
            .filter_map(|(f, new)| {
                Some((
                    f.clone(),
                    SetDelta::between(view.as_ref()?.fields.get(f)?, new)?,
                ))
            })
            .collect();
        let now = now.saturating_add_signed(self.skew);
        let version = self.clock.tick(now).unwrap();
        for f in fields.keys() {
            history.insert((id, f.clone(), version));
        }
        self.outbox.push(Mutation {
            reason: None,
            seq: self.next_seq,
            entity,
            record_id: id,
            kind,
            team_id: Uuid::nil(),
            marking: Marking::Official,
            fields,
            base,
            sets,
            version,
            versions: None,
            conflicts: None,
        });
        self.next_seq += 1;
    }

    /// Push, then pull; with `lose_response` the server applies the push but the device never
    /// hears back, so its outbox stays and is sent again next time.
    fn sync(&mut self, server: &mut Server, now: u64, lose_response: bool) {
        let acked = server.push(self.index, &self.outbox);
        self.sent.extend(self.outbox.iter().cloned());
        if lose_response {
            return;
        }
        self.outbox.retain(|m| m.seq > acked);
        self.acknowledged = server.records.clone();
        for state in self.acknowledged.values() {
            for v in state.versions.values() {
                self.clock.observe(v.hlc, now, u64::MAX / 4).unwrap();
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Edit {
        device: usize,
        record: usize,
        field: usize,
        value: u8,
    },
    Delete {
        device: usize,
        record: usize,
    },
    Sync {
        device: usize,
        lose_response: bool,
    },
}

fn op(devices: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..devices, 0..3usize, 0..3usize, 0..4u8)
            .prop_map(|(device, record, field, value)| Op::Edit { device, record, field, value }),
        1 => (0..devices, 0..3usize).prop_map(|(device, record)| Op::Delete { device, record }),
        3 => (0..devices, prop::bool::weighted(0.2))
            .prop_map(|(device, lose_response)| Op::Sync { device, lose_response }),
    ]
}

fn edit_value(entity: &Entity, field: &str, current: Option<&Value>, value: u8) -> Value {
    match (entity, field) {
        (Entity::Concern, "risk") => json!(["low", "medium", "high", "medium"][value as usize]),
        (_, "present") => {
            let mut set: Vec<Value> = current
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let who = json!(["mother", "father", "DSL", "social worker"][value as usize]);
            if let Some(i) = set.iter().position(|v| *v == who) {
                set.remove(i);
            } else {
                set.push(who);
            }
            Value::Array(set)
        }
        _ => json!(format!("{field} v{value}")),
    }
}

fn scenario(devices: usize, skews: Vec<i64>, ops: Vec<Op>) -> Result<Server, TestCaseError> {
    let mut server = Server::default();
    let mut history = BTreeSet::new();
    let mut fleet: Vec<Device> = (0..devices).map(|i| Device::new(i, skews[i])).collect();
    let mut now = 1_000_000u64;
    // Device 0 creates the records; everyone pulls them.
    for (i, (entity, fields)) in RECORDS.iter().enumerate() {
        let values = fields
            .iter()
            .map(|f| (f.to_string(), edit_value(entity, f, None, 0)))
            .collect();
        fleet[0].record(
            now,
            entity.clone(),
            record_id(i),
            MutationKind::Create,
            values,
            &mut history,
        );
    }
    for d in fleet.iter_mut() {
        d.sync(&mut server, now, false);
    }
    for op in ops {
        now += 7;
        match op {
            Op::Edit {
                device,
                record,
                field,
                value,
            } => {
                let (entity, fields) = &RECORDS[record];
                let field = fields[field % fields.len()];
                let d = &mut fleet[device];
                let Some(view) = d.view(record_id(record)) else {
                    continue;
                };
                if view.deleted {
                    continue;
                }
                let new = edit_value(entity, field, view.fields.get(field), value);
                let fields = BTreeMap::from([(field.to_string(), new)]);
                d.record(
                    now,
                    entity.clone(),
                    record_id(record),
                    MutationKind::Update,
                    fields,
                    &mut history,
                );
            }
            Op::Delete { device, record } => {
                let d = &mut fleet[device];
                if d.view(record_id(record)).is_some_and(|v| !v.deleted) {
                    d.record(
                        now,
                        RECORDS[record].0.clone(),
                        record_id(record),
                        MutationKind::Delete,
                        BTreeMap::from([("deleted".to_string(), json!(true))]),
                        &mut history,
                    );
                }
            }
            Op::Sync {
                device,
                lose_response,
            } => fleet[device].sync(&mut server, now, lose_response),
        }
    }
    // Everyone syncs twice: the first round pushes what is left, the second pulls it all.
    for _ in 0..2 {
        now += 7;
        for d in fleet.iter_mut() {
            d.sync(&mut server, now, false);
        }
    }
    for d in &fleet {
        prop_assert!(
            d.outbox.is_empty(),
            "device {} still has pending changes",
            d.index
        );
        for (id, state) in &server.records {
            let view = d.view(*id);
            prop_assert_eq!(
                view.as_ref(),
                Some(state),
                "device {} differs on {}",
                d.index,
                id
            );
        }
    }
    for c in server.conflicts.values() {
        let state = &server.records[&c.record_id];
        prop_assert!(!state.deleted, "a delete erases its record's conflicts");
        prop_assert!(
            history.contains(&(c.record_id, c.field.clone(), c.losing_version)),
            "a conflict's losing value was really written"
        );
        // A risk raised by a rank win takes the newer (losing) version, never the value.
        prop_assert!(
            state.versions[&c.field] != c.losing_version
                || state.fields.get(&c.field) != Some(&c.losing_value),
            "the losing value lost"
        );
        prop_assert_ne!(&c.field, "present", "sets merge without conflicts");
    }
    // Resending everything ever sent changes nothing.
    let before = (server.records.clone(), server.conflicts.clone());
    for d in &fleet {
        server.push(d.index, &d.sent);
    }
    prop_assert_eq!(&(server.records.clone(), server.conflicts.clone()), &before);
    Ok(server)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn devices_converge_on_the_server_and_conflicts_are_real_losses(
        (devices, skews, ops) in (2usize..=4).prop_flat_map(|n| (
            Just(n),
            prop::collection::vec(-400i64..400, n),
            prop::collection::vec(op(n), 1..60),
        ))
    ) {
        scenario(devices, skews, ops)?;
    }
}

#[test]
fn two_offline_edits_of_one_field_make_exactly_one_conflict() {
    let ops = vec![
        Op::Edit {
            device: 0,
            record: 0,
            field: 0,
            value: 1,
        },
        Op::Edit {
            device: 1,
            record: 0,
            field: 0,
            value: 2,
        },
        Op::Sync {
            device: 0,
            lose_response: false,
        },
        Op::Sync {
            device: 1,
            lose_response: false,
        },
    ];
    let server = scenario(2, vec![0, 0], ops).unwrap();
    let conflicts: Vec<&Conflict> = server.conflicts.values().collect();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        conflicts[0].losing_value,
        json!("narrative v1"),
        "the earlier edit loses"
    );
    assert_eq!(
        server.records[&record_id(0)].fields["narrative"],
        json!("narrative v2")
    );
}

#[test]
fn concurrent_risk_edits_keep_the_higher_risk() {
    // Device 1 lowers the risk after device 0 raised it, without having seen the raise.
    let ops = vec![
        Op::Edit {
            device: 0,
            record: 2,
            field: 0,
            value: 2,
        }, // high
        Op::Edit {
            device: 1,
            record: 2,
            field: 0,
            value: 0,
        }, // low, later
        Op::Sync {
            device: 1,
            lose_response: false,
        },
        Op::Sync {
            device: 0,
            lose_response: false,
        },
    ];
    let server = scenario(2, vec![0, 0], ops).unwrap();
    assert_eq!(server.records[&record_id(2)].fields["risk"], json!("high"));
    let losing: Vec<&Value> = server.conflicts.values().map(|c| &c.losing_value).collect();
    assert_eq!(losing, vec![&json!("low")]);
}

#[test]
fn concurrent_set_edits_unite_and_honour_removals() {
    // Start: present = ["mother"] (value 0 toggles mother). Device 0 removes mother;
    // device 1 adds the DSL. Both survive: the removal and the addition.
    let ops = vec![
        Op::Edit {
            device: 0,
            record: 1,
            field: 1,
            value: 0,
        },
        Op::Edit {
            device: 1,
            record: 1,
            field: 1,
            value: 2,
        },
        Op::Sync {
            device: 0,
            lose_response: false,
        },
        Op::Sync {
            device: 1,
            lose_response: false,
        },
    ];
    let server = scenario(2, vec![0, 0], ops).unwrap();
    assert_eq!(
        server.records[&record_id(1)].fields["present"],
        json!(["DSL"])
    );
    assert!(server.conflicts.is_empty());
}

#[test]
fn a_delete_beats_a_concurrent_edit_and_erases_conflicts() {
    let ops = vec![
        Op::Edit {
            device: 0,
            record: 0,
            field: 0,
            value: 1,
        },
        Op::Edit {
            device: 1,
            record: 0,
            field: 0,
            value: 2,
        },
        Op::Sync {
            device: 0,
            lose_response: false,
        },
        Op::Sync {
            device: 1,
            lose_response: false,
        }, // makes a conflict
        Op::Delete {
            device: 0,
            record: 0,
        },
        Op::Edit {
            device: 1,
            record: 0,
            field: 1,
            value: 3,
        },
        Op::Sync {
            device: 0,
            lose_response: false,
        },
        Op::Sync {
            device: 1,
            lose_response: false,
        }, // the edit meets the tombstone
    ];
    let server = scenario(2, vec![0, 0], ops).unwrap();
    assert!(server.records[&record_id(0)].deleted);
    assert!(server.conflicts.is_empty());
}
