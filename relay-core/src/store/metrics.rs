//! [`MetricStore`]: per-minute metric points, merged from every node.

use async_trait::async_trait;

use super::StoreError;
use crate::control::admin::{MetricMerge, MetricPoint, MetricQuery};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

/// Per-minute metric points, merged from every node's samples.
#[async_trait]
pub trait MetricStore: Send + Sync + std::fmt::Debug {
    /// Merges per-minute samples into the stored points of the same
    /// `(tenant, minute, scope, name, metric)`: added or kept at the maximum per `merge`.
    async fn record_metrics(
        &self,
        tenant: &TenantId,
        samples: &[MetricPoint],
        merge: MetricMerge,
    ) -> Result<(), StoreError>;

    /// The tenant's stored points matching `query`, by minute.
    async fn metric_points(
        &self,
        tenant: &TenantId,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError>;

    /// Retention: deletes at most `batch` points, of every tenant, of minutes before `before`;
    /// returns how many went (fewer than `batch`: none is left).
    async fn prune_metrics(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError>;
}
