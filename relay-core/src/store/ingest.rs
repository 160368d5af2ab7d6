//! [`EventIngest`]: event ingest with dedup: the one atomic write of an accepted event.

use async_trait::async_trait;

use super::{InsertOutcome, NewEvent, StoreError};

/// The write that decides exactly-once ingest: an event, its dedup entry and its deliveries in
/// one transaction. With [`DeliveryQueue`](super::DeliveryQueue) it is all the pipeline needs
/// (see [`Stores::pipeline`](super::Stores::pipeline)).
#[async_trait]
pub trait EventIngest: Send + Sync + std::fmt::Debug {
    /// In ONE atomic operation: if `(tenant, source, idempotency key)` has a dedup entry that
    /// has not expired, returns [`InsertOutcome::Duplicate`] with the original event id and
    /// writes nothing; otherwise writes the event, its dedup entry (valid until
    /// `dedup_until`) and its deliveries (due at once), and returns
    /// [`InsertOutcome::Inserted`] only once that is durable.
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError>;

    /// Whether the store is reachable (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
}
