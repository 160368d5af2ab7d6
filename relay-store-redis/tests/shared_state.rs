//! What several nodes share through Redis: one rate budget, and the dedup cache, which never
//! claims a key the durable store has not committed. (The limiter's window itself is
//! checked by the limiter conformance suite in `conformance.rs`.)

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use relay_core::ingest::limit::{RateDecision, RateLimit, RateLimiter};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::conformance::new_event;
use relay_core::store::memory::MemoryStore;
use relay_core::store::{EventIngest, EventLog, InsertOutcome, NewEvent, StoreError};
use relay_store_redis::{DedupCache, RedisRateLimiter, RedisStoreError, redis};

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + ms)
}

/// Three nodes, 40 concurrent acquisitions, one budget of 25.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_share_one_budget() {
    let Some(redis) = common::TestRedis::new("nodes_share_one_budget") else {
        return;
    };
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(Arc::new(
            RedisRateLimiter::connect(&redis.url, &redis.prefix)
                .await
                .unwrap(),
        ));
    }
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let node = Arc::clone(&nodes[i % 3]);
            tokio::spawn(async move {
                node.acquire("source:github", RateLimit { per_minute: 25 }, at(i as i64))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        if task.await.unwrap() == RateDecision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 25);
}

#[tokio::test]
async fn bad_urls_and_prefixes_are_refused() {
    let error = RedisRateLimiter::connect("http://x", "p:")
        .await
        .unwrap_err();
    assert!(matches!(error, RedisStoreError::InvalidUrl(_)));
    assert!(relay_store_redis::is_redis_url("rediss://h:6380"));
    let Some(redis) = common::TestRedis::new("bad_urls_and_prefixes_are_refused") else {
        return;
    };
    let error = RedisRateLimiter::connect(&redis.url, "bad prefix*")
        .await
        .unwrap_err();
    assert!(matches!(error, RedisStoreError::InvalidPrefix(_)));
}

/// A durable store that counts inserts and can be made to fail them.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryStore,
    fail: AtomicBool,
    inserts: AtomicUsize,
}

/// Only ingest changes: the rest of the store is not needed by these tests.
#[async_trait]
impl EventIngest for Flaky {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.inserts.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::unavailable("commit failed"));
        }
        self.inner.insert_event(new).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
}

async fn exists(redis: &common::TestRedis, key: &str) -> bool {
    let mut connection = redis.connection().await;
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<i64>(&mut connection)
        .await
        .unwrap()
        == 1
}

/// A failed commit leaves no claim in Redis: the sender's retry is accepted, not answered
/// "duplicate" of an event that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_commit_leaves_no_claim_in_redis() {
    let Some(redis) = common::TestRedis::new("a_failed_commit_leaves_no_claim") else {
        return;
    };
    let store = DedupCache::connect(&redis.url, &redis.prefix, Flaky::default())
        .await
        .unwrap();
    let t = TenantId::default_tenant();
    let new = new_event(&t, "github", "k", 0, &["a"]);
    let key = store.key_of(&new.event);
    store.inner().fail.store(true, Ordering::SeqCst);
    let failed = store.insert_event(new.clone()).await;
    assert!(matches!(failed, Err(StoreError::Unavailable(_))));
    assert!(
        !exists(&redis, &key).await,
        "redis claimed an uncommitted key"
    );

    store.inner().fail.store(false, Ordering::SeqCst);
    let retry = new_event(&t, "github", "k", 10, &["a"]);
    let retry_id = retry.event.id;
    assert_eq!(
        store.insert_event(retry).await.unwrap(),
        InsertOutcome::Inserted
    );
    assert!(exists(&redis, &key).await);
    assert!(
        store
            .inner()
            .inner
            .event(&t, retry_id)
            .await
            .unwrap()
            .is_some()
    );
}

/// Once a key's event is committed, repeats are answered from Redis (the store is not
/// asked), on every node sharing the server; a later event past the window goes through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_are_answered_from_redis_on_every_node() {
    let Some(redis) = common::TestRedis::new("repeats_are_answered_from_redis") else {
        return;
    };
    let durable = Arc::new(Flaky::default());
    let node_a = DedupCache::<Flaky>::connect(&redis.url, &redis.prefix, Arc::clone(&durable))
        .await
        .unwrap();
    let node_b = DedupCache::<Flaky>::connect(&redis.url, &redis.prefix, Arc::clone(&durable))
        .await
        .unwrap();
    let t = TenantId::default_tenant();
    let mut first = new_event(&t, "github", "k", 0, &["a"]);
    first.dedup_until = at(5_000);
    let first_id = first.event.id;
    assert_eq!(
        node_a.insert_event(first).await.unwrap(),
        InsertOutcome::Inserted
    );
    assert_eq!(durable.inserts.load(Ordering::SeqCst), 1);
    for node in [&node_a, &node_b] {
        let again = new_event(&t, "github", "k", 1_000, &["a"]);
        assert_eq!(
            node.insert_event(again).await.unwrap(),
            InsertOutcome::Duplicate { original: first_id }
        );
    }
    assert_eq!(
        durable.inserts.load(Ordering::SeqCst),
        1,
        "answered by redis"
    );
    // Past the window the cached entry no longer holds: the store decides (and accepts).
    let later = new_event(&t, "github", "k", 5_000, &["a"]);
    assert_eq!(
        node_b.insert_event(later).await.unwrap(),
        InsertOutcome::Inserted
    );
    assert_eq!(durable.inserts.load(Ordering::SeqCst), 2);
    // Another tenant's same key is another key.
    let other = new_event(&TenantId::new("other"), "github", "k", 1_000, &["a"]);
    assert_eq!(
        node_a.insert_event(other).await.unwrap(),
        InsertOutcome::Inserted
    );
}
