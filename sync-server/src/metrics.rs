//! Prometheus metrics of one server process, served at `/metrics` in the text exposition
//! format: requests by route and status, mutations by outcome, conflicts made, and how long
//! pushes and pulls take. Counters live in memory (each process is scraped on its own).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the sync duration histogram.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One histogram: counts per bucket, total count and sum.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    applied: AtomicU64,
    merged: AtomicU64,
    rejected: AtomicU64,
    conflicts: AtomicU64,
    push: Histogram,
    pull: Histogram,
}

/// Which half of a sync a duration belongs to.
#[derive(Debug, Clone, Copy)]
pub enum SyncKind {
    /// A push.
    Push,
    /// A pull.
    Pull,
}

impl Metrics {
    /// Counts a request to `route` answered with `status`.
    pub fn request(&self, route: &str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((route.to_string(), status)).or_default() += 1;
    }

    /// Counts the outcomes of one push.
    pub fn mutations(&self, applied: u64, merged: u64, rejected: u64, conflicts: u64) {
        self.applied.fetch_add(applied, Ordering::Relaxed);
        self.merged.fetch_add(merged, Ordering::Relaxed);
        self.rejected.fetch_add(rejected, Ordering::Relaxed);
        self.conflicts.fetch_add(conflicts, Ordering::Relaxed);
    }

    /// Records how long a push or pull took.
    pub fn sync_duration(&self, kind: SyncKind, d: Duration) {
        match kind {
            SyncKind::Push => self.push.observe(d),
            SyncKind::Pull => self.pull.observe(d),
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP pocketbook_http_requests_total HTTP requests by route and status."
        );
        let _ = writeln!(out, "# TYPE pocketbook_http_requests_total counter");
        let map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        for ((route, status), n) in map.iter() {
            let _ = writeln!(
                out,
                "pocketbook_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        drop(map);
        let _ = writeln!(
            out,
            "# HELP pocketbook_mutations_total Pushed mutations by outcome."
        );
        let _ = writeln!(out, "# TYPE pocketbook_mutations_total counter");
        for (outcome, n) in [
            ("applied", &self.applied),
            ("merged", &self.merged),
            ("rejected", &self.rejected),
        ] {
            let _ = writeln!(
                out,
                "pocketbook_mutations_total{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP pocketbook_conflicts_total Conflicts made by merges."
        );
        let _ = writeln!(out, "# TYPE pocketbook_conflicts_total counter");
        let _ = writeln!(
            out,
            "pocketbook_conflicts_total {}",
            self.conflicts.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP pocketbook_sync_duration_seconds Time to serve a push or pull."
        );
        let _ = writeln!(out, "# TYPE pocketbook_sync_duration_seconds histogram");
        for (kind, h) in [("push", &self.push), ("pull", &self.pull)] {
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "pocketbook_sync_duration_seconds_bucket{{kind=\"{kind}\",le=\"{bound}\"}} {}",
                    h.buckets[i].load(Ordering::Relaxed)
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "pocketbook_sync_duration_seconds_bucket{{kind=\"{kind}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "pocketbook_sync_duration_seconds_sum{{kind=\"{kind}\"}} {}",
                micros_as_seconds(h.sum_micros.load(Ordering::Relaxed))
            );
            let _ = writeln!(
                out,
                "pocketbook_sync_duration_seconds_count{{kind=\"{kind}\"}} {count}"
            );
        }
        out
    }
}

/// Microseconds as seconds for the exposition format; precision past 2^52 µs (142 years)
/// does not matter.
#[allow(clippy::cast_precision_loss)]
fn micros_as_seconds(micros: u64) -> f64 {
    micros as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_the_exposition_format() {
        let m = Metrics::default();
        m.request("/v1/sync/push", 200);
        m.request("/v1/sync/push", 200);
        m.request("/v1/enroll", 403);
        m.mutations(3, 1, 2, 1);
        m.sync_duration(SyncKind::Push, Duration::from_millis(30));
        let text = m.render();
        assert!(text
            .contains("pocketbook_http_requests_total{route=\"/v1/sync/push\",status=\"200\"} 2"));
        assert!(
            text.contains("pocketbook_http_requests_total{route=\"/v1/enroll\",status=\"403\"} 1")
        );
        assert!(text.contains("pocketbook_mutations_total{outcome=\"rejected\"} 2"));
        assert!(text.contains("pocketbook_conflicts_total 1"));
        assert!(
            text.contains("pocketbook_sync_duration_seconds_bucket{kind=\"push\",le=\"0.025\"} 0")
        );
        assert!(
            text.contains("pocketbook_sync_duration_seconds_bucket{kind=\"push\",le=\"0.05\"} 1")
        );
        assert!(text.contains("pocketbook_sync_duration_seconds_count{kind=\"push\"} 1"));
    }
}
