//! The seeded fault simulation (issue 12, in the manner of TigerBeetle's VOPR): several devices
//! (real encrypted stores) and a real server store in one process, on one thread, with seeded
//! time and ids, talking through a network that loses, delays, duplicates and reorders
//! requests and answers, a server that crashes between commit and answer, clocks that jump and
//! devices that die between two writes, a server restored from its backup and phones
//! restored from theirs. Officers act through the public API, weighted by the
//! seed. When the faults stop everyone syncs until quiet and the invariants are checked
//! (`check`). A run is a function of its seed and the commit: the same seed gives the same
//! trace digest.

mod check;
pub mod clock;
mod device;
pub mod net;
mod officer;
mod restore;
mod world;

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

pub use world::run_seed;

/// A kind of fault the simulation injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// A request lost on the way to the server.
    DropRequest,
    /// The server committed; its answer was lost.
    DropAnswer,
    /// A request delivered twice.
    Duplicate,
    /// A request delivered late, after the device gave up on it (reordered across devices).
    Delay,
    /// The server crashed (between a commit and its answer, or between requests) and
    /// restarted from its file.
    ServerCrash,
    /// A device's clock jumped (ahead or behind, within or beyond the skew limit).
    ClockJump,
    /// A device died between two writes and was opened again.
    DeviceDeath,
    /// The server restored from a backup taken earlier in the run (a new epoch: devices
    /// reconcile), its admin journal replayed a few steps later.
    ServerRestore,
    /// A device put back to a copy of its store taken earlier (a fork: it enrols its new
    /// identity with a fresh code).
    DeviceRestore,
}

impl Fault {
    /// Every kind, in order.
    pub const ALL: [Fault; 9] = [
        Fault::DropRequest,
        Fault::DropAnswer,
        Fault::Duplicate,
        Fault::Delay,
        Fault::ServerCrash,
        Fault::ClockJump,
        Fault::DeviceDeath,
        Fault::ServerRestore,
        Fault::DeviceRestore,
    ];
}

/// Faults injected, by kind.
#[derive(Debug, Default)]
pub struct Tally(Mutex<BTreeMap<Fault, u64>>);

impl Tally {
    /// Counts one fault.
    pub fn count(&self, fault: Fault) {
        *self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(fault)
            .or_default() += 1;
    }

    /// The counts so far.
    pub fn counts(&self) -> BTreeMap<Fault, u64> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The run's trace: every step, fault and answer folded into a digest (FNV-1a), and printed
/// as it happens when verbose (so a run that hangs shows where).
#[derive(Debug)]
pub struct Trace {
    state: Mutex<u64>,
    verbose: bool,
}

impl Trace {
    /// An empty trace; `verbose` prints its lines.
    pub fn new(verbose: bool) -> Self {
        Trace {
            state: Mutex::new(0xcbf2_9ce4_8422_2325),
            verbose,
        }
    }

    fn fold(hash: &mut u64, bytes: &[u8]) {
        for b in bytes {
            *hash ^= u64::from(*b);
            *hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Adds a line.
    pub fn line(&self, text: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Self::fold(&mut state, text.as_bytes());
        Self::fold(&mut state, b"\n");
        if self.verbose {
            println!("{text}");
        }
    }

    /// Adds an answer: its status as a line, its body into the digest.
    pub fn answer(
        &self,
        device: usize,
        path: &str,
        answer: &pocketbook_core::transport::WireResponse,
    ) {
        self.line(&format!("d{device} {path} -> {}", answer.status));
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        Self::fold(&mut state, &answer.body);
    }

    /// The digest so far.
    pub fn digest(&self) -> u64 {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How to run a seed.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Officer actions (and syncs) while faults are on.
    pub steps: u32,
    /// Print the trace as it happens.
    pub verbose: bool,
    /// Let an admin move an officer between teams during the run (on by default).
    pub moves: bool,
    /// Restore the server or phones from backups, as the seed's plan says (one kind per run,
    /// or none: see `restore`; on by default).
    pub restores: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            steps: 60,
            verbose: false,
            moves: true,
            restores: true,
        }
    }
}

/// What a seed's run came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The seed.
    pub seed: u64,
    /// The trace digest (the same seed and commit always give the same one).
    pub digest: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<Fault, u64>,
    /// Officer actions taken, and how many the core refused locally.
    pub actions: u64,
    /// Invariants that did not hold (empty: the seed passed).
    pub failures: Vec<String>,
}

impl Outcome {
    /// Whether every invariant held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}
