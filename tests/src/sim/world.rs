//! One seed's run: the world (server, officers, devices) set up through the admin functions
//! and real enrolment, the faulty phase (officer actions, network faults, crashes, clock jumps,
//! device deaths, restores, an officer moved between teams), then the quiet phase (faults
//! off, everyone syncs until nothing moves) and the checks.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Duration;
use pocketbook_protocol::{Officer, Role, Team};
use pocketbook_sync_server::admin;
use pocketbook_sync_server::store::Store;

use super::clock::{Clock, Rng, SimSources};
use super::device::SimDevice;
use super::net::{Net, Odds, Server};
use super::officer::{act, pick, Action};
use super::restore::{Plan, Restores};
use super::{check, Fault, Options, Outcome, Tally, Trace};

/// The server's address as the devices know it (never resolved: the transport is in-process).
pub const SERVER_URL: &str = "https://sync.sim.invalid";

/// Fault odds while faults are on (per mille per request).
const ODDS: Odds = Odds {
    drop_request: 50,
    drop_answer: 60,
    duplicate: 40,
    delay: 40,
    crash: 15,
};

/// Which officer each device belongs to: two phones for the first officer (the same officer's
/// edits on two devices), one each for the others.
const DEVICE_OFFICERS: [usize; 5] = [0, 0, 1, 2, 3];

/// Everything one run holds.
pub struct World {
    /// The run's directory (device and server files).
    pub dir: tempfile::TempDir,
    /// The shared virtual clock.
    pub clock: Arc<Clock>,
    /// The simulator's own choices.
    pub rng: Rng,
    /// The network and server.
    pub net: Arc<Net>,
    /// Teams A and B.
    pub teams: Vec<Team>,
    /// The officers: two officers and a supervisor in team A, an officer in team B.
    pub officers: Vec<Officer>,
    /// The phones.
    pub devices: Vec<SimDevice>,
    /// Faults injected.
    pub tally: Arc<Tally>,
    /// The trace.
    pub trace: Arc<Trace>,
    /// The restores planned for the run, and their state.
    pub restores: Restores,
}

/// Runs one seed on a single-threaded runtime.
pub fn run_seed(seed: u64, options: Options) -> Outcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(run(seed, options))
}

async fn run(seed: u64, options: Options) -> Outcome {
    let mut world = World::new(seed, options.verbose).await;
    if options.restores {
        world.restores = Restores::new(Plan::draw(seed, options.steps, world.devices.len()));
    }
    let mut actions = 0;
    world.net.set_odds(ODDS);
    for step in 0..options.steps {
        world.restore_step(step).await;
        world.faulty_step(step, options.moves).await;
        actions += 1;
    }
    world.settle_restore().await;
    world.net.set_odds(Odds::default());
    for device in &world.devices {
        device.sources.set_offset(Duration::zero());
    }
    world.net.deliver_late(true).await;
    let failures = check::settle_and_check(&mut world).await;
    if std::env::var_os("SIM_KEEP").is_some() {
        eprintln!("kept {}", world.dir.path().display());
        std::mem::forget(world.dir);
    }
    Outcome {
        seed,
        digest: world.trace.digest(),
        faults: world.tally.counts(),
        actions,
        failures,
    }
}

impl World {
    async fn new(seed: u64, verbose: bool) -> World {
        // Memory-backed when the machine has it: the same files, without waiting on a disk.
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("a temporary directory");
        let mut rng = Rng::new(seed);
        let clock = Clock::new();
        let tally = Arc::new(Tally::default());
        let trace = Arc::new(Trace::new(verbose));
        let server = Server::open(
            dir.path().join("server.db"),
            dir.path().join("admin-journal.jsonl"),
            SimSources::new(clock.clone(), rng.fork()),
        );
        let net = Net::new(
            server,
            rng.fork(),
            (tally.clone(), trace.clone()),
            clock.clone(),
        );
        let store = net.store();
        let mut teams = Vec::new();
        for name in ["Team A", "Team B"] {
            teams.push(
                admin::teams::add_team(&store, name.into())
                    .await
                    .expect("team"),
            );
        }
        store
            .put_establishments(vec![crate::server::test_school(crate::SCHOOL)])
            .await
            .expect("establishment");
        let mut officers = Vec::new();
        for (name, role, team) in [
            ("PC Ada", Role::Officer, 0),
            ("PC Bea", Role::Officer, 0),
            ("PS Cal", Role::Supervisor, 0),
            ("PC Dev", Role::Officer, 1),
        ] {
            let new = admin::teams::NewOfficer {
                name: name.into(),
                shoulder_number: "1000".into(),
                role,
                team_ids: vec![teams[team].id],
            };
            officers.push(
                admin::teams::add_officer(&store, new)
                    .await
                    .expect("officer"),
            );
        }
        let mut world = World {
            dir,
            clock,
            rng,
            net,
            teams,
            officers,
            devices: Vec::new(),
            tally,
            trace,
            restores: Restores::new(Plan::Nothing),
        };
        for (index, officer) in DEVICE_OFFICERS.into_iter().enumerate() {
            let device = world.enrolled_device(index, officer).await;
            world.devices.push(device);
        }
        world.first_records().await;
        world
    }

