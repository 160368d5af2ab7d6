//! Circuit-breaker state in Redis: nodes that share nothing but the Redis server share their
//! circuits (the durable stores never see them), and while Redis is down the durable store
//! answers. (The compare-and-set contract itself is the store conformance suite's
//! `circuit_*` cases in `conformance.rs`, run against [`relay_store_redis::share`].)

#![allow(clippy::unwrap_used)]

mod common;
mod proxy;

use std::time::{Duration, Instant};

use relay_core::deliver::circuit::{CircuitPhase, CircuitState};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::CircuitStore;
use relay_core::store::memory::MemoryStore;
use relay_store_redis::circuit::CIRCUIT_TTL;
use relay_store_redis::{REDIS_BACKOFF, REDIS_TIMEOUT, SharedCircuits, redis};

/// Circuits in Redis at `url` under `prefix`, in front of a memory store of their own.
async fn circuits(url: &str, prefix: &str) -> SharedCircuits<MemoryStore> {
    let connection = relay_store_redis::connect(url).await.unwrap();
    SharedCircuits::new(connection, prefix, MemoryStore::new()).unwrap()
}

fn open_until(ms: i64) -> CircuitState {
    CircuitState {
        phase: CircuitPhase::Open,
        failures: 5,
        window_started: Timestamp::from_millis(ms - 30_000),
        until: Timestamp::from_millis(ms),
        ..CircuitState::CLOSED
    }
}

/// Node A opens a circuit; node B, with a durable store of its own, reads it open and must
/// use A's version to change it. Neither durable store holds a circuit; the key has the TTL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_circuits_through_redis_alone() {
    let Some(redis) = common::TestRedis::new("nodes_share_circuits_through_redis_alone") else {
        return;
    };
    let node_a = circuits(&redis.url, &redis.prefix).await;
    let node_b = circuits(&redis.url, &redis.prefix).await;
    let t = TenantId::new("acme");
    let open = open_until(1_700_000_030_000);
    assert!(node_a.swap_circuit(&t, "slack", None, open).await.unwrap());

    let seen = node_b.circuit(&t, "slack").await.unwrap().unwrap();
    assert_eq!((seen.state, seen.version), (open, 1));
    assert!(
        !node_b
            .swap_circuit(&t, "slack", None, CircuitState::CLOSED)
            .await
            .unwrap(),
        "B did not see A's write"
    );
    assert!(
        node_b
            .swap_circuit(&t, "slack", Some(1), CircuitState::CLOSED)
            .await
            .unwrap()
    );
    assert_eq!(
        node_a.circuit(&t, "slack").await.unwrap().unwrap().version,
        2
    );
    for node in [&node_a, &node_b] {
        assert_eq!(node.fallback().circuit(&t, "slack").await.unwrap(), None);
    }

    let mut connection = redis.connection().await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(node_a.key(&t, "slack"))
        .query_async(&mut connection)
        .await
        .unwrap();
    let full = i64::try_from(CIRCUIT_TTL.as_millis()).unwrap();
    assert!(full - 60_000 < ttl && ttl <= full, "ttl {ttl} ms");
}

/// While Redis is unreachable the durable store answers reads and takes the writes; once it
/// is back, Redis answers again, with the state it held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_answers_while_redis_is_down() {
    let Some(redis) = common::TestRedis::new("the_store_answers_while_redis_is_down") else {
        return;
    };
    let mut proxy = proxy::Proxy::start(&redis.url).await;
    let node = circuits(&proxy.url(), &redis.prefix).await;
    let t = TenantId::new("acme");
    let in_redis = open_until(1_700_000_030_000);
    assert!(
        node.swap_circuit(&t, "slack", None, in_redis)
            .await
            .unwrap()
    );

    proxy.stop().await;
    let started = Instant::now();
    assert_eq!(
        node.circuit(&t, "slack").await.unwrap(),
        None,
        "the store's answer (it holds no circuit)"
    );
    let in_store = open_until(1_700_000_060_000);
    assert!(
        node.swap_circuit(&t, "slack", None, in_store)
            .await
            .unwrap()
    );
    assert!(
        started.elapsed() < REDIS_TIMEOUT * 4,
        "waited {:?} for a Redis that is down",
        started.elapsed()
    );
    let stored = node.fallback().circuit(&t, "slack").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.version), (in_store, 1));
    assert_eq!(
        node.circuit(&t, "slack").await.unwrap().unwrap().state,
        in_store
    );

    proxy.restart().await;
    let mut back = None;
    for _ in 0..100 {
        let seen = node.circuit(&t, "slack").await.unwrap();
        if seen.map(|c| c.state) == Some(in_redis) {
            back = seen;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        back.map(|c| c.version),
        Some(1),
        "redis never answered again"
    );
}

/// A Redis that accepts connections and never answers costs at most one wait per back-off
/// period: after a failure the store answers at once, and only one call per period tries
/// Redis again (and may wait for the timeout) while the others go straight to the store.
/// Without the back-off every call would wait on the client's reconnection (a second each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_redis_costs_one_wait_per_backoff() {
    let Some(redis) = common::TestRedis::new("a_silent_redis_costs_one_wait_per_backoff") else {
        return;
    };
    let mut proxy = proxy::Proxy::start(&redis.url).await;
    let node = circuits(&proxy.url(), &redis.prefix).await;
    let t = TenantId::new("acme");
    assert!(
        node.swap_circuit(&t, "slack", None, open_until(1_700_000_030_000))
            .await
            .unwrap()
    );
    proxy.stop().await;
    proxy.black_hole().await;

    let period = REDIS_BACKOFF * 3;
    let started = Instant::now();
    let (mut calls, mut slow, mut slowest) = (0, 0, Duration::ZERO);
    while started.elapsed() < period {
        let call = Instant::now();
        assert_eq!(
            node.circuit(&t, "slack").await.unwrap(),
            None,
            "the store's answer"
        );
        let took = call.elapsed();
        calls += 1;
        slow += usize::from(took > Duration::from_millis(100));
        slowest = slowest.max(took);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(calls >= 100, "{calls} calls in {period:?}");
    assert!(slow <= 4, "{slow} of {calls} calls waited for Redis");
    assert!(slowest < REDIS_TIMEOUT * 3, "a call took {slowest:?}");
}
