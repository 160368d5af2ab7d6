//! [`EventLog`]: reads of the event log: events, deliveries, attempts, dead letters; retention.

use async_trait::async_trait;

use super::{DeadLetterFilter, StoreError};
use crate::control::admin::{EventQuery, EventSummary};
use crate::model::event::{Attempt, Delivery, Event};
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::time::Timestamp;

/// Reading back what was ingested and attempted, and deleting what retention lets go.
#[async_trait]
pub trait EventLog: Send + Sync + std::fmt::Debug {
    /// One event.
    async fn event(&self, tenant: &TenantId, id: EventId) -> Result<Option<Event>, StoreError>;

    /// An event's deliveries, in creation order.
    async fn deliveries(
        &self,
        tenant: &TenantId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// One delivery.
    async fn delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError>;

    /// A delivery's attempts, first to last.
    async fn attempts(
        &self,
        tenant: &TenantId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError>;

    /// Dead-lettered deliveries matching `filter`, oldest first, at most `limit`.
    async fn dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// The tenant's events matching `query`, newest first, at most `limit`.
    async fn list_events(
        &self,
        tenant: &TenantId,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError>;

    /// Dead-lettered deliveries matching `filter` with ids greater than `after`, by id
    /// (oldest first), at most `limit`.
    async fn dead_letter_page(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Deletes up to `batch` events received before `cutoff` whose deliveries are all
    /// delivered or dead-lettered (with their deliveries and attempts), and dedup entries
    /// expired at `now`. Returns how many events went.
    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError>;
}