    /// Records every run starts from (on a perfect network): young people in both teams, two
    /// visits and a concern, synced everywhere.
    async fn first_records(&mut self) {
        let lead = self.officers[2].id;
        for (d, action) in [
            (0, Action::AddYoungPerson),
            (0, Action::RecordVisit),
            (0, Action::RecordVisit),
            (2, Action::AddYoungPerson),
            (3, Action::RaiseConcern),
            (4, Action::AddYoungPerson),
            (4, Action::RecordVisit),
            (4, Action::RaiseConcern),
        ] {
            let line = act(&mut self.devices[d], action, &mut self.rng, lead).await;
            self.trace.line(&format!("start d{d} {line}"));
        }
        for _ in 0..2 {
            for device in &mut self.devices {
                let outcome = device.sync().await.map(|_| ());
                self.trace
                    .line(&format!("start d{} sync {outcome:?}", device.index));
            }
        }
    }

    /// A new phone for `officer`, enrolled with a code an admin issued (faults must be off).
    pub async fn enrolled_device(&mut self, index: usize, officer: usize) -> SimDevice {
        let sources = SimSources::new(self.clock.clone(), self.rng.fork());
        let path: PathBuf = self.dir.path().join(format!("device-{index}.db"));
        let device = SimDevice::new(
            index,
            (officer, self.officers[officer].id),
            path,
            sources,
            self.net.clone(),
        );
        let code = admin::codes::issue_code(&self.net.store(), self.officers[officer].id, 24)
            .await
            .expect("a code");
        device
            .book()
            .enroll(SERVER_URL, &code)
            .await
            .expect("enrolment on a perfect network");
        device
    }

    /// One step of the faulty phase: time passes, maybe a fault outside the network, late
    /// requests maybe arrive, then one officer acts on one device.
    async fn faulty_step(&mut self, step: u32, moves: bool) {
        self.clock.advance(Duration::seconds(
            i64::try_from(self.rng.below(600)).unwrap_or(0),
        ));
        let roll = self.rng.below(1000);
        let n = self.devices.len();
        if roll < 25 {
            let d = self.rng.index(n);
            let jumps = [-120, -10, 3, 20, 180];
            let minutes = jumps[self.rng.index(jumps.len())];
            self.devices[d]
                .sources
                .set_offset(Duration::minutes(minutes));
            self.tally.count(Fault::ClockJump);
            self.trace
                .line(&format!("{step} d{d} clock {minutes:+} min"));
        } else if roll < 45 {
            let d = self.rng.index(n);
            self.devices[d].die_and_reopen();
            self.tally.count(Fault::DeviceDeath);
            self.trace.line(&format!("{step} d{d} died and reopened"));
        } else if roll < 55 {
            self.net.restart_server();
        } else if roll < 65 && moves && self.restores.moves_allowed() {
            self.move_officer(step).await;
        }
        self.net.deliver_late(false).await;
        let d = self.rng.index(n);
        let action = pick(&mut self.rng);
        let lead = self.officers[2].id;
        let line = act(&mut self.devices[d], action, &mut self.rng, lead).await;
        self.trace.line(&format!("{step} d{d} {line}"));
    }

    /// An admin moves the second officer to the other team (their devices see it at their
    /// next sync: records leave and arrive).
    async fn move_officer(&mut self, step: u32) {
        let officer = &self.officers[1];
        let to = if officer.team_ids.first() == Some(&self.teams[0].id) {
            self.teams[1].id
        } else {
            self.teams[0].id
        };
        let moved = admin::teams::update_officer(&self.net.store(), officer.id, vec![to], None)
            .await
            .expect("the officer moves");
        self.officers[1] = moved;
        self.trace.line(&format!("{step} officer 1 moved"));
    }
}
