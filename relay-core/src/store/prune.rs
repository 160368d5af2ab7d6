//! Retention: deleting finished events older than a retention period, in small batches.

use std::time::Duration;

use super::{Store, StoreError};
use crate::time::Timestamp;

/// Events deleted per prune call: small, so the writer's other callers never wait long.
pub const PRUNE_BATCH: usize = 500;

/// Prunes everything finished and older than `retention` (plus expired dedup entries), in
/// batches of [`PRUNE_BATCH`] until a batch comes back short. Returns how many events went.
///
/// Works on any [`Store`]; every store's background pruner calls it, and several pruners
/// (one per node) may run at once.
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
