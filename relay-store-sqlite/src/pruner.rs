//! The background pruning loop: runs `relay_core::store::prune_expired` on a schedule.

use std::sync::Weak;
use std::time::Duration;

use relay_core::store::prune_expired;

/// The pruning loop behind [`SqliteStore::spawn_pruner`](crate::SqliteStore::spawn_pruner):
/// ends when the store is dropped.
pub(crate) async fn run(store: Weak<crate::Inner>, retention: Duration, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(inner) = store.upgrade() else {
            return;
        };
        let store = crate::SqliteStore { inner };
        match prune_expired(&store, retention).await {
            Ok(0) => {}
            Ok(pruned) => tracing::debug!(pruned, "pruned expired events"),
            Err(error) => tracing::warn!(%error, "pruning failed"),
        }
    }
}
