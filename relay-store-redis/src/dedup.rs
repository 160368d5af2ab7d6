//! A dedup fast path in front of a durable store's [`EventIngest`].
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
//! After a failed command Redis is skipped for [`REDIS_BACKOFF`](crate::REDIS_BACKOFF), then
//! probed by one caller (see [`crate::health`]), so a Redis that does not answer costs one
//! timeout per second, not one per command.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::ConnectionManager;
use relay_core::model::event::Event;
use relay_core::model::ids::EventId;
use relay_core::store::{EventIngest, InsertOutcome, NewEvent, StoreError};

use crate::connect::{self, check_prefix};
use crate::error::RedisStoreError;
use crate::health::Health;

/// An [`EventIngest`] that answers repeated ingests of a key from Redis, and everything else
/// from the durable ingest `S` it wraps. [`share`](crate::share) puts it into a
/// [`Stores`](relay_core::store::Stores) with the Redis circuits.
///
/// ```no_run
/// use std::sync::Arc;
/// use relay_core::store::memory::MemoryStore;
/// use relay_core::store::Stores;
/// use relay_store_redis::DedupCache;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let durable = Arc::new(MemoryStore::new()); // a PgStore in a real deployment
/// let cache: DedupCache<MemoryStore> =
///     DedupCache::connect("redis://127.0.0.1:6379", "relay:", Arc::clone(&durable)).await?;
/// let store = Stores::new(durable).with_ingest(Arc::new(cache));
/// # let _ = store;
/// # Ok(()) }
/// ```
pub struct DedupCache<S: ?Sized> {
    inner: Arc<S>,
    connection: ConnectionManager,
    prefix: String,
    health: Health,
}

impl<S: ?Sized> Clone for DedupCache<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            connection: self.connection.clone(),
            prefix: self.prefix.clone(),
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

impl<S: EventIngest + ?Sized> DedupCache<S> {
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
        Self::with_health(connection, prefix, inner, Health::new())
    }

    /// Wraps `inner`, skipping Redis while `health` says so (shared with the circuits).
    pub(crate) fn with_health(
        connection: ConnectionManager,
        prefix: &str,
        inner: impl Into<Arc<S>>,
        health: Health,
    ) -> Result<Self, RedisStoreError> {
        Ok(Self {
            inner: inner.into(),
            prefix: check_prefix(prefix)?,
            health,
            connection,
        })
    }

    /// The durable ingest.
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
impl<S: EventIngest + ?Sized> EventIngest for DedupCache<S> {
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

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}
