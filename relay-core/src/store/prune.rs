//! Retention: deleting what the store would otherwise keep for ever (finished events, expired
//! sessions, old audit entries and signature-failure records, old metric points), in small
//! batches, on a schedule.

use std::future::Future;
use std::time::Duration;

use super::{AccessStore, AuditLog, EventLog, MetricStore, StoreError};
use crate::model::time::Timestamp;

/// Rows deleted per prune call: small, so the writer's other callers never wait long.
pub const PRUNE_BATCH: usize = 500;

const DAY: Duration = Duration::from_secs(86_400);

/// How long each kind of record is kept. [`Retention::default`] keeps finished events 30
/// days, audit entries 400 days, metric points 90 days, records of refused signatures 30
/// days, and an expired session not at all.
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
    /// A session (and a consumer-portal link) goes this long after it expired.
    pub expired_sessions: Duration,
    /// Records of refused signatures older than this go.
    pub signature_failures: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            events: DAY * 30,
            audit: DAY * 400,
            metrics: DAY * 90,
            expired_sessions: Duration::ZERO,
            signature_failures: DAY * 30,
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

    /// Keeps records of refused signatures this long.
    pub fn signature_failures(mut self, keep: Duration) -> Self {
        self.signature_failures = keep;
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
    /// Expired consumer-portal links.
    pub portal_links: u64,
    /// Audit entries.
    pub audit: u64,
    /// Metric points.
    pub metrics: u64,
    /// Records of refused signatures.
    pub signature_failures: u64,
}

impl Pruned {
    /// Everything deleted.
    pub fn total(&self) -> u64 {
        self.events
            + self.sessions
            + self.portal_links
            + self.audit
            + self.metrics
            + self.signature_failures
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

/// How often [`spawn_pruner`] sweeps sessions, audit entries and metric points (events go at
/// every round): their retentions count in days, and a sweep that finds nothing to delete may
/// still read the whole table.
pub const SWEEP_EVERY: Duration = Duration::from_secs(3_600);

/// One retention round over everything that grows: finished events, expired sessions, audit
/// entries, records of refused signatures and metric points, each kept as long as `retention` says, each in batches of
/// [`PRUNE_BATCH`]. A kind whose pruning fails does not stop the others; the first error is
/// returned after all were tried.
pub async fn prune_all<S>(store: &S, retention: &Retention) -> Result<Pruned, StoreError>
where
    S: EventLog + AccessStore + AuditLog + MetricStore + ?Sized,
{
    let events = prune_expired(store, retention.events).await;
    let rest = prune_besides_events(store, retention).await;
    let events = events?;
    rest.map(|rest| Pruned { events, ..rest })
}

/// [`prune_all`] without the events: expired sessions, audit entries, records of refused
/// signatures and metric points.
async fn prune_besides_events<S>(store: &S, retention: &Retention) -> Result<Pruned, StoreError>
where
    S: AccessStore + AuditLog + MetricStore + ?Sized,
{
    let sessions = in_batches(|now| {
        store.prune_sessions(before(now, retention.expired_sessions), PRUNE_BATCH)
    })
    .await;
    let portal_links = in_batches(|now| {
        store.prune_portal_links(before(now, retention.expired_sessions), PRUNE_BATCH)
    })
    .await;
    let audit =
        in_batches(|now| store.prune_audit(before(now, retention.audit), PRUNE_BATCH)).await;
    let metrics =
        in_batches(|now| store.prune_metrics(before(now, retention.metrics), PRUNE_BATCH)).await;
    let signature_failures = in_batches(|now| {
        store.prune_signature_failures(before(now, retention.signature_failures), PRUNE_BATCH)
    })
    .await;
    Ok(Pruned {
        events: 0,
        sessions: sessions?,
        portal_links: portal_links?,
        audit: audit?,
        metrics: metrics?,
        signature_failures: signature_failures?,
    })
}

/// Starts a tokio task that every `interval` prunes finished events, and at its first round
/// and then every [`SWEEP_EVERY`] (or `interval`, if longer) everything else [`prune_all`]
/// prunes, on the store `upgrade` hands out; it ends by itself the first time `upgrade`
/// answers `None` (the store was dropped: pass a closure over a `Weak`). `retention` is a
/// [`Retention`], or a bare [`Duration`] for the events' (the rest by default). Call it from
/// within a tokio runtime.
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
    spawn_sweeping(
        upgrade,
        retention.into(),
        interval,
        SWEEP_EVERY.max(interval),
    )
}

/// [`spawn_pruner`], sweeping the other kinds every `sweep_every`.
fn spawn_sweeping<S, F>(
    upgrade: F,
    retention: Retention,
    interval: Duration,
    sweep_every: Duration,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Option<S> + Send + 'static,
    S: std::ops::Deref + Send + 'static,
    S::Target: EventLog + AccessStore + AuditLog + MetricStore,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_sweep: Option<tokio::time::Instant> = None;
        loop {
            let now = ticker.tick().await;
            let Some(store) = upgrade() else {
                return;
            };
            let sweep = last_sweep.is_none_or(|at| now - at >= sweep_every);
            let pruned = if sweep {
                prune_all(&*store, &retention).await
            } else {
                let events = prune_expired(&*store, retention.events).await;
                events.map(|events| Pruned {
                    events,
                    ..Pruned::default()
                })
            };
            if sweep && pruned.is_ok() {
                last_sweep = Some(now);
            }
            match pruned {
                Ok(pruned) if pruned.total() == 0 => {}
                Ok(pruned) => tracing::debug!(?pruned, "pruned what retention lets go"),
                Err(error) => tracing::warn!(%error, "pruning failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::control::admin::{AuditEntry, AuditQuery};
    use crate::model::ids::{AuditId, TenantId};
    use crate::store::memory::MemoryStore;

    fn ancient(object: &str) -> AuditEntry {
        AuditEntry {
            id: AuditId::new(),
            tenant: TenantId::default(),
            at: Timestamp::from_millis(0),
            actor: "test".into(),
            action: "update".into(),
            object_kind: "route".into(),
            object_id: object.into(),
            changes: Vec::new(),
            client: None,
        }
    }

    async fn audit_count(store: &MemoryStore) -> usize {
        let (tenant, query) = (TenantId::default(), AuditQuery::default());
        let entries = store.audit_entries(&tenant, &query, 100);
        entries.await.expect("audit").len()
    }

    #[tokio::test]
    async fn the_pruner_sweeps_at_once_then_every_sweep_period() {
        let store = Arc::new(MemoryStore::new());
        store.append_audit(ancient("first")).await.expect("append");
        let weak = Arc::downgrade(&store);
        let period = Duration::from_secs(1);
        let pruner = spawn_sweeping(
            move || weak.upgrade(),
            Retention::default(),
            Duration::from_millis(10),
            period,
        );
        let started = tokio::time::Instant::now();
        while audit_count(&store).await > 0 {
            assert!(started.elapsed() < Duration::from_secs(5), "no first sweep");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        store.append_audit(ancient("second")).await.expect("append");
        // Event rounds every 10 ms do not sweep: the next sweep is a period after the first.
        tokio::time::sleep(Duration::from_millis(200)).await;
        if started.elapsed() < period {
            assert_eq!(audit_count(&store).await, 1, "swept before its period");
        }
        while audit_count(&store).await > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no second sweep"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(started.elapsed() >= period, "swept again before its period");
        drop(store);
        pruner.await.expect("the pruner ends with the store");
    }
}
