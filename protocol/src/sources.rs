//! Where wall time and randomness come from, behind one trait, so the core and the server can
//! run on the system's clock and generator in production and on seeded ones in tests and the
//! fault simulation, where a seed replays a run exactly. [`SystemSources`] reads the system
//! clock and the operating system's random source; [`SeededSources`] reads nothing.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

/// Wall time and randomness, as a device or server needs them.
pub trait Sources: Send + Sync + fmt::Debug {
    /// The current wall time.
    fn now(&self) -> DateTime<Utc>;

    /// Fills `bytes` with random bytes (unpredictable in production: tokens and codes are made
    /// from them).
    fn fill_random(&self, bytes: &mut [u8]);

    /// A new record or device id: a UUIDv7 of the current time and random bits.
    fn new_id(&self) -> Uuid {
        let mut random = [0u8; 10];
        self.fill_random(&mut random);
        let millis = u64::try_from(self.now().timestamp_millis()).unwrap_or(0);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }
}

/// The system clock and the operating system's random generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemSources;

impl Sources for SystemSources {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn fill_random(&self, bytes: &mut [u8]) {
        rand::fill(bytes);
    }

    fn new_id(&self) -> Uuid {
        // The uuid crate's own v7 keeps ids made within one millisecond in order.
        Uuid::now_v7()
    }
}

/// Seeded time and randomness: time stands still until [`SeededSources::advance`], and the
/// random bytes are a fixed sequence (SplitMix64) of the seed. Never for tokens in production.
pub struct SeededSources {
    state: Mutex<SeededState>,
}

struct SeededState {
    now: DateTime<Utc>,
    rng: u64,
}

impl SeededSources {
    /// Sources that start at `start` and draw from `seed`.
    pub fn new(seed: u64, start: DateTime<Utc>) -> Self {
        SeededSources {
            state: Mutex::new(SeededState {
                now: start,
                rng: seed,
            }),
        }
    }

    /// Moves time on by `by` (or back, if negative: a clock jump).
    pub fn advance(&self, by: Duration) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.now += by;
    }

    /// The next 64 random bits of the sequence.
    pub fn next_u64(&self) -> u64 {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        splitmix64(&mut state.rng)
    }
}

impl fmt::Debug for SeededSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeededSources").finish_non_exhaustive()
    }
}

impl Sources for SeededSources {
    fn now(&self) -> DateTime<Utc> {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .now
    }

    fn fill_random(&self, bytes: &mut [u8]) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for chunk in bytes.chunks_mut(8) {
            let word = splitmix64(&mut state.rng).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// One step of SplitMix64: a small, well-mixed generator for reproducible runs.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_764_494_000_000).unwrap_or_default()
    }

    #[test]
    fn a_seed_replays_the_same_ids_and_bytes() {
        let (a, b) = (
            SeededSources::new(7, start()),
            SeededSources::new(7, start()),
        );
        assert_eq!(a.new_id(), b.new_id());
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill_random(&mut x);
        b.fill_random(&mut y);
        assert_eq!(x, y);
        let other = SeededSources::new(8, start());
        assert_ne!(other.new_id(), SeededSources::new(7, start()).new_id());
    }

    #[test]
    fn seeded_time_stands_still_until_advanced_and_ids_carry_it() {
        let s = SeededSources::new(1, start());
        assert_eq!(s.now(), start());
        s.advance(Duration::seconds(90));
        assert_eq!(s.now(), start() + Duration::seconds(90));
        let id = s.new_id();
        assert_eq!(id.get_version_num(), 7);
        let (secs, _) = id.get_timestamp().map(|t| t.to_unix()).unwrap_or_default();
        assert_eq!(i64::try_from(secs).unwrap_or_default(), s.now().timestamp());
    }
}
