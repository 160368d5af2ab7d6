//! A dedup fast path and shared circuit-breaker state in front of a durable store.
//!
//! The durable store stays the source of truth: an ingest the cache does not answer goes to
//! the store, whose one transaction decides. The cache learns a key only AFTER the store
//! committed its event, so there is no moment at which Redis claims a key for which no
//! event was committed: a store that fails leaves nothing in Redis, and a crash between the
//! commit and the cache write only costs a cache miss. A cached entry carries its expiry and
//! is believed only while it holds for the incoming event, so a stale entry (a later event
//! took the key over elsewhere) also falls through to the store. Redis errors never fail an
//! ingest: the store answers.
//!
//! Circuit-breaker state ([`Store::circuit`], [`Store::swap_circuit`]) lives in Redis
//! instead of the store (see [`crate::circuit`]): every node reads and changes the same
//! circuits without a database round trip. When Redis fails a circuit read or write, the
//! durable store answers it, as it would without Redis: the breaker keeps working, on the
//! state the store holds, and no delivery waits for Redis. Each backend's compare-and-set
//! stays exact on its own; while Redis is flapping, a node on Redis and a node on the store
//! may each let one half-open probe through (two probes instead of one, never a lost event).
//! After a failed command Redis is skipped for [`REDIS_BACKOFF`](crate::REDIS_BACKOFF), then
//! probed by one caller (see [`crate::health`]), so a Redis that does not answer costs one
//! timeout per second, not one per command. Once Redis answers again its state is used again; circuit states are bounded in time
//! (open and half-open until a deadline, failures within a window), so a stale one heals by
//! itself.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use relay_core::circuit::{CircuitState, VersionedCircuit};
use relay_core::event::{Attempt, Delivery, Event};
use relay_core::ids::{DeliveryId, EventId, TenantId};
use relay_core::store::{
    AttemptCompletion, DeadLetterFilter, DestinationRecord, InsertOutcome, Lease, LeasedDelivery,
    NewDelivery, NewEvent, ScheduleReport, Store, StoreError,
};
use relay_core::time::Timestamp;

use crate::circuit::RedisCircuits;
use crate::connect::{self, check_prefix};
use crate::error::RedisStoreError;
use crate::health::Health;

/// A [`Store`] that answers repeated ingests of a key and every circuit-breaker read and
/// write from Redis, and everything else from the durable store `S` it wraps.
///
/// ```no_run
/// use std::sync::Arc;
/// use relay_core::memory::MemoryStore;
/// use relay_store_redis::DedupCache;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let durable = MemoryStore::new(); // a PgStore in a real deployment
/// let store = DedupCache::connect("redis://127.0.0.1:6379", "relay:", durable).await?;
/// let store: Arc<dyn relay_core::store::Store> = Arc::new(store);
/// # Ok(()) }
/// ```
pub struct DedupCache<S: ?Sized> {
    inner: Arc<S>,
    connection: ConnectionManager,
    prefix: String,
    circuits: RedisCircuits,
    health: Health,
}

impl<S: ?Sized> Clone for DedupCache<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            connection: self.connection.clone(),
            prefix: self.prefix.clone(),
            circuits: self.circuits.clone(),
            health: self.health.clone(),
        }
    }
}

