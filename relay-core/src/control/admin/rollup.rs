//! Per-minute metric points: counted in memory as traffic flows, merged into the store by
//! [`Metrics::flush`](crate::control::admin::Metrics::flush) (counters add up across nodes), read back by the admin API.
//!
//! Metrics per source: `received`, `accepted`, `duplicates`, `sig_failures`, `rate_limited`,
//! and `sig_failures_dropped` (refused signatures over the per-minute cap of records, not
//! stored one by one; see [`crate::ingest::sig_failure`]).
//! Per destination: `delivered`, `failed` (an attempt that will be retried),
//! `dead_lettered`, `dead_letters_replayed` (dead letters an operator sent again: they no
//! longer count as failures in the success rate), and the delivery latency (event received → delivered) as a histogram of
//! `latency_le_<ms>` buckets (plus `latency_le_inf`), so percentiles stay exact across nodes.
//! Per gateway: `unknown_source`, and `queue_depth` (a gauge: the largest count of pending
//! and in-flight deliveries seen in the minute, recorded by the delivery worker).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::{MetricPoint, MetricScope};
use crate::ingest::outcome::IngestOutcome;
use crate::model::event::AttemptOutcome;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::observe::{AttemptRecorded, IngestSeen, Observer, SignatureFailureSeen};

/// Upper bounds (milliseconds) of the delivery-latency buckets.
pub const LATENCY_BUCKETS_MS: [u64; 12] = [
    10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000,
];

const MINUTE_MS: i64 = 60_000;

/// The counter of refused signatures not stored one by one (scope source).
pub const SIG_FAILURES_DROPPED: &str = "sig_failures_dropped";

/// The counter of dead letters sent again by a replay or redrive (scope destination).
pub const DEAD_LETTERS_REPLAYED: &str = "dead_letters_replayed";

/// The gauge metric of the queue's depth (scope gateway).
pub const QUEUE_DEPTH: &str = "queue_depth";

pub(super) type Key = (TenantId, i64, MetricScope, String, &'static str);

/// In-memory counts not yet merged into the store; the relay's built-in rollup
/// [observer](crate::observe) counts into it.
#[derive(Debug, Default)]
pub(crate) struct Rollup {
    pending: Mutex<HashMap<Key, i64>>,
}

pub(super) fn minute_of(at: Timestamp) -> i64 {
    at.as_millis().div_euclid(MINUTE_MS) * MINUTE_MS
}

/// The name of the latency bucket holding `ms`.
pub fn latency_bucket(ms: u64) -> &'static str {
    const NAMES: [&str; 13] = [
        "latency_le_10",
        "latency_le_25",
        "latency_le_50",
        "latency_le_100",
        "latency_le_250",
        "latency_le_500",
        "latency_le_1000",
        "latency_le_2500",
        "latency_le_5000",
        "latency_le_10000",
        "latency_le_30000",
        "latency_le_60000",
        "latency_le_inf",
    ];
    let index = LATENCY_BUCKETS_MS.iter().position(|b| ms <= *b);
    NAMES[index.unwrap_or(LATENCY_BUCKETS_MS.len())]
}

impl Rollup {
    /// Counts one of each of `metrics` for `(scope, name)` in the current minute, under one
    /// lock (this runs on the ingest and delivery paths).
    fn add(&self, tenant: &TenantId, scope: MetricScope, name: &str, metrics: &[&'static str]) {
        let minute = minute_of(Timestamp::now());
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for metric in metrics {
            let key = (tenant.clone(), minute, scope, name.to_owned(), *metric);
            *pending.entry(key).or_insert(0) += 1;
        }
    }

    /// Counts `count` dead letters of `destination` sent again by an operator's replay or
    /// redrive.
    pub(crate) fn dead_letters_replayed(&self, tenant: &TenantId, destination: &str, count: i64) {
        if count <= 0 {
            return;
        }
        let minute = minute_of(Timestamp::now());
        let scope = MetricScope::Destination;
        let key = (
            tenant.clone(),
            minute,
            scope,
            destination.to_owned(),
            DEAD_LETTERS_REPLAYED,
        );
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        *pending.entry(key).or_insert(0) += count;
    }

    /// Counts an ingest outcome for `source`.
    pub(crate) fn ingest(&self, tenant: &TenantId, source: &str, outcome: &IngestOutcome) {
        let metric = match outcome {
            IngestOutcome::UnknownSource => {
                return self.add(tenant, MetricScope::Gateway, "", &["unknown_source"]);
            }
            IngestOutcome::Accepted { .. } => Some("accepted"),
            IngestOutcome::Duplicate { .. } => Some("duplicates"),
            IngestOutcome::InvalidSignature => Some("sig_failures"),
            IngestOutcome::RateLimited { .. } => Some("rate_limited"),
            _ => None,
        };
        match metric {
            Some(metric) => self.add(tenant, MetricScope::Source, source, &["received", metric]),
            None => self.add(tenant, MetricScope::Source, source, &["received"]),
        }
    }

    /// Counts an attempt's outcome for `destination`; a delivery also counts its latency
    /// since the event was received.
    pub(crate) fn attempt(
        &self,
        tenant: &TenantId,
        destination: &str,
        outcome: AttemptOutcome,
        since_received: Duration,
    ) {
        let scope = MetricScope::Destination;
        match outcome {
            AttemptOutcome::Delivered => {
                let ms = u64::try_from(since_received.as_millis()).unwrap_or(u64::MAX);
                self.add(
                    tenant,
                    scope,
                    destination,
                    &["delivered", latency_bucket(ms)],
                );
            }
            AttemptOutcome::Retrying => self.add(tenant, scope, destination, &["failed"]),
            AttemptOutcome::DeadLettered => {
                self.add(tenant, scope, destination, &["dead_lettered"])
            }
        }
    }

    pub(super) fn take(&self) -> HashMap<Key, i64> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(super) fn put_back(&self, counts: HashMap<Key, i64>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for (key, value) in counts {
            *pending.entry(key).or_insert(0) += value;
        }
    }
}

impl Observer for Rollup {
    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        self.ingest(ingest.tenant, ingest.source, ingest.outcome);
    }

