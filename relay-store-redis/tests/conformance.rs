//! The limiter conformance suite against [`RedisRateLimiter`](relay_store_redis::RedisRateLimiter),
//! and the store suite against [`relay_store_redis::share`] in front of the in-memory store: the
//! fast path must not change what any store operation answers. Skipped loudly without
//! `RELAY_TEST_REDIS_URL` (fails with `RELAY_REQUIRE_BACKENDS=1`).

mod common;

use std::sync::Arc;

use relay_core::store::memory::MemoryStore;
use relay_core::store::{Store, Stores};

// Circuits live in Redis, apart from the queue: the durable store's lease query cannot hold an
// open circuit's deliveries (documented in RELIABILITY.md and the operations chapter).
relay_core::store_conformance_tests!(optional, circuits_apart: || async {
    let redis = common::TestRedis::new("relay-store-redis conformance")?;
    let durable = Stores::new(Arc::new(MemoryStore::new()));
    let store = relay_store_redis::connect_shared(&redis.url, &redis.prefix, durable)
        .await
        .expect("connect to redis");
    Some((Arc::new(store) as Arc<dyn Store>, redis))
});

relay_core::limiter_conformance_tests!(optional: || async {
    let redis = common::TestRedis::new("relay-store-redis limiter conformance")?;
    let limiter = relay_store_redis::RedisRateLimiter::connect(&redis.url, &redis.prefix)
        .await
        .expect("connect to redis");
    Some((Arc::new(limiter) as Arc<dyn relay_core::ingest::limit::RateLimiter>, redis))
});
