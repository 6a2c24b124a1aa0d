//! The two restore faults, planned per seed: the server restored from a backup taken earlier
//! in the run (a new file and epoch; the admin journal replayed a few steps later, the server
//! refusing to serve until then), or one or two phones put back to copies of their stores
//! taken earlier (forks). A run has one kind or neither, never both: a phone rolled back
//! behind a change that only the server then held, and a server rolled back behind it too,
//! lose it with no copy left anywhere, which no design can prevent. The plan is drawn from its
//! own generator, so the rest of a seed's run draws what it drew before restores existed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use uuid::Uuid;

use super::clock::Rng;
use super::device::StoreCopy;
use super::world::World;
use super::Fault;

/// What a run restores, and when (faulty steps).
#[derive(Debug, Clone)]
pub enum Plan {
    /// No restore.
    Nothing,
    /// Back the server up at `backup_at`, restore it at `restore_at`, replay the journal
    /// `replay_after` steps later.
    Server {
        /// The step the backup is taken.
        backup_at: u32,
        /// The step the server is restored.
        restore_at: u32,
        /// Steps the restored server waits for its journal.
        replay_after: u32,
    },
    /// For each (device, backup step, restore step): copy the phone's store, then put it back.
    Devices(Vec<(usize, u32, u32)>),
}

impl Plan {
    /// The plan for `seed` over `steps` faulty steps and `devices` phones.
    pub fn draw(seed: u64, steps: u32, devices: usize) -> Plan {
        let mut rng = Rng::new(seed ^ 0x7265_7374_6f72_6573);
        let steps = u64::from(steps.max(2));
        let span = |rng: &mut Rng| {
            let backup = rng.below(steps - 1);
            let restore = backup + 1 + rng.below(steps - 1 - backup);
            (
                u32::try_from(backup).unwrap_or(0),
                u32::try_from(restore).unwrap_or(1),
            )
        };
        match rng.below(3) {
            0 => Plan::Nothing,
            1 => {
                let (backup_at, restore_at) = span(&mut rng);
                Plan::Server {
                    backup_at,
                    restore_at,
                    replay_after: u32::try_from(rng.below(4)).unwrap_or(0),
                }
            }
            _ => {
                let first = rng.index(devices);
                let mut plans = vec![(first, span(&mut rng))];
                if rng.chance(500) && devices > 1 {
                    let second = (first + 1 + rng.index(devices - 1)) % devices;
                    plans.push((second, span(&mut rng)));
                }
                Plan::Devices(plans.into_iter().map(|(d, (b, r))| (d, b, r)).collect())
            }
        }
    }
}

/// The plan and what it has done so far.
#[derive(Debug)]
pub struct Restores {
    plan: Plan,
    server_backup: Option<PathBuf>,
    replay_at: Option<u32>,
    copies: BTreeMap<usize, StoreCopy>,
    /// Records the server restore lost with no copy left anywhere: taken after the backup,
    /// and held by no phone at the restore (they never pulled it, or it left their scope).
    /// No design brings those back; the ledger leaves them out.
    pub lost_everywhere: BTreeSet<String>,
    /// Field edits the server restore lost with no copy left anywhere (seed 2037: the one phone
    /// that held an edit made after the backup let the record go when its officer moved): for
    /// each (record, field), the highest version the backup or any phone still held. An
    /// acknowledged edit of that field above it is left out too.
    pub lost_above: BTreeMap<(String, String), String>,
}

impl Restores {
    /// Restores as `plan` says.
    pub fn new(plan: Plan) -> Restores {
        Restores {
            plan,
            server_backup: None,
            replay_at: None,
            copies: BTreeMap::new(),
            lost_everywhere: BTreeSet::new(),
            lost_above: BTreeMap::new(),
        }
    }

    /// Whether an admin may move an officer between teams now: not while the restored server
    /// waits for its journal (the admin replays it first).
    pub fn moves_allowed(&self) -> bool {
        self.replay_at.is_none()
    }
}

impl World {
    /// Whatever the plan does at `step`: a backup, a restore, the journal replayed.
    pub async fn restore_step(&mut self, step: u32) {
        if self.restores.replay_at.is_some_and(|at| at <= step) {
            self.settle_restore().await;
        }
        match self.restores.plan.clone() {
            Plan::Nothing => {}
            Plan::Server {
                backup_at,
                restore_at,
                replay_after,
            } => {
                if step == backup_at {
                    self.back_up_server(step);
                }
                if step == restore_at {
                    self.restore_server(step).await;
                    self.restores.replay_at = Some(step + replay_after);
                    if replay_after == 0 {
                        self.settle_restore().await;
                    }
                }
            }
            Plan::Devices(plans) => {
                for (device, backup_at, restore_at) in plans {
                    if step == backup_at {
                        self.back_up_device(step, device);
                    }
                    if step == restore_at {
                        self.restore_device(step, device);
                    }
                }
            }
        }
    }

    /// The journal replayed into a restored server that still waits for it (the faults'
    /// end does it if the plan's step was not reached).
    pub async fn settle_restore(&mut self) {
        if self.restores.replay_at.take().is_some() {
            self.net.replay_journal().await;
        }
    }

    fn back_up_server(&mut self, step: u32) {
        let file = self.dir.path().join("server-backup.db");
        pocketbook_sync_server::admin::backup::backup(&self.net.server_path(), &file)
            .expect("the server backs up");
        self.restores.server_backup = Some(file);
        self.trace.line(&format!("{step} server backed up"));
    }

