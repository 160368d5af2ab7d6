//! The store contract, as capabilities: what a backend provides, one small trait each.
//!
//! | capability | what it holds | needed by |
//! |---|---|---|
//! | [`EventIngest`] | the one atomic write of an event, its dedup key and its deliveries | ingest |
//! | [`DeliveryQueue`] | leases with fencing tokens, completions, replays, dead letters | the worker, replay |
//! | [`EventLog`] | events, deliveries and attempts read back; retention | admin API, replay |
//! | [`CircuitStore`] | circuit-breaker state (versioned compare-and-set) | the worker |
//! | [`ObjectStore`] | sources, destinations and routes saved at run time | admin API |
//! | [`ObjectStateStore`] | enabled/disabled of every object, who changed it and why | every node, the queue |
//! | [`AccessStore`] | API keys, users, sessions | admin API, dashboard |
//! | [`AuditLog`] | the append-only audit trail | every change |
//! | [`MetricStore`] | per-minute metric points | metrics rollups |
//! | [`TenantStore`] | the tenant registry and daily quotas | multi-tenancy |
//!
//! [`Store`] names them all at once: every type that implements the ten is a `Store` (a
//! blanket implementation), and every full backend (memory, SQLite, PostgreSQL) passes the
//! same conformance suite. [`Stores`] composes a `Store` out of parts: one backend for
//! everything, a wrapper that changes one capability (the Redis dedup cache, shared circuits),
//! or a backend that provides only [`EventIngest`] and [`DeliveryQueue`]
//! ([`Stores::pipeline`]), whose missing capabilities answer [`StoreError::Unsupported`].
//!
//! Operations that address stored objects take a [`TenantId`](crate::model::ids::TenantId), so
//! tenant isolation is a property of the traits, not of their callers.

mod access;
mod audit;
mod circuits;
pub mod codec;
#[cfg(feature = "conformance")]
pub mod conformance;
mod ingest;
mod log;
pub mod memory;
mod metrics;
mod object_state;
mod objects;
mod presence;
mod prune;
mod queue;
mod quota;
mod refuse;
mod refuse_audit;
mod rules;
mod stores;
mod tenants;
mod types;

pub use access::AccessStore;
pub use audit::AuditLog;
pub use circuits::CircuitStore;
pub use ingest::EventIngest;
pub use log::EventLog;
pub use metrics::MetricStore;
pub use object_state::{CHANGED_BY_BREAKER, CHANGED_BY_GONE, ObjectStateStore, StateRecord};
pub use objects::ObjectStore;
pub use presence::{AgentPresenceStore, PresenceRecord};
pub use prune::{
    PRUNE_BATCH, Pruned, Retention, SWEEP_EVERY, prune_all, prune_expired, spawn_pruner,
};
pub use queue::DeliveryQueue;
pub use quota::{QUOTA_DAY_SECS, QuotaOutcome, quota_day, secs_to_next_day};
pub use refuse::Refuse;
pub use rules::replay_skips;
pub use stores::Stores;
pub use tenants::TenantStore;
pub use types::{
    AttemptCompletion, DeadLetterFilter, DestinationRecord, HeldAgent, InsertOutcome, Lease,
    LeasedDelivery, NewDelivery, NewEvent, NextStep, ScheduleReport,
};

use crate::model::ids::DeliveryId;

/// A boxed error from a backend.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
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
    /// The store does not provide this capability (see [`Stores::pipeline`]): the feature
    /// that needs it is not available with this backend. The admin API answers 501.
    #[error("the store does not provide {0}")]
    Unsupported(&'static str),
}

impl StoreError {
    /// Wraps a backend error as [`StoreError::Unavailable`].
    pub fn unavailable(error: impl Into<BoxError>) -> Self {
        Self::Unavailable(error.into())
    }
}

/// Every capability at once: the bound for callers that want a whole backend. Implemented
/// for every type that implements the eleven capability traits.
///
/// ```
/// use std::sync::Arc;
/// use relay_core::store::Store;
/// use relay_core::store::memory::MemoryStore;
///
/// let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
/// # let _ = store;
/// ```
pub trait Store:
    EventIngest
    + DeliveryQueue
    + EventLog
    + CircuitStore
    + ObjectStore
    + ObjectStateStore
    + AccessStore
    + AuditLog
    + MetricStore
    + TenantStore
    + AgentPresenceStore
{
}

impl<T> Store for T where
    T: EventIngest
        + DeliveryQueue
        + EventLog
        + CircuitStore
        + ObjectStore
        + ObjectStateStore
        + AccessStore
        + AuditLog
        + MetricStore
        + TenantStore
        + AgentPresenceStore
        + ?Sized
{
}
