//! The store conformance suite against [`MemoryStore`], and the limiter suite against the
//! in-process [`SlidingWindowLimiter`](relay_core::ingest::limit::SlidingWindowLimiter).

use std::sync::Arc;

use relay_core::store::Store;
use relay_core::store::memory::MemoryStore;

relay_core::store_conformance_tests!(|| async { Arc::new(MemoryStore::new()) as Arc<dyn Store> });

relay_core::limiter_conformance_tests!(|| async {
    Arc::new(relay_core::ingest::limit::SlidingWindowLimiter::new())
        as Arc<dyn relay_core::ingest::limit::RateLimiter>
});
