//! The pipeline capabilities of [`SqliteStore`]: event ingest, the delivery queue, the event
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

use crate::{SqliteStore, circuits, lease, reads, resume, writes};

#[async_trait]
impl EventIngest for SqliteStore {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.inner.ingests.submit(&self.inner.writer, new).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.readers.read(reads::ping).await
    }
}

#[async_trait]
impl DeliveryQueue for SqliteStore {
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
        let holder = holder.cloned();
        let agents = agents.to_vec();
        self.inner
            .writer
            .write(move |conn| {
                lease::lease_due(conn, holder.as_ref(), &agents, now, limit, lease_for)
            })
            .await
    }

    async fn reclaim(&self, holder: &NodeId, now: Timestamp) -> Result<u64, StoreError> {
        let holder = holder.clone();
        self.inner
            .writer
            .write(move |conn| resume::reclaim(conn, &holder, now))
            .await
    }

    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        self.inner
            .completions
            .submit(
                &self.inner.writer,
                lease::EncodedCompletion::new(completion),
            )
            .await
    }

    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
        let lease = lease.clone();
        self.inner
            .writer
            .write(move |conn| lease::release(conn, &lease, due_at))
            .await
    }

    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .writer
            .write(move |conn| writes::schedule(conn, &tenant, event, plan, force, now))
            .await
    }

    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.inner
            .writer
            .write(move |conn| writes::redrive(conn, &tenant, &filter, now))
            .await
    }

    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.write(move |conn| {
            crate::admin::browse::discard_dead_letters(conn, &tenant, &filter, now)
        })
        .await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        self.inner.readers.read(reads::queue_depth).await
    }
}

#[async_trait]
impl EventLog for SqliteStore {
    async fn event(&self, tenant: &TenantId, id: EventId) -> Result<Option<Event>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::event(conn, &tenant, id))
            .await
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::deliveries(conn, &tenant, event))
            .await
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::delivery(conn, &tenant, id))
            .await
    }

    async fn attempts(
        &self,
        tenant: &TenantId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::attempts(conn, &tenant, delivery))
            .await
    }

    async fn dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.inner
            .readers
            .read(move |conn| reads::dead_letters(conn, &tenant, &filter, limit))
            .await
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |conn| crate::admin::browse::list_events(conn, &tenant, &query, limit))
            .await
    }

    async fn dead_letter_page(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.read(move |conn| {
            crate::admin::browse::dead_letter_page(conn, &tenant, &filter, after, limit)
        })
        .await
    }

    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        self.inner
            .writer
            .write(move |conn| writes::prune(conn, cutoff, now, batch))
            .await
    }
}

#[async_trait]
impl CircuitStore for SqliteStore {
    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        let (tenant, destination) = (tenant.clone(), destination.to_owned());
        self.inner
            .readers
            .read(move |conn| circuits::circuit(conn, &tenant, &destination))
            .await
    }

    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError> {
        let (tenant, destination) = (tenant.clone(), destination.to_owned());
        self.inner
            .writer
            .write(move |conn| {
                circuits::swap_circuit(conn, &tenant, &destination, expected, &state)
            })
            .await
    }
}
