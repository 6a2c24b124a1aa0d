//! What every request handler shares: the server's settings ([`Config`]) and its state
//! ([`AppState`]: the store, the settings and the metrics). Both the API and the request guards
//! depend on this module, and not on each other for it.

use std::sync::Arc;
use std::time::Duration;

use pocketbook_protocol::limits::MAX_MUTATIONS_PER_PUSH;

use crate::guard::rate::Rate;
use crate::guard::Guards;
use crate::metrics::Metrics;
use crate::proxy::Cidr;
use crate::store::Store;

/// Server settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    /// How long a device may go without syncing before it must re-authenticate: a pull (and a
    /// push within the lease) renews the lease to now plus this.
    pub lease_seconds: u64,
    /// How long past its lease a device may still push (an officer at a door must be able to
    /// record, and the record must reach the station); pulls answer `401 lease_expired` at
    /// once, and pushes too after this.
    pub lease_grace_seconds: u64,
    /// Most mutations accepted in one push (more answer 413 and the device splits). The bound
    /// is `protocol::limits::MAX_MUTATIONS_PER_PUSH`; a setting may only lower it (tests do).
    pub max_batch: usize,
    /// How long a connection may take to send a request's head (and a TLS handshake) before it
    /// is closed.
    pub header_read_timeout: Duration,
    /// How long a request may take from its head to its answer, reading its body included;
    /// past it the answer is `408 timeout`.
    pub request_timeout: Duration,
    /// Most requests in flight at once; beyond it `503 busy` with `Retry-After`, at once.
    pub max_in_flight: usize,
    /// Each device's allowance of pushes.
    pub push_rate: Rate,
    /// Each device's allowance of pull pages.
    pub pull_rate: Rate,
    /// Enrolment attempts per client address per minute, checked in memory before the store
    /// (which counts them again, across servers sharing a database).
    pub enrol_per_minute: u32,
}

impl Default for Config {
    /// A 28-day lease with 14 days' grace for pushes, `MAX_MUTATIONS_PER_PUSH` mutations a push, 10 s for a request head, 60 s
    /// for a request, 512 requests in flight, per device a burst of 60 pushes then 2 a second
    /// and a burst of 1,200 pull pages then 20 a second, 10 enrolments a minute per address.
    fn default() -> Self {
        Config {
            lease_seconds: 28 * 24 * 3600,
            lease_grace_seconds: 14 * 24 * 3600,
            max_batch: MAX_MUTATIONS_PER_PUSH,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_in_flight: 512,
            push_rate: Rate {
                burst: 60,
                per_second: 2.0,
            },
            pull_rate: Rate {
                burst: 1_200,
                per_second: 20.0,
            },
            enrol_per_minute: 10,
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

/// Settings of how the server meets its network (issue 11), apart from [`Config`] (which is
/// `Copy`): the proxies whose `X-Forwarded-For` it believes, and whether `/metrics` is served
/// on a listener of its own (and then not on the API's).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    /// Peers whose forwarded address the enrolment limit keys on (`--trusted-proxy`).
    pub trusted_proxies: Vec<Cidr>,
    /// `/metrics` is served on a separate listener (`--metrics-listen`), not the API's.
    pub metrics_apart: bool,
    /// Closed while a restore is pending (issue 12): `/v1/*` answers `503 restore_pending`.
    pub restore_gate: crate::journal::RestoreGate,
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
    /// The transport guards (in-flight cap, rate limits).
    pub guards: Arc<Guards>,
    /// Trusted proxies and where metrics are served.
    pub transport: Arc<Transport>,
}

impl<S: Store> AppState<S> {
    /// The state of a new server over `store` with `config` and fresh metrics.
    pub fn new(store: S, config: Config) -> Self {
        AppState {
            store,
            guards: Arc::new(Guards::new(&config)),
            config,
            metrics: Arc::new(Metrics::default()),
            transport: Arc::new(Transport::default()),
        }
    }

    /// This state with `transport` settings.
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = Arc::new(transport);
        self
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
