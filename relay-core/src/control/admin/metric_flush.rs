//! [`Metrics`] (`relay.metrics()`): flushing the per-minute counts of [`Rollup`](super::rollup) into the store (counters add up
//! across nodes, the queue-depth gauge keeps the largest) and reading the points back.

use std::collections::HashMap;
use std::time::Duration;

use super::rollup::{QUEUE_DEPTH, SIG_FAILURES_DROPPED, minute_of};
use super::{
    AdminError, FieldChange, MetricMerge, MetricPoint, MetricQuery, MetricScope, Principal, Role,
};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::relay::Relay;

/// The per-minute metric points behind the dashboard: flushed from this node's counts into
/// the store, and read back.
#[derive(Debug, Clone, Copy)]
pub struct Metrics<'a> {
    pub(crate) relay: &'a Relay,
}

impl Relay {
    /// The per-minute metric points (see [`Metrics`]).
    pub fn metrics(&self) -> Metrics<'_> {
        Metrics { relay: self }
    }
}

impl Metrics<'_> {
    /// Merges the counts gathered since the last flush into the store (the standalone
    /// gateway does it every few seconds; embedding apps call it from a task of theirs).
    /// Signature failures also leave one `sig_failed` audit entry per source and flush, with
    /// their count and, when the per-minute cap of records dropped some, how many
    /// (`dropped`). On a store error the counts are kept for the next flush.
    pub async fn flush(&self) -> Result<(), AdminError> {
        let counts = self.relay.rollup().take();
        if counts.is_empty() {
            return Ok(());
        }
        let mut by_tenant: HashMap<TenantId, Vec<MetricPoint>> = HashMap::new();
        for ((tenant, minute, scope, name, metric), value) in &counts {
            by_tenant
                .entry(tenant.clone())
                .or_default()
                .push(MetricPoint {
                    minute: Timestamp::from_millis(*minute),
                    scope: *scope,
                    name: name.clone(),
                    metric: (*metric).to_owned(),
                    value: *value,
                });
        }
        for (tenant, points) in &by_tenant {
            if let Err(error) = self
                .relay
                .store()
                .record_metrics(tenant, points, MetricMerge::Add)
                .await
            {
                self.relay.rollup().put_back(counts);
                return Err(error.into());
            }
        }
        for (tenant, points) in by_tenant {
            let system = Principal::system(tenant);
            let mut failures: HashMap<String, (i64, i64)> = HashMap::new();
            for p in points {
                let dropped = match p.metric.as_str() {
                    "sig_failures" => false,
                    SIG_FAILURES_DROPPED => true,
                    _ => continue,
                };
                let counts = failures.entry(p.name).or_insert((0, 0));
                if dropped {
                    counts.1 += p.value;
                } else {
                    counts.0 += p.value;
                }
            }
            for (source, (count, dropped)) in failures {
                let mut changes = vec![FieldChange::added("count", count)];
                if dropped > 0 {
                    changes.push(FieldChange::added("dropped", dropped));
                }
                self.relay
                    .access()
                    .audit(&system, "sig_failed", "source", &source, changes)
                    .await?;
            }
        }
        Ok(())
    }

    /// Stores `depth` as this minute's `queue_depth` point (the largest value of the minute
    /// stays, across nodes).
    pub async fn record_queue_depth(&self, depth: u64) -> Result<(), AdminError> {
        let point = MetricPoint {
            minute: Timestamp::from_millis(minute_of(Timestamp::now())),
            scope: MetricScope::Gateway,
            name: String::new(),
            metric: QUEUE_DEPTH.to_owned(),
            value: i64::try_from(depth).unwrap_or(i64::MAX),
        };
        (self.relay.store())
            .record_metrics(&TenantId::default(), &[point], MetricMerge::Max)
            .await?;
        Ok(())
    }

    /// Runs [`flush`](Self::flush) every `every` until the returned task
    /// is aborted.
    pub fn spawn_flush(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let relay = self.relay.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = relay.metrics().flush().await {
                    tracing::warn!(%error, "could not store metric points; keeping them");
                }
            }
        })
    }

    /// Stored metric points matching `query`, by minute.
    pub async fn points(
        &self,
        by: &Principal,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, AdminError> {
        by.require(Role::Viewer)?;
        Ok(self.relay.store().metric_points(&by.tenant, query).await?)
    }
}
