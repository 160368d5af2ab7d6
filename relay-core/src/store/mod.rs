//! The store contract: durable events, deliveries, attempts and the delivery queue.
//!
//! Every backend (memory, SQLite, PostgreSQL) implements [`Store`] and passes the same
//! conformance suite. Operations that address stored objects take a [`TenantId`], so tenant
//! isolation is a property of the trait, not of its callers.

pub mod codec;
#[cfg(feature = "conformance")]
pub mod conformance;
mod prune;
mod quota;
mod types;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use prune::{PRUNE_BATCH, prune_expired};
pub use quota::{QUOTA_DAY_SECS, QuotaOutcome, quota_day, secs_to_next_day};
pub use types::{
    AttemptCompletion, DeadLetterFilter, DestinationRecord, InsertOutcome, Lease, LeasedDelivery,
    NewDelivery, NewEvent, NextStep, ScheduleReport,
};

use crate::admin::AdminStore;
use crate::circuit::{CircuitState, VersionedCircuit};
use crate::event::{Attempt, Delivery, Event};
use crate::ids::{DeliveryId, EventId, TenantId};
use crate::time::Timestamp;

/// A boxed error from a backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or could not commit. Ingest answers 503.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// The lease was taken over (it expired and another worker leased the delivery): the
    /// attempt's result is dropped, the other worker's attempt counts.
    #[error("lease on {0} lost")]
    LeaseLost(DeliveryId),
    /// The object does not exist (for this tenant).
    #[error("not found")]
    NotFound,
    /// A stored record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Wraps a backend error as [`StoreError::Unavailable`].
    pub fn unavailable(error: impl Into<BoxError>) -> Self {
        Self::Unavailable(error.into())
    }
}

/// Durable storage of events, deliveries and attempts, and the delivery queue; with
/// [`AdminStore`], everything the admin API reads and writes.
#[async_trait]
pub trait Store: AdminStore + Send + Sync + fmt::Debug {
    /// In ONE atomic operation: if `(tenant, source, idempotency key)` has a dedup entry that
    /// has not expired, returns [`InsertOutcome::Duplicate`] with the original event id and
    /// writes nothing; otherwise writes the event, its dedup entry (valid until
    /// `dedup_until`) and its deliveries (due at once), and returns
    /// [`InsertOutcome::Inserted`] only once that is durable.
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError>;

    /// Leases up to `limit` deliveries that are due at `now` (pending ones whose time has come,
    /// and in-flight ones whose lease expired), oldest due first. Each lease lasts `lease_for`
    /// and carries a fresh fencing token.
    ///
    /// A delivery with an ordering key is leased only at the head of its lane (same tenant,
    /// destination and key): when no delivery of the lane created before it (earlier in
    /// ingest order) is pending or in flight, or dead-lettered with
    /// [`OnDeadLetter::Block`](crate::ordering::OnDeadLetter::Block), and no other delivery of
    /// the lane is in flight under an unexpired lease. So at most one delivery per lane is
    /// leased at a time, and the lane advances only when its head is delivered or
    /// dead-lettered.
    async fn lease_due(
        &self,
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError>;

    /// Records an attempt and moves the delivery on, if the lease is still held; otherwise
    /// [`StoreError::LeaseLost`] and nothing is written. When an ordered delivery is to be
    /// retried, the pending deliveries behind it on its lane are made due no earlier than it.
    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError>;

    /// Gives a leased delivery back without an attempt, due again at `due_at` (shutdown,
    /// an open circuit, a rate limit); the pending deliveries behind an ordered one on its
    /// lane are made due no earlier. A lost lease is not an error here.
    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError>;

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

    /// Schedules an event for (re)delivery to `plan`: a destination without a delivery gets a
    /// new one; a pending or dead-lettered one is due again at `now` with a fresh retry
    /// budget; a delivered one is skipped unless `force`; an in-flight one is left alone. An
    /// event marked `no_route` becomes `routed` when anything is scheduled.
    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError>;

    /// Moves dead-lettered deliveries matching `filter` back to pending, due at `now` with a
    /// fresh retry budget. Returns how many moved; a second call moves none of them again.
    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Deletes up to `batch` events received before `cutoff` whose deliveries are all
    /// delivered or dead-lettered (with their deliveries and attempts), and dedup entries
    /// expired at `now`. Returns how many events went.
    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError>;

    /// The circuit-breaker state of `destination`, with its version; `None` when none was ever
    /// stored (a closed circuit).
    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError>;

    /// Compare-and-set of a destination's circuit: writes `state` only if the stored version
    /// is still `expected` (`None`: nothing stored yet), and returns whether it wrote. The
    /// version written is `expected + 1` (1 for the first write), so concurrent writers from
    /// the same version see exactly one `true`.
    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError>;

    /// Saves an HTTP destination (replacing the tenant's destination of the same name).
    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError>;

    /// The tenant's saved destinations, by name.
    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError>;

    /// Whether the store is reachable (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// How many deliveries are pending or in flight, over every tenant (the `relay_queue_depth`
    /// gauge). Called now and then by the delivery worker, so it must be cheap: an index count.
    async fn queue_depth(&self) -> Result<u64, StoreError>;

    /// Atomically takes one unit of `tenant`'s quota for `day` ([`quota_day`]): when fewer
    /// than `limit` are taken on that day, counts one more and returns
    /// [`QuotaOutcome::Taken`]; otherwise changes nothing and returns
    /// [`QuotaOutcome::Exhausted`]. Concurrent callers (on any node) never take more than
    /// `limit` in total; a new day starts from zero.
    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<QuotaOutcome, StoreError>;
}
