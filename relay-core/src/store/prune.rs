//! Retention: deleting what the store would otherwise keep for ever (finished events, expired
//! sessions, old audit entries, old metric points), in small batches, on a schedule.

use std::future::Future;
use std::time::Duration;

use super::{AccessStore, AuditLog, EventLog, MetricStore, StoreError};
use crate::model::time::Timestamp;

/// Rows deleted per prune call: small, so the writer's other callers never wait long.
pub const PRUNE_BATCH: usize = 500;

const DAY: Duration = Duration::from_secs(86_400);

/// How long each kind of record is kept. [`Retention::default`] keeps finished events 30
/// days, audit entries 400 days, metric points 90 days, and an expired session not at all.
///
/// ```
/// use std::time::Duration;
/// use relay_core::store::Retention;
/// let days = |d: u64| Duration::from_secs(d * 86_400);
/// let retention = Retention::default().events(days(7)).audit(days(30));
/// assert_eq!((retention.events, retention.metrics), (days(7), days(90)));
/// // A bare duration is the events' retention, the rest by default.
/// assert_eq!(Retention::from(days(7)).audit, days(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Finished events (with their deliveries and attempts) older than this go; never before
    /// their dedup window has passed.
    pub events: Duration,
    /// Audit entries older than this go.
    pub audit: Duration,
    /// Per-minute metric points older than this go.
    pub metrics: Duration,
    /// A session goes this long after it expired.
    pub expired_sessions: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            events: DAY * 30,
            audit: DAY * 400,
            metrics: DAY * 90,
            expired_sessions: Duration::ZERO,
        }
    }
}

impl From<Duration> for Retention {
    fn from(events: Duration) -> Self {
        Self::default().events(events)
    }
}

impl Retention {
    /// Keeps finished events this long.
    pub fn events(mut self, keep: Duration) -> Self {
        self.events = keep;
        self
    }

    /// Keeps audit entries this long.
    pub fn audit(mut self, keep: Duration) -> Self {
        self.audit = keep;
        self
    }

    /// Keeps metric points this long.
    pub fn metrics(mut self, keep: Duration) -> Self {
        self.metrics = keep;
        self
    }

    /// Keeps a session this long after it expired.
    pub fn expired_sessions(mut self, keep: Duration) -> Self {
        self.expired_sessions = keep;
        self
    }
}

/// What one [`prune_all`] round deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Finished events.
    pub events: u64,
    /// Expired sessions.
    pub sessions: u64,
    /// Audit entries.
    pub audit: u64,
    /// Metric points.
    pub metrics: u64,
}

impl Pruned {
    /// Everything deleted.
    pub fn total(&self) -> u64 {
        self.events + self.sessions + self.audit + self.metrics
    }
}

/// `now` minus `keep` (the epoch if `keep` reaches past it).
fn before(now: Timestamp, keep: Duration) -> Timestamp {
    let keep = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
    Timestamp::from_millis(now.as_millis().saturating_sub(keep))
}

/// Calls `prune(now)` (one batch of at most [`PRUNE_BATCH`]) until a batch comes back short.
async fn in_batches<F, Fut>(mut prune: F) -> Result<u64, StoreError>
where
    F: FnMut(Timestamp) -> Fut,
    Fut: Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let pruned = prune(Timestamp::now()).await?;
        total += pruned;
        if pruned < PRUNE_BATCH as u64 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Prunes everything finished and older than `retention` (plus expired dedup entries), in
/// batches of [`PRUNE_BATCH`] until a batch comes back short. Returns how many events went.
///
/// Works on any [`EventLog`]; [`prune_all`] calls it, and several pruners (one per node)
/// may run at once.
pub async fn prune_expired<S>(store: &S, retention: Duration) -> Result<u64, StoreError>
where
    S: EventLog + ?Sized,
{
    in_batches(|now| store.prune(before(now, retention), now, PRUNE_BATCH)).await
}

/// One retention round over everything that grows: finished events, expired sessions, audit
/// entries and metric points, each kept as long as `retention` says, each in batches of
/// [`PRUNE_BATCH`]. A kind whose pruning fails does not stop the others; the first error is
/// returned after all were tried.
pub async fn prune_all<S>(store: &S, retention: &Retention) -> Result<Pruned, StoreError>
where
    S: EventLog + AccessStore + AuditLog + MetricStore + ?Sized,
{
    let events = prune_expired(store, retention.events).await;
    let sessions = in_batches(|now| {
        store.prune_sessions(before(now, retention.expired_sessions), PRUNE_BATCH)
    })
    .await;
    let audit =
        in_batches(|now| store.prune_audit(before(now, retention.audit), PRUNE_BATCH)).await;
    let metrics =
        in_batches(|now| store.prune_metrics(before(now, retention.metrics), PRUNE_BATCH)).await;
    Ok(Pruned {
        events: events?,
        sessions: sessions?,
        audit: audit?,
        metrics: metrics?,
    })
}

/// Starts a tokio task that every `interval` runs [`prune_all`] on the store `upgrade` hands
/// out, and ends by itself the first time `upgrade` answers `None` (the store was dropped:
/// pass a closure over a `Weak`). `retention` is a [`Retention`], or a bare [`Duration`] for
/// the events' (the rest by default). Call it from within a tokio runtime.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use relay_core::store::memory::MemoryStore;
/// use relay_core::store::spawn_pruner;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let store = Arc::new(MemoryStore::new());
/// let weak = Arc::downgrade(&store);
/// let pruner = spawn_pruner(move || weak.upgrade(), Duration::from_secs(86_400), Duration::from_millis(10));
/// drop(store);
/// pruner.await.unwrap(); // ends once the store is gone
/// # }
/// ```
pub fn spawn_pruner<S, F>(
    upgrade: F,
    retention: impl Into<Retention>,
    interval: Duration,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Option<S> + Send + 'static,
    S: std::ops::Deref + Send + 'static,
    S::Target: EventLog + AccessStore + AuditLog + MetricStore,
{
    let retention = retention.into();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(store) = upgrade() else {
                return;
            };
            match prune_all(&*store, &retention).await {
                Ok(pruned) if pruned.total() == 0 => {}
                Ok(pruned) => tracing::debug!(?pruned, "pruned what retention lets go"),
                Err(error) => tracing::warn!(%error, "pruning failed"),
            }
        }
    })
}