impl<S: std::fmt::Debug + ?Sized> std::fmt::Debug for DedupCache<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DedupCache")
            .field("inner", &self.inner)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl<S: Store + ?Sized> DedupCache<S> {
    /// Connects to `url` and wraps `inner` (a store, or an `Arc` of one shared with others);
    /// every key starts with `prefix` (e.g. `relay:`).
    pub async fn connect(
        url: &str,
        prefix: &str,
        inner: impl Into<Arc<S>>,
    ) -> Result<Self, RedisStoreError> {
        Self::new(connect::connect(url).await?, prefix, inner)
    }

    /// Wraps `inner` with a cache on an existing connection.
    pub fn new(
        connection: ConnectionManager,
        prefix: &str,
        inner: impl Into<Arc<S>>,
    ) -> Result<Self, RedisStoreError> {
        let prefix = check_prefix(prefix)?;
        Ok(Self {
            inner: inner.into(),
            circuits: RedisCircuits::new(connection.clone(), prefix.clone()),
            health: Health::new(),
            connection,
            prefix,
        })
    }

    /// The durable store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The Redis key of an event's `(tenant, source, idempotency key)`.
    pub fn key_of(&self, event: &Event) -> String {
        connect::key(
            &self.prefix,
            "dedup",
            &[event.tenant.as_str(), &event.source, &event.idempotency_key],
        )
    }

    /// The Redis key (a hash) of a destination's circuit.
    pub fn circuit_key(&self, tenant: &TenantId, destination: &str) -> String {
        self.circuits.key(tenant, destination)
    }

    /// The cached holder of the event's key, if Redis knows one that is still valid for it.
    async fn cached(&self, key: &str, event: &Event) -> Option<EventId> {
        if !self.health.try_redis() {
            return None;
        }
        let mut connection = self.connection.clone();
        let value = redis::cmd("GET")
            .arg(key)
            .query_async::<Option<String>>(&mut connection)
            .await;
        self.health.record(&value);
        let value = match value {
            Ok(value) => value,
            Err(error) => {
                tracing::debug!(%error, "dedup cache unavailable; asking the store");
                return None;
            }
        };
        let (id, expires) = value?
            .split_once('@')
            .map(|(a, b)| (a.to_owned(), b.to_owned()))?;
        let expires: i64 = expires.parse().ok()?;
        (expires > event.received_at.as_millis())
            .then(|| id.parse().ok())
            .flatten()
    }

    /// Remembers a committed event as its key's holder for its dedup window.
    async fn remember(&self, key: &str, new: &NewEvent) {
        let window = new.dedup_until.as_millis() - new.event.received_at.as_millis();
        let Ok(window) = u64::try_from(window) else {
            return;
        };
        if window == 0 || !self.health.try_redis() {
            return;
        }
        let value = format!("{}@{}", new.event.id, new.dedup_until.as_millis());
        let mut connection = self.connection.clone();
        let set: Result<(), _> = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("PX")
            .arg(Duration::from_millis(window).as_millis() as u64)
            .query_async(&mut connection)
            .await;
        self.health.record(&set);
        if let Err(error) = set {
            tracing::debug!(%error, "dedup cache not updated");
        }
    }
}

#[async_trait]
impl<S: Store + ?Sized> Store for DedupCache<S> {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        let key = self.key_of(&new.event);
        if let Some(original) = self.cached(&key, &new.event).await {
            return Ok(InsertOutcome::Duplicate { original });
        }
        let outcome = self.inner.insert_event(new.clone()).await?;
        if outcome == InsertOutcome::Inserted {
            self.remember(&key, &new).await;
        }
        Ok(outcome)
    }

    async fn lease_due(
        &self,
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        self.inner.lease_due(now, limit, lease_for).await
    }

    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        self.inner.complete_attempt(completion).await
    }

    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
        self.inner.release(lease, due_at).await
    }

    async fn event(&self, tenant: &TenantId, id: EventId) -> Result<Option<Event>, StoreError> {
        self.inner.event(tenant, id).await
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.inner.deliveries(tenant, event).await
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        self.inner.delivery(tenant, id).await
    }

    async fn attempts(
        &self,
        tenant: &TenantId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.inner.attempts(tenant, delivery).await
    }

    async fn dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.inner.dead_letters(tenant, filter, limit).await
    }

    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        self.inner.schedule(tenant, event, plan, force, now).await
    }

    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.inner.redrive(tenant, filter, now).await
    }

    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        self.inner.prune(cutoff, now, batch).await
    }

    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        if !self.health.try_redis() {
            return self.inner.circuit(tenant, destination).await;
        }
        let answer = self.circuits.get(tenant, destination).await;
        self.health.record(&answer);
        match answer {
            Ok(answer) => answer,
            Err(error) => {
                tracing::debug!(%error, destination, "circuit state unavailable in redis; asking the store");
                self.inner.circuit(tenant, destination).await
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
                .inner
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
                self.inner
                    .swap_circuit(tenant, destination, expected, state)
                    .await
            }
        }
    }

    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError> {
        self.inner.put_destination(tenant, record).await
    }

    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        self.inner.destination_records(tenant).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        self.inner.queue_depth().await
    }

    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<relay_core::store::QuotaOutcome, StoreError> {
        self.inner.take_quota(tenant, day, limit).await
    }
}