    /// The server restored from its backup onto a new file.
    async fn restore_server(&mut self, step: u32) {
        let Some(backup) = self.restores.server_backup.clone() else {
            return;
        };
        let path = self.dir.path().join("server-restored.db");
        let mut held: BTreeSet<String> = BTreeSet::new();
        for device in self.devices.iter().filter(|d| !d.wiped) {
            held.extend(record_ids(&crate::raw_connection(&device.path)));
        }
        // What the server held, and the highest version of each of its fields the backup or
        // any phone still holds (a phone writes its common version once, as `"*"`).
        let now: BTreeMap<String, BTreeMap<String, String>> =
            field_versions(&open(&self.net.server_path()), "records")
                .into_iter()
                .collect();
        let mut kept: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut keep = |rows: Vec<(String, BTreeMap<String, String>)>| {
            for (id, map) in rows {
                let Some(fields) = now.get(&id) else {
                    continue;
                };
                for field in fields.keys() {
                    if let Some(v) = map.get(field).or_else(|| map.get("*")) {
                        let slot = kept.entry((id.clone(), field.clone())).or_default();
                        if v > slot {
                            *slot = v.clone();
                        }
                    }
                }
            }
        };
        keep(field_versions(&open(&backup), "records"));
        for device in self.devices.iter().filter(|d| !d.wiped) {
            let conn = crate::raw_connection(&device.path);
            keep(field_versions(&conn, "records"));
            keep(field_versions(&conn, "acknowledged"));
        }
        self.restores.lost_above = now
            .iter()
            .flat_map(|(id, fields)| {
                fields.iter().filter_map(|(field, version)| {
                    let key = (id.clone(), field.clone());
                    let held = kept.get(&key).cloned().unwrap_or_default();
                    (*version > held).then_some((key, held))
                })
            })
            .collect();
        let in_backup = record_ids(&open(&backup));
        self.restores.lost_everywhere = record_ids(&open(&self.net.server_path()))
            .into_iter()
            .filter(|id| !in_backup.contains(id) && !held.contains(id))
            .collect();
        self.trace.line(&format!(
            "{step} server restores ({} records and {} fields only it held since the backup)",
            self.restores.lost_everywhere.len(),
            self.restores.lost_above.len()
        ));
        self.net.restore_server(&backup, path).await;
    }

    fn back_up_device(&mut self, step: u32, device: usize) {
        let dir = self.dir.path().join(format!("device-{device}-backup"));
        let copy = self.devices[device].back_up(&dir);
        self.restores.copies.insert(device, copy);
        self.trace.line(&format!("{step} d{device} backed up"));
    }

    /// A phone put back to its backup: a fork the server will see at its next push.
    fn restore_device(&mut self, step: u32, device: usize) {
        let Some(copy) = self.restores.copies.get(&device).cloned() else {
            return;
        };
        if self.devices[device].wiped {
            return;
        }
        let held = server_holds(self.net.server_path());
        let taken = server_seqs(&self.net.server_path(), self.devices[device].id());
        self.net.forget_unheld(device, &taken);
        let forgotten = self.devices[device].restore(&copy, &|id| held(id));
        self.tally.count(Fault::DeviceRestore);
        self.trace.line(&format!(
            "{step} d{device} restored from its backup ({forgotten} records it made since \
             never reached the server)"
        ));
    }
}

fn open(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("a server file opens")
}

/// Every record id a store (a server's or a phone's) holds, deleted ones included.
fn record_ids(conn: &rusqlite::Connection) -> BTreeSet<String> {
    let Ok(mut stmt) = conn.prepare("SELECT id FROM records") else {
        return BTreeSet::new();
    };
    stmt.query_map([], |r| r.get::<_, String>(0))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// Whether the server's file holds a record (live, deleted or refused into quarantine).
fn server_holds(path: PathBuf) -> impl Fn(Uuid) -> bool {
    move |id: Uuid| {
        let Ok(conn) = rusqlite::Connection::open(&path) else {
            return false;
        };
        let id = id.to_string();
        let in_records = conn
            .query_row("SELECT 1 FROM records WHERE id = ?1", [&id], |_| Ok(()))
            .is_ok();
        in_records
            || conn
                .query_row(
                    "SELECT 1 FROM quarantine WHERE mutation LIKE ?1",
                    [format!("%{id}%")],
                    |_| Ok(()),
                )
                .is_ok()
    }
}

/// The sequence numbers of a device's mutations the server's file holds an outcome for.
fn server_seqs(path: &std::path::Path, device: Uuid) -> BTreeSet<u64> {
    let Ok(conn) = rusqlite::Connection::open(path) else {
        return BTreeSet::new();
    };
    let Ok(mut stmt) = conn.prepare("SELECT seq FROM mutation_digests WHERE device_id = ?1") else {
        return BTreeSet::new();
    };
    stmt.query_map([device.to_string()], |r| r.get::<_, i64>(0))
        .map(|rows| {
            rows.flatten()
                .filter_map(|s| u64::try_from(s).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Each record's field versions in a store's table, as fixed-width text (which sorts as the
/// version does).
fn field_versions(
    conn: &rusqlite::Connection,
    table: &str,
) -> Vec<(String, BTreeMap<String, String>)> {
    let sql = format!("SELECT id, versions FROM {table}");
    let Ok(mut stmt) = conn.prepare(&sql) else {
        return Vec::new();
    };
    stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map(|rows| {
            rows.flatten()
                .filter_map(|(id, text)| Some((id, serde_json::from_str(&text).ok()?)))
                .collect()
        })
        .unwrap_or_default()
}