    fn on_signature_failure(&self, failure: &SignatureFailureSeen<'_>) {
        if !failure.recorded {
            let scope = MetricScope::Source;
            self.add(
                failure.tenant,
                scope,
                failure.source,
                &[SIG_FAILURES_DROPPED],
            );
        }
    }

    fn on_attempt_recorded(&self, recorded: &AttemptRecorded<'_>) {
        let (tenant, destination) = (recorded.tenant, recorded.destination);
        self.attempt(
            tenant,
            destination,
            recorded.outcome,
            recorded.since_received,
        );
    }
}

/// A latency percentile read from the histogram's buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Percentile {
    /// At most this many milliseconds (the upper bound of its bucket).
    AtMost(u64),
    /// More than this many milliseconds: beyond the largest bounded bucket
    /// ([`LATENCY_BUCKETS_MS`]'s last), so no upper bound is known.
    Over(u64),
}

impl Percentile {
    /// The bound in milliseconds when it is one (`None` for [`Percentile::Over`]).
    pub fn at_most_ms(self) -> Option<u64> {
        match self {
            Self::AtMost(ms) => Some(ms),
            Self::Over(_) => None,
        }
    }

    /// The lower bound in milliseconds for [`Percentile::Over`] (`None` otherwise).
    pub fn over_ms(self) -> Option<u64> {
        match self {
            Self::AtMost(_) => None,
            Self::Over(ms) => Some(ms),
        }
    }
}

/// Totals over a set of points, for an overview.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct MetricSummary {
    /// Every metric summed over the points.
    pub totals: std::collections::BTreeMap<String, i64>,
    /// delivered / (delivered + dead letters not replayed), when anything finished:
    /// `dead_lettered` minus `dead_letters_replayed` (at least 0) counts the failures, so
    /// the rate recovers once the dead letters were replayed and delivered (a replay that
    /// fails again is dead-lettered, and counted, again).
    pub success_rate: Option<f64>,
    /// Median delivery latency (event received → delivered).
    pub latency_p50: Option<Percentile>,
    /// 95th percentile delivery latency (event received → delivered).
    pub latency_p95: Option<Percentile>,
    /// 99th percentile delivery latency (event received → delivered).
    pub latency_p99: Option<Percentile>,
    /// The queue depth of the latest minute that has one (a gauge: not summed).
    pub queue_depth: Option<i64>,
}

