//! Retention: deleting finished events older than a retention period, in small batches.

use std::sync::Weak;
use std::time::Duration;

use relay_core::store::{Store, StoreError};
use relay_core::time::Timestamp;

/// Events deleted per prune call: small, so no statement holds many rows for long.
pub const PRUNE_BATCH: usize = 500;

/// Prunes everything finished and older than `retention` (plus expired dedup entries), in
/// batches of [`PRUNE_BATCH`] until a batch comes back short. Returns how many events went.
/// Pruners on several nodes may run at once: each skips the rows another one holds.
pub async fn prune_expired(store: &dyn Store, retention: Duration) -> Result<u64, StoreError> {
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

/// The loop behind [`PgStore::spawn_pruner`](crate::PgStore::spawn_pruner): ends when the
/// store is dropped.
pub(crate) async fn run(store: Weak<crate::Inner>, retention: Duration, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(inner) = store.upgrade() else {
            return;
        };
        let store = crate::PgStore { inner };
        match prune_expired(&store, retention).await {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(pruned, "pruned expired events"),
            Err(error) => tracing::warn!(%error, "pruning failed"),
        }
    }
}
