//! Seeded time and randomness for the simulation: one virtual wall clock the simulator moves
//! on, seen by the server as it is and by each device through its own offset (a device's
//! clock can run ahead or behind, and jump), and a SplitMix64 generator per participant so
//! ids, tokens and codes replay exactly from the seed.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, TimeZone, Utc};
use pocketbook_core::Sources;

/// A small seeded generator (SplitMix64): the simulator's only source of choices.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator drawing from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An index into a collection of `len` items (`len` > 0).
    pub fn index(&mut self, len: usize) -> usize {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        usize::try_from(self.below(len)).unwrap_or(0)
    }

    /// True with probability `per_mille`/1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// A child generator for a participant, so one's draws do not shift another's.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next_u64())
    }
}

/// The virtual wall clock every participant reads (through its offset).
#[derive(Debug)]
pub struct Clock {
    now: Mutex<DateTime<Utc>>,
}

impl Clock {
    /// A clock at the simulation's fixed start.
    pub fn new() -> Arc<Self> {
        let start = Utc
            .with_ymd_and_hms(2026, 3, 2, 8, 0, 0)
            .single()
            .unwrap_or_else(Utc::now);
        Arc::new(Clock {
            now: Mutex::new(start),
        })
    }

    /// The true time.
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves true time on by `by`.
    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

/// One participant's sources: the shared clock plus its offset, and its own generator.
pub struct SimSources {
    clock: Arc<Clock>,
    offset: Mutex<Duration>,
    rng: Mutex<Rng>,
}

impl SimSources {
    /// Sources on `clock` with no offset, drawing from `rng`.
    pub fn new(clock: Arc<Clock>, rng: Rng) -> Arc<Self> {
        Arc::new(SimSources {
            clock,
            offset: Mutex::new(Duration::zero()),
            rng: Mutex::new(rng),
        })
    }

    /// Sets this participant's clock error (a clock jump).
    pub fn set_offset(&self, offset: Duration) {
        *self.offset.lock().unwrap_or_else(PoisonError::into_inner) = offset;
    }
}

impl fmt::Debug for SimSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimSources").finish_non_exhaustive()
    }
}

impl Sources for SimSources {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now() + *self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fill_random(&self, bytes: &mut [u8]) {
        let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
        for chunk in bytes.chunks_mut(8) {
            let word = rng.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}