/// Sums points into totals, a success rate and latency percentiles.
pub fn summarize(points: &[MetricPoint]) -> MetricSummary {
    let mut totals = std::collections::BTreeMap::new();
    for p in points.iter().filter(|p| p.metric != QUEUE_DEPTH) {
        *totals.entry(p.metric.clone()).or_insert(0) += p.value;
    }
    let queue_depth = (points.iter())
        .filter(|p| p.metric == QUEUE_DEPTH)
        .max_by_key(|p| p.minute)
        .map(|p| p.value);
    let get = |m: &str| totals.get(m).copied().unwrap_or(0);
    let failed = (get("dead_lettered") - get(DEAD_LETTERS_REPLAYED)).max(0);
    let finished = get("delivered") + failed;
    let success_rate = (finished > 0).then(|| get("delivered") as f64 / finished as f64);
    let last = LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.len() - 1];
    let buckets: Vec<(Percentile, i64)> = LATENCY_BUCKETS_MS
        .iter()
        .map(|b| (Percentile::AtMost(*b), get(latency_bucket(*b))))
        .chain([(Percentile::Over(last), get("latency_le_inf"))])
        .collect();
    let count: i64 = buckets.iter().map(|(_, n)| n).sum();
    let quantile = |q: f64| {
        let rank = (q * count as f64).ceil().max(1.0) as i64;
        let mut seen = 0;
        buckets.iter().find_map(|(bound, n)| {
            seen += n;
            (seen >= rank).then_some(*bound)
        })
    };
    let p = |q| if count > 0 { quantile(q) } else { None };
    MetricSummary {
        success_rate,
        latency_p50: p(0.5),
        latency_p95: p(0.95),
        latency_p99: p(0.99),
        queue_depth,
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Relay;
    use crate::control::admin::MetricQuery;

    fn point(metric: &str, value: i64) -> MetricPoint {
        MetricPoint {
            minute: Timestamp::from_millis(0),
            scope: MetricScope::Destination,
            name: "d".into(),
            metric: metric.into(),
            value,
        }
    }

    #[test]
    fn buckets_cover_everything() {
        assert_eq!(latency_bucket(0), "latency_le_10");
        assert_eq!(latency_bucket(10), "latency_le_10");
        assert_eq!(latency_bucket(11), "latency_le_25");
        assert_eq!(latency_bucket(60_000), "latency_le_60000");
        assert_eq!(latency_bucket(u64::MAX), "latency_le_inf");
    }

    #[test]
    fn summary_percentiles_and_rate() {
        let points = [
            point("delivered", 9),
            point("dead_lettered", 1),
            point("latency_le_10", 5),
            point("latency_le_100", 4),
            point("latency_le_inf", 1),
        ];
        let s = summarize(&points);
        assert_eq!(s.success_rate, Some(0.9));
        assert_eq!(s.latency_p50, Some(Percentile::AtMost(10)));
        assert_eq!(s.latency_p95, Some(Percentile::Over(60_000)));
        assert_eq!(s.latency_p99, Some(Percentile::Over(60_000)));
        assert_eq!(s.latency_p99.and_then(Percentile::at_most_ms), None);
        assert_eq!(s.latency_p99.and_then(Percentile::over_ms), Some(60_000));
        assert_eq!(s.totals["delivered"], 9);
        assert_eq!(summarize(&[]).latency_p50, None);
        assert_eq!(summarize(&[]).success_rate, None);
    }

    #[test]
    fn replayed_dead_letters_stop_counting_as_failures() {
        // Two dead letters, both replayed and delivered: every delivery succeeded.
        let recovered = [
            point("delivered", 10),
            point("dead_lettered", 2),
            point(DEAD_LETTERS_REPLAYED, 2),
        ];
        assert_eq!(summarize(&recovered).success_rate, Some(1.0));
        // One replay failed again: dead-lettered a second time, one failure remains.
        let again = [
            point("delivered", 9),
            point("dead_lettered", 3),
            point(DEAD_LETTERS_REPLAYED, 2),
        ];
        assert_eq!(summarize(&again).success_rate, Some(0.9));
        // Replays counted in a later period than their dead letters never make it negative.
        let later = [point("delivered", 4), point(DEAD_LETTERS_REPLAYED, 3)];
        assert_eq!(summarize(&later).success_rate, Some(1.0));
    }

    #[test]
    fn counted_replays_add_up() {
        let rollup = Rollup::default();
        let tenant = TenantId::default();
        rollup.dead_letters_replayed(&tenant, "crm", 3);
        rollup.dead_letters_replayed(&tenant, "crm", 0);
        let counts = rollup.take();
        let values: Vec<_> = counts
            .iter()
            .map(|(k, v)| (k.3.as_str(), k.4, *v))
            .collect();
        assert_eq!(values, vec![("crm", DEAD_LETTERS_REPLAYED, 3)]);
    }

    #[test]
    fn queue_depth_is_the_latest_gauge_not_a_sum() {
        let at = |minute: i64, value| MetricPoint {
            minute: Timestamp::from_millis(minute * MINUTE_MS),
            ..point(QUEUE_DEPTH, value)
        };
        let s = summarize(&[at(2, 7), at(1, 40), point("delivered", 3)]);
        assert_eq!(s.queue_depth, Some(7));
        assert!(!s.totals.contains_key(QUEUE_DEPTH));
        assert_eq!(summarize(&[]).queue_depth, None);
    }

    #[tokio::test]
    async fn the_queue_depth_point_keeps_the_minutes_largest_value() {
        let relay = Relay::builder().build().unwrap();
        relay.metrics().record_queue_depth(12).await.unwrap();
        relay.metrics().record_queue_depth(3).await.unwrap();
        let query = MetricQuery {
            from: Timestamp::from_millis(0),
            to: Timestamp::now().plus(Duration::from_secs(120)),
            scope: Some(MetricScope::Gateway),
            name: None,
        };
        let points = relay
            .store()
            .metric_points(&TenantId::default(), &query)
            .await
            .unwrap();
        assert_eq!(summarize(&points).queue_depth, Some(12));
    }
}
