//! Compaction as an admin (issue 12): `pocketbook-server compact [--horizon-days N]` once, and
//! the same on a schedule inside `serve` (`--compact-every-hours H`, `0` off;
//! `--compact-horizon-days N`). The horizon defaults to the lease plus its grace and is never
//! shorter than the lease: a device that synced within its lease is never asked to resync.
//! The logic is the store's (`store::Compaction`); this checks the settings and words the
//! counts it prints and logs.

use std::time::Duration;

use super::AdminError;
use crate::store::{CompactReport, Compaction};

/// Milliseconds in a day.
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Longest horizon accepted, in days (ten years).
const MAX_HORIZON_DAYS: u64 = 3650;

/// `compact`'s settings.
#[derive(Debug, Clone, clap::Args)]
pub struct CompactArgs {
    /// Compact changes older than this many days (default: the lease plus its grace; never
    /// less than the lease).
    #[arg(long)]
    pub horizon_days: Option<u64>,
    /// The lease the serving process gives devices, in days (as `serve --lease-days`).
    #[arg(long, default_value_t = 28)]
    pub lease_days: u64,
    /// The lease's grace, in days (as `serve --lease-grace-days`).
    #[arg(long, default_value_t = 14)]
    pub lease_grace_days: u64,
}

/// `serve`'s compaction schedule.
#[derive(Debug, Clone, clap::Args)]
pub struct ScheduleArgs {
    /// Compact every this many hours while serving (0: never; run `compact` instead).
    #[arg(long, default_value_t = 24)]
    pub compact_every_hours: u64,
    /// Compact changes older than this many days (default: the lease plus its grace; never
    /// less than the lease).
    #[arg(long)]
    pub compact_horizon_days: Option<u64>,
}

/// The horizon in milliseconds: `asked` days, or the lease plus its grace; refused when
/// shorter than the lease (or absurdly long).
pub fn horizon_ms(
    lease_days: u64,
    grace_days: u64,
    asked: Option<u64>,
    flag: &'static str,
) -> Result<i64, AdminError> {
    let days = asked.unwrap_or(lease_days.saturating_add(grace_days));
    if days < lease_days {
        return Err(AdminError::InvalidChoice {
            flag,
            reason: format!(
                "the horizon ({days} days) must be at least the lease ({lease_days} days): a \
                 device that synced within its lease must never be asked to resync"
            ),
        });
    }
    if days > MAX_HORIZON_DAYS {
        return Err(AdminError::InvalidChoice {
            flag,
            reason: format!("the horizon must be at most {MAX_HORIZON_DAYS} days"),
        });
    }
    Ok(i64::try_from(days)
        .unwrap_or(i64::MAX)
        .saturating_mul(DAY_MS))
}

/// The line a compaction prints and logs: counts only.
pub fn describe(report: &CompactReport) -> String {
    format!(
        "compacted up to change {}: {} remove entries, {} tombstone entries, {} resolved \
         conflicts dropped; {} deleted records kept as minimal tombstones",
        report.horizon_seq,
        report.removes,
        report.tombstone_entries,
        report.conflicts,
        report.records
    )
}

/// Runs `compact`; returns the line to print.
pub async fn compact<S: Compaction>(store: &S, args: &CompactArgs) -> Result<String, AdminError> {
    let horizon = horizon_ms(
        args.lease_days,
        args.lease_grace_days,
        args.horizon_days,
        "horizon-days",
    )?;
    Ok(describe(&store.compact(horizon).await?))
}

/// Starts `serve`'s schedule: a compaction every `compact_every_hours` (the first one an
/// interval after start), its counts logged; a failure is logged and the next run tries again.
/// `None` when the schedule is off. Refuses a horizon shorter than the lease before serving.
pub fn schedule<S: Compaction + Send + Sync + 'static>(
    store: S,
    args: &ScheduleArgs,
    lease_days: u64,
    grace_days: u64,
) -> Result<Option<tokio::task::JoinHandle<()>>, AdminError> {
    let horizon = horizon_ms(
        lease_days,
        grace_days,
        args.compact_horizon_days,
        "compact-horizon-days",
    )?;
    if args.compact_every_hours == 0 {
        return Ok(None);
    }
    let every = Duration::from_secs(args.compact_every_hours.saturating_mul(3600));
    Ok(Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.compact(horizon).await {
                Ok(report) => tracing::info!(summary = %describe(&report), "compaction"),
                Err(e) => tracing::error!(error = %e, "compaction failed"),
            }
        }
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_horizon_defaults_to_lease_and_grace_and_is_never_shorter_than_the_lease() {
        assert_eq!(horizon_ms(28, 14, None, "h").ok(), Some(42 * DAY_MS));
        assert_eq!(horizon_ms(28, 14, Some(28), "h").ok(), Some(28 * DAY_MS));
        let short = horizon_ms(28, 14, Some(27), "horizon-days")
            .err()
            .map(|e| e.to_string());
        assert!(short.is_some_and(|m| m.starts_with("--horizon-days: ") && m.contains("lease")));
        assert!(horizon_ms(28, 14, Some(MAX_HORIZON_DAYS + 1), "h").is_err());
    }

    #[test]
    fn the_summary_holds_counts_only() {
        let line = describe(&CompactReport {
            horizon_seq: 9,
            removes: 1,
            tombstone_entries: 2,
            conflicts: 3,
            records: 4,
        });
        assert!(line.contains("change 9") && line.contains("4 deleted records"));
    }
}
