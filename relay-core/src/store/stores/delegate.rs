//! Each capability of [`Stores`] answered by the part that provides it.

use std::time::Duration;

use async_trait::async_trait;

use super::Stores;
use crate::control::admin::{
    ApiKeyRecord, EventQuery, EventSummary, MetricMerge, MetricPoint, MetricQuery,
    PortalLinkRecord, SessionRecord, TenantRecord, UserRecord,
};
use crate::control::manage::{ObjectKind, ObjectRecord};
use crate::deliver::circuit::{CircuitState, VersionedCircuit};
use crate::model::event::{Attempt, Delivery, Event};
use crate::model::ids::{DeliveryId, EventId, NodeId, TenantId};
use crate::model::time::Timestamp;
use crate::store::*;

#[async_trait]
impl EventIngest for Stores {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.ingest.insert_event(new).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.ingest.ping().await
    }
}

#[async_trait]
impl DeliveryQueue for Stores {
    async fn lease_due_as(
        &self,
        holder: Option<&NodeId>,
        agents: &[HeldAgent],
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        self.queue
            .lease_due_as(holder, agents, now, limit, lease_for)
            .await
    }

    async fn reclaim(&self, holder: &NodeId, now: Timestamp) -> Result<u64, StoreError> {
        self.queue.reclaim(holder, now).await
    }

    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        self.queue.complete_attempt(completion).await
    }

    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
        self.queue.release(lease, due_at).await
    }

    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        self.queue.schedule(tenant, event, plan, force, now).await
    }

    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.queue.redrive(tenant, filter, now).await
    }

    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.queue.discard_dead_letters(tenant, filter, now).await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        self.queue.queue_depth().await
    }
}

#[async_trait]
impl EventLog for Stores {
    async fn event(&self, tenant: &TenantId, id: EventId) -> Result<Option<Event>, StoreError> {
        self.log.event(tenant, id).await
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.log.deliveries(tenant, event).await
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.log.delivery(tenant, id).await
    }

    async fn attempts(
        &self,
        tenant: &TenantId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.log.attempts(tenant, delivery).await
    }

    async fn dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.log.dead_letters(tenant, filter, limit).await
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        self.log.list_events(tenant, query, limit).await
    }

    async fn dead_letter_page(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.log
            .dead_letter_page(tenant, filter, after, limit)
            .await
    }

    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        self.log.prune(cutoff, now, batch).await
    }
}

#[async_trait]
impl CircuitStore for Stores {
    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        self.circuits.circuit(tenant, destination).await
    }

    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError> {
        self.circuits
            .swap_circuit(tenant, destination, expected, state)
            .await
    }
}

#[async_trait]
impl ObjectStore for Stores {
    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError> {
        self.objects.put_destination(tenant, record).await
    }

    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        self.objects.destination_records(tenant).await
    }

    async fn insert_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        self.objects.insert_object(tenant, record).await
    }

    async fn update_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        self.objects.update_object(tenant, record).await
    }

    async fn delete_object(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.objects.delete_object(tenant, kind, name).await
    }

    async fn objects(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        self.objects.objects(tenant).await
    }
}

#[async_trait]
impl AccessStore for Stores {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<bool, StoreError> {
        self.access.insert_api_key(record).await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.access.api_key(id).await
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.access.api_keys(tenant).await
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.access.revoke_api_key(tenant, id, at).await
    }

    async fn insert_user(&self, record: UserRecord) -> Result<bool, StoreError> {
        self.access.insert_user(record).await
    }

    async fn user(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.access.user(tenant, username).await
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        self.access.users(tenant).await
    }

    async fn delete_user(&self, tenant: &TenantId, username: &str) -> Result<bool, StoreError> {
        self.access.delete_user(tenant, username).await
    }

    async fn record_login_failure(
        &self,
        tenant: &TenantId,
        username: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.access
            .record_login_failure(tenant, username, lock_after, lock_until)
            .await
    }

    async fn record_login_success(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<(), StoreError> {
        self.access.record_login_success(tenant, username).await
    }

    async fn insert_session(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.access.insert_session(record).await
    }

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        self.access.session(token_hash).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.access.delete_session(token_hash).await
    }

    async fn prune_sessions(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        self.access.prune_sessions(before, batch).await
    }

    async fn insert_portal_link(&self, record: PortalLinkRecord) -> Result<(), StoreError> {
        self.access.insert_portal_link(record).await
    }

    async fn consume_portal_link(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PortalLinkRecord>, StoreError> {
        self.access.consume_portal_link(token_hash, now).await
    }

    async fn prune_portal_links(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        self.access.prune_portal_links(before, batch).await
    }
}

#[async_trait]
impl MetricStore for Stores {
    async fn record_metrics(
        &self,
        tenant: &TenantId,
        samples: &[MetricPoint],
        merge: MetricMerge,
    ) -> Result<(), StoreError> {
        self.metrics.record_metrics(tenant, samples, merge).await
    }

    async fn metric_points(
        &self,
        tenant: &TenantId,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        self.metrics.metric_points(tenant, query).await
    }

    async fn prune_metrics(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        self.metrics.prune_metrics(before, batch).await
    }
}

#[async_trait]
impl TenantStore for Stores {
    async fn insert_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        self.tenants.insert_tenant(record).await
    }

    async fn update_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        self.tenants.update_tenant(record).await
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        self.tenants.delete_tenant(tenant).await
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.tenants.tenants().await
    }

    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<QuotaOutcome, StoreError> {
        self.tenants.take_quota(tenant, day, limit).await
    }
}
