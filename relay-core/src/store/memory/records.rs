//! The audit log and the metric points of [`MemoryStore`], with their retention.

use async_trait::async_trait;

use super::MemoryStore;
use super::admin::MetricKey;
use crate::control::admin::{AuditEntry, AuditQuery, MetricMerge, MetricPoint, MetricQuery};
use crate::ingest::sig_failure::{SignatureFailure, SignatureFailureQuery};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::store::{AuditLog, MetricStore, StoreError};

#[async_trait]
impl AuditLog for MemoryStore {
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.state().admin.audit.push(entry);
        Ok(())
    }

    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let state = self.state();
        let mut found: Vec<AuditEntry> = (state.admin.audit.iter())
            .filter(|e| &e.tenant == tenant)
            .filter(|e| {
                query
                    .object_kind
                    .as_ref()
                    .is_none_or(|k| k == &e.object_kind)
            })
            .filter(|e| query.object_id.as_ref().is_none_or(|i| i == &e.object_id))
            .filter(|e| query.action.as_ref().is_none_or(|a| a == &e.action))
            .filter(|e| query.before.is_none_or(|b| e.id < b))
            .cloned()
            .collect();
        found.sort_by_key(|e| std::cmp::Reverse(e.id));
        found.truncate(limit);
        Ok(found)
    }

    async fn prune_audit(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        let mut state = self.state();
        let audit = &mut state.admin.audit;
        let mut left = batch;
        audit.retain(|entry| {
            let prune = left > 0 && entry.at < before;
            left -= usize::from(prune);
            !prune
        });
        Ok((batch - left) as u64)
    }

    async fn append_signature_failure(&self, failure: SignatureFailure) -> Result<(), StoreError> {
        self.state().admin.sig_failures.push(failure);
        Ok(())
    }

    async fn signature_failures(
        &self,
        tenant: &TenantId,
        query: &SignatureFailureQuery,
        limit: usize,
    ) -> Result<Vec<SignatureFailure>, StoreError> {
        let state = self.state();
        let mut found: Vec<SignatureFailure> = (state.admin.sig_failures.iter())
            .filter(|f| &f.tenant == tenant && query.matches(f))
            .cloned()
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.id));
        found.truncate(limit);
        Ok(found)
    }

    async fn prune_signature_failures(
        &self,
        before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let mut left = batch;
        state.admin.sig_failures.retain(|failure| {
            let prune = left > 0 && failure.at < before;
            left -= usize::from(prune);
            !prune
        });
        Ok((batch - left) as u64)
    }
}

#[async_trait]
impl MetricStore for MemoryStore {
    async fn record_metrics(
        &self,
        tenant: &TenantId,
        samples: &[MetricPoint],
        merge: MetricMerge,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        for sample in samples {
            let key = (
                tenant.clone(),
                sample.minute,
                sample.scope,
                sample.name.clone(),
                sample.metric.clone(),
            );
            let stored = state.admin.metrics.entry(key).or_insert(match merge {
                MetricMerge::Add => 0,
                MetricMerge::Max => i64::MIN,
            });
            *stored = match merge {
                MetricMerge::Add => stored.saturating_add(sample.value),
                MetricMerge::Max => (*stored).max(sample.value),
            };
        }
        Ok(())
    }

    async fn metric_points(
        &self,
        tenant: &TenantId,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        let state = self.state();
        Ok((state.admin.metrics.iter())
            .filter(|((t, minute, scope, name, _), _)| {
                t == tenant
                    && *minute >= query.from
                    && *minute < query.to
                    && query.scope.is_none_or(|s| s == *scope)
                    && query.name.as_ref().is_none_or(|n| n == name)
            })
            .map(|((_, minute, scope, name, metric), value)| MetricPoint {
                minute: *minute,
                scope: *scope,
                name: name.clone(),
                metric: metric.clone(),
                value: *value,
            })
            .collect())
    }

    async fn prune_metrics(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        let mut state = self.state();
        let metrics = &mut state.admin.metrics;
        let old: Vec<MetricKey> = (metrics.keys())
            .filter(|(_, minute, ..)| *minute < before)
            .take(batch)
            .cloned()
            .collect();
        for key in &old {
            metrics.remove(key);
        }
        Ok(old.len() as u64)
    }
}
