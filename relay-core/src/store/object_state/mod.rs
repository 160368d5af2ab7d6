//! [`ObjectStateStore`]: whether each source, destination and route is enabled, who or what
//! changed it last, and why; the one record every node reads.

mod parts;

use async_trait::async_trait;

use super::StoreError;
use crate::control::manage::ObjectKind;
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

/// What [`StateRecord::changed_by`] says when a destination answered 410 Gone.
pub const CHANGED_BY_GONE: &str = "410";

/// What [`StateRecord::changed_by`] says when the circuit breaker opened too often.
pub const CHANGED_BY_BREAKER: &str = "circuit breaker";

/// The stored enabled/disabled state of one object (configured or managed through the API)
/// of a tenant, set by an operator or automatically. The latest change wins; a record with
/// `enabled = true` keeps who enabled it and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    /// The object's kind (source, destination or route).
    pub kind: ObjectKind,
    /// The object's name.
    pub name: String,
    /// Whether it is enabled. A disabled destination's deliveries are held (not leased); a
    /// disabled source answers ingest as unknown; a disabled route matches nothing.
    pub enabled: bool,
    /// Who or what changed it: an operator (user name or API key name),
    /// [`CHANGED_BY_GONE`] or [`CHANGED_BY_BREAKER`].
    pub changed_by: String,
    /// Why (free text; may be empty).
    pub reason: String,
    /// When.
    pub changed_at: Timestamp,
}

/// The stored enabled/disabled state of sources, destinations and routes, per tenant. The
/// delivery queue of a backend that provides this capability does not lease the deliveries
/// of a destination whose state is disabled (see
/// [`DeliveryQueue::lease_due`](super::DeliveryQueue::lease_due)).
#[async_trait]
pub trait ObjectStateStore: Send + Sync + std::fmt::Debug {
    /// Writes the state of the record's object (replacing the one stored, if any).
    async fn put_object_state(
        &self,
        tenant: &TenantId,
        record: StateRecord,
    ) -> Result<(), StoreError>;

    /// The tenant's stored states, by kind (sources, destinations, routes) then name.
    async fn object_states(&self, tenant: &TenantId) -> Result<Vec<StateRecord>, StoreError>;

    /// Forgets the state of an object (when it is deleted); whether there was one.
    async fn delete_object_state(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError>;
}
