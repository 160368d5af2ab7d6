//! [`SharedCircuits`]: circuit-breaker state in Redis in front of a durable
//! [`CircuitStore`], and [`share`], which puts it and the [`DedupCache`] into a [`Stores`].
//!
//! Every node reads and changes the same circuits without a database round trip. When Redis
//! fails a circuit read or write, the durable store answers it, as it would without Redis: the
//! breaker keeps working, on the state the store holds, and no delivery waits for Redis. Each
//! backend's compare-and-set stays exact on its own; while Redis is flapping, a node on Redis
//! and a node on the store may each let one half-open probe through (two probes instead of
//! one, never a lost event). Once Redis answers again its state is used again; circuit states
//! are bounded in time (open and half-open until a deadline, failures within a window), so a
//! stale one heals by itself.

use std::sync::Arc;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use relay_core::deliver::circuit::{CircuitState, VersionedCircuit};
use relay_core::model::ids::TenantId;
use relay_core::store::{CircuitStore, EventIngest, StoreError, Stores};

use crate::circuit::RedisCircuits;
use crate::connect::{self, check_prefix};
use crate::dedup::DedupCache;
use crate::error::RedisStoreError;
use crate::health::Health;

/// A [`CircuitStore`] that keeps every destination's circuit in Redis (see
/// [`crate::circuit`]) and falls back to the durable circuits `C` while Redis fails.
pub struct SharedCircuits<C: ?Sized> {
    circuits: RedisCircuits,
    fallback: Arc<C>,
    health: Health,
}

impl<C: ?Sized> Clone for SharedCircuits<C> {
    fn clone(&self) -> Self {
        Self {
            circuits: self.circuits.clone(),
            fallback: Arc::clone(&self.fallback),
            health: self.health.clone(),
        }
    }
}

impl<C: std::fmt::Debug + ?Sized> std::fmt::Debug for SharedCircuits<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCircuits")
            .field("fallback", &self.fallback)
            .finish_non_exhaustive()
    }
}

impl<C: CircuitStore + ?Sized> SharedCircuits<C> {
    /// Circuits on `connection` under `prefix` (e.g. `relay:`), in front of `fallback`.
    pub fn new(
        connection: ConnectionManager,
        prefix: &str,
        fallback: impl Into<Arc<C>>,
    ) -> Result<Self, RedisStoreError> {
        Self::with_health(connection, prefix, fallback, Health::new())
    }

    fn with_health(
        connection: ConnectionManager,
        prefix: &str,
        fallback: impl Into<Arc<C>>,
        health: Health,
    ) -> Result<Self, RedisStoreError> {
        Ok(Self {
            circuits: RedisCircuits::new(connection, check_prefix(prefix)?),
            fallback: fallback.into(),
            health,
        })
    }

    /// The durable circuits, which answer while Redis fails.
    pub fn fallback(&self) -> &C {
        &self.fallback
    }

    /// The Redis key (a hash) of a destination's circuit.
    pub fn key(&self, tenant: &TenantId, destination: &str) -> String {
        self.circuits.key(tenant, destination)
    }
}

#[async_trait]
impl<C: CircuitStore + ?Sized> CircuitStore for SharedCircuits<C> {
    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        if !self.health.try_redis() {
            return self.fallback.circuit(tenant, destination).await;
        }
        let answer = self.circuits.get(tenant, destination).await;
        self.health.record(&answer);
        match answer {
            Ok(answer) => answer,
            Err(error) => {
                tracing::debug!(%error, destination, "circuit state unavailable in redis; asking the store");
                self.fallback.circuit(tenant, destination).await
            }
        }
    }

    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError> {
        if !self.health.try_redis() {
            return self
                .fallback
                .swap_circuit(tenant, destination, expected, state)
                .await;
        }
        let written = self
            .circuits
            .swap(tenant, destination, expected, &state)
            .await;
        self.health.record(&written);
        match written {
            Ok(written) => Ok(written),
            Err(error) => {
                tracing::debug!(%error, destination, "circuit state unavailable in redis; writing it to the store");
                self.fallback
                    .swap_circuit(tenant, destination, expected, state)
                    .await
            }
        }
    }
}

/// `base` with its ingest behind a [`DedupCache`] and its circuits behind
/// [`SharedCircuits`], both on `connection` under `prefix` and skipping Redis together after
/// a failure. Every other capability stays `base`'s.
///
/// ```no_run
/// use std::sync::Arc;
/// use relay_core::store::memory::MemoryStore;
/// use relay_core::store::{Store, Stores};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let durable = Arc::new(MemoryStore::new()); // a PgStore in a real deployment
/// let connection = relay_store_redis::connect("redis://127.0.0.1:6379").await?;
/// let store = relay_store_redis::share(connection, "relay:", Stores::new(durable))?;
/// let store: Arc<dyn Store> = Arc::new(store);
/// # let _ = store;
/// # Ok(()) }
/// ```
pub fn share(
    connection: ConnectionManager,
    prefix: &str,
    base: Stores,
) -> Result<Stores, RedisStoreError> {
    let health = Health::new();
    let ingest = DedupCache::<dyn EventIngest>::with_health(
        connection.clone(),
        prefix,
        Arc::clone(base.ingest()),
        health.clone(),
    )?;
    let circuits = SharedCircuits::<dyn CircuitStore>::with_health(
        connection,
        prefix,
        Arc::clone(base.circuits()),
        health,
    )?;
    Ok(base
        .with_ingest(Arc::new(ingest))
        .with_circuits(Arc::new(circuits)))
}

/// Connects to `url` and [`share`]s `base` through it.
pub async fn connect_shared(
    url: &str,
    prefix: &str,
    base: Stores,
) -> Result<Stores, RedisStoreError> {
    share(connect::connect(url).await?, prefix, base)
}
