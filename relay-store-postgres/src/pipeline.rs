//! The pipeline capabilities of [`PgStore`]: event ingest, the delivery queue, the event
//! log and circuit state.

use std::time::Duration;

use async_trait::async_trait;
use relay_core::control::admin::{EventQuery, EventSummary};
use relay_core::deliver::circuit::{CircuitState, VersionedCircuit};
use relay_core::model::event::{Attempt, Delivery, Event};
use relay_core::model::ids::{DeliveryId, EventId, NodeId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::{
    AttemptCompletion, CircuitStore, DeadLetterFilter, DeliveryQueue, EventIngest, EventLog,
    HeldAgent, InsertOutcome, Lease, LeasedDelivery, NewDelivery, NewEvent, ScheduleReport,
    StoreError,
};

use crate::{PgStore, admin, circuits, queue, reads};

#[async_trait]
impl EventIngest for PgStore {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.inner.writers.insert(new).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        reads::ping(&self.inner.pool).await
    }
}

#[async_trait]
impl DeliveryQueue for PgStore {
    async fn lease_due_as(
        &self,
        holder: Option<&NodeId>,
        agents: &[HeldAgent],
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        queue::lease_due(
            &self.inner.lease_pool,
            holder,
            agents,
            now,
            limit,
            lease_for,
        )
        .await
    }

    async fn reclaim(&self, holder: &NodeId, now: Timestamp) -> Result<u64, StoreError> {
        queue::reclaim(&self.inner.pool, holder, now).await
    }

    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        self.inner.writers.complete(completion).await
    }

    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
        queue::release(&self.inner.pool, lease, due_at).await
    }

    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        admin::schedule(&self.inner.pool, tenant, event, plan, force, now).await
    }

    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        admin::redrive(&self.inner.pool, tenant, filter, now).await
    }

    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        crate::admin_store::browse::discard_dead_letters(self.pool(), tenant, filter, now).await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        reads::queue_depth(&self.inner.pool).await
    }
}

#[async_trait]
impl EventLog for PgStore {
    async fn event(&self, tenant: &TenantId, id: EventId) -> Result<Option<Event>, StoreError> {
        reads::event(&self.inner.pool, tenant, id).await
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        reads::deliveries(&self.inner.pool, tenant, event).await
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        reads::delivery(&self.inner.pool, tenant, id).await
    }

    async fn attempts(
        &self,
        tenant: &TenantId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        reads::attempts(&self.inner.pool, tenant, delivery).await
    }

    async fn dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        reads::dead_letters(&self.inner.pool, tenant, filter, limit).await
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        crate::admin_store::browse::list_events(self.pool(), tenant, query, limit).await
    }

    async fn dead_letter_page(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        crate::admin_store::browse::dead_letter_page(self.pool(), tenant, filter, after, limit)
            .await
    }

    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        admin::prune(&self.inner.pool, cutoff, now, batch).await
    }
}

#[async_trait]
impl CircuitStore for PgStore {
    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        circuits::circuit(&self.inner.pool, tenant, destination).await
    }

    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError> {
        circuits::swap_circuit(&self.inner.pool, tenant, destination, expected, &state).await
    }
}
