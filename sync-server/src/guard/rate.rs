//! Token buckets in memory, one per key (a device, or a client address for enrolment): the
//! per-device push and pull rate limits and the enrolment pre-check, answered without touching
//! the store so a throttled request never waits behind its writer lock.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A rate: a burst of `burst` requests, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
    /// Requests a second allowed after the burst.
    pub per_second: f64,
}

/// Keys kept before idle (full) buckets are dropped.
const PRUNE_FROM: usize = 10_000;
/// Keys kept at most; past it a new key is refused until old ones refill (only a flood of
/// distinct client addresses reaches it).
const MAX_KEYS: usize = 200_000;

/// One token bucket per key.
#[derive(Debug)]
pub struct Limiter<K> {
    rate: Rate,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Eq + Hash + Clone> Limiter<K> {
    /// A limiter at `rate` for every key.
    pub fn new(rate: Rate) -> Self {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now`: `Ok` when there was one, else how long until there
    /// will be.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.rate.burst.max(1));
        let per_second = if self.rate.per_second > 0.0 {
            self.rate.per_second
        } else {
            f64::MIN_POSITIVE
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !buckets.contains_key(key) && buckets.len() >= PRUNE_FROM {
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * per_second < burst
            });
            if buckets.len() >= MAX_KEYS {
                return Err(Duration::from_secs(1));
            }
        }
        let (tokens, at) = buckets.entry(key.clone()).or_insert((burst, now));
        let refilled =
            (*tokens + now.saturating_duration_since(*at).as_secs_f64() * per_second).min(burst);
        *at = now;
        if refilled >= 1.0 {
            *tokens = refilled - 1.0;
            Ok(())
        } else {
            *tokens = refilled;
            Err(Duration::from_secs_f64(
                ((1.0 - refilled) / per_second).min(3600.0),
            ))
        }
    }
}

/// Whole seconds to put in `Retry-After` for a wait (at least 1).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let limiter = Limiter::new(Rate {
            burst: 3,
            per_second: 2.0,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(&"a", t0), Ok(()));
        }
        let wait = limiter.check(&"a", t0).expect_err("over the burst");
        assert_eq!(retry_after_secs(wait), 1);
        // Another key has its own bucket.
        assert_eq!(limiter.check(&"b", t0), Ok(()));
        // Half a second later one more token has come back.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(limiter.check(&"a", t1), Ok(()));
        assert!(limiter.check(&"a", t1).is_err());
    }
}
