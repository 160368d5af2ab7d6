//! Retention: deleting finished events older than a retention period, in small batches, on a
//! schedule.

use std::time::Duration;

use super::{EventLog, StoreError};
use crate::model::time::Timestamp;

/// Events deleted per prune call: small, so the writer's other callers never wait long.
pub const PRUNE_BATCH: usize = 500;

/// Prunes everything finished and older than `retention` (plus expired dedup entries), in
/// batches of [`PRUNE_BATCH`] until a batch comes back short. Returns how many events went.
///
/// Works on any [`EventLog`]; [`spawn_pruner`] calls it, and several pruners (one per node)
/// may run at once.
pub async fn prune_expired<S>(store: &S, retention: Duration) -> Result<u64, StoreError>
where
    S: EventLog + ?Sized,
{
    let mut total = 0;
    loop {
        let now = Timestamp::now();
        let cutoff = Timestamp::from_millis(
            now.as_millis()
                .saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX)),
        );
        let pruned = store.prune(cutoff, now, PRUNE_BATCH).await?;
        total += pruned;
        if pruned < PRUNE_BATCH as u64 {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// Starts a tokio task that every `interval` runs [`prune_expired`] on the store `upgrade`
/// hands out, and ends by itself the first time `upgrade` answers `None` (the store was
/// dropped: pass a closure over a `Weak`). Call it from within a tokio runtime.
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
    retention: Duration,
    interval: Duration,
) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Option<S> + Send + 'static,
    S: std::ops::Deref + Send + 'static,
    S::Target: EventLog,
{
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let Some(store) = upgrade() else {
                return;
            };
            match prune_expired(&*store, retention).await {
                Ok(0) => {}
                Ok(pruned) => tracing::debug!(pruned, "pruned expired events"),
                Err(error) => tracing::warn!(%error, "pruning failed"),
            }
        }
    })
}
