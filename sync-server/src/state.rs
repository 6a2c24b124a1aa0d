//! What every request handler shares: the server's settings ([`Config`]) and its state
//! ([`AppState`]: the store, the settings and the metrics). Both the API and the request guards
//! depend on this module, and not on each other for it.

use std::sync::Arc;

use crate::metrics::Metrics;
use crate::store::Store;

/// Server settings.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// How long a device may go without syncing before it must re-authenticate.
    pub lease_seconds: u64,
    /// Most mutations accepted in one push (more answer 413 and the device splits).
    pub max_batch: usize,
}

impl Default for Config {
    /// A 28-day lease, 1,000 mutations a push.
    fn default() -> Self {
        Config {
            lease_seconds: 28 * 24 * 3600,
            max_batch: 1_000,
        }
    }
}

/// A lease outside the days a server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("--lease-days must be between 1 and 365")]
pub struct LeaseOutOfRange;

impl Config {
    /// The default settings with a lease of `days` (1 to 365).
    pub fn with_lease_days(days: u64) -> Result<Config, LeaseOutOfRange> {
        if !(1..=365).contains(&days) {
            return Err(LeaseOutOfRange);
        }
        Ok(Config {
            lease_seconds: days * 24 * 3600,
            ..Config::default()
        })
    }
}

/// The state every handler shares: the store and the settings.
#[derive(Clone)]
pub struct AppState<S: Store> {
    /// The backend.
    pub store: S,
    /// Settings.
    pub config: Config,
    /// This process's metrics.
    pub metrics: Arc<Metrics>,
}

impl<S: Store> AppState<S> {
    /// The state of a new server over `store` with `config` and fresh metrics.
    pub fn new(store: S, config: Config) -> Self {
        AppState {
            store,
            config,
            metrics: Arc::new(Metrics::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_between_one_day_and_a_year() {
        assert_eq!(
            Config::with_lease_days(7).map(|c| c.lease_seconds),
            Ok(7 * 24 * 3600)
        );
        assert_eq!(Config::with_lease_days(0).err(), Some(LeaseOutOfRange));
        assert_eq!(Config::with_lease_days(366).err(), Some(LeaseOutOfRange));
    }
}
