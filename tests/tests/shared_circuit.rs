//! Two relays (two nodes) that share nothing but a Redis server: each has its own in-memory
//! durable store, and `relay_store_redis::share` keeps the circuits in Redis. Node A's
//! failures open the destination's circuit; node B, which never attempted anything, sees it
//! open and holds its delivery back; after `open_for` one probe (from either node) closes it
//! for both. Skipped loudly without `RELAY_TEST_REDIS_URL` (fails with
//! `RELAY_REQUIRE_BACKENDS=1`).

use std::sync::Arc;
use std::time::Duration;

use relay_core::Relay;
use relay_core::deliver::circuit::{CircuitBreaker, CircuitPhase};
use relay_core::deliver::destination::Destination;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::TenantId;
use relay_core::route::EventRoute;
use relay_core::store::memory::MemoryStore;
use relay_core::store::{CircuitStore, Store, Stores};
use relay_store_redis::redis;
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, loopback};

const OPEN_FOR: Duration = Duration::from_secs(2);

/// The Redis prefix of this test; its keys are deleted when it ends.
struct Prefix {
    url: String,
    prefix: String,
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut connection) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut connection)
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut connection);
        }
    }
}

/// A node: its own memory store behind the Redis wrapper, the destination with a breaker.
/// Returns the node, the store it runs on and its durable store.
async fn node(redis: &Prefix, receiver: &Receiver) -> (Pipeline, Arc<Stores>, Arc<MemoryStore>) {
    let durable = Arc::new(MemoryStore::new());
    let store = Arc::new(
        relay_store_redis::connect_shared(
            &redis.url,
            &redis.prefix,
            Stores::new(Arc::clone(&durable)),
        )
        .await
        .expect("connect to redis"),
    );
    let destination = Destination::http("flaky", &receiver.url)
        .expect("URL")
        .policy(fast_retries(20))
        .circuit_breaker(CircuitBreaker {
            open_for: OPEN_FOR,
            ..CircuitBreaker::streak(3)
        });
    let relay = Relay::builder()
        .store(Arc::clone(&store) as Arc<dyn Store>)
        .allow_cidrs(loopback())
        .destination(destination)
        .route(EventRoute::new("all").to(["flaky"]));
    (Pipeline::start(relay), store, durable)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_opened_on_one_node_is_open_on_the_other() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_REDIS_URL",
        "a_circuit_opened_on_one_node_is_open_on_the_other",
        "run `eval \"$(scripts/services.sh)\"` to start Redis",
    ) else {
        return;
    };
    let redis = Prefix {
        url,
        prefix: format!("relay_t_{}:", std::process::id()),
    };
    let receiver = Receiver::start(
        [
            Answer::Status(500),
            Answer::Status(502),
            Answer::Status(503),
        ],
        Answer::Status(200),
    )
    .await;
    let (a, store_a, durable_a) = node(&redis, &receiver).await;
    let (b, store_b, durable_b) = node(&redis, &receiver).await;
    let tenant = TenantId::default();

    let first = a.send("first").await;
    a.wait_for(first, "flaky", "three attempts", |d| d.attempts == 3)
        .await;
    let circuit = store_b
        .circuit(&tenant, "flaky")
        .await
        .expect("redis")
        .expect("node B sees a circuit");
    assert_eq!(
        (circuit.state.phase, circuit.state.failures),
        (CircuitPhase::Open, 3)
    );
    for durable in [&durable_a, &durable_b] {
        assert_eq!(
            durable.circuit(&tenant, "flaky").await.expect("memory"),
            None,
            "the circuit went to a durable store"
        );
    }

    // Node B holds its own event back: nothing attempted while the circuit is open.
    let second = b.send("second").await;
    tokio::time::sleep(OPEN_FOR / 4).await;
    let waiting = b.delivery(second, "flaky").await;
    assert_eq!(
        (waiting.attempts, waiting.status, receiver.count()),
        (0, DeliveryStatus::Pending, 3),
        "node B attempted through a circuit node A opened"
    );

    // After OPEN_FOR one probe (either node's) succeeds and closes the circuit for both.
    a.wait_for(first, "flaky", "delivered", |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    let second = b
        .wait_for(second, "flaky", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    assert_eq!(second.attempts, 1);
    assert_eq!(receiver.count(), 5, "3 failures, 1 probe, 1 delivery");
    let received = receiver.received();
    assert!(
        received[3].at - received[2].at >= OPEN_FOR,
        "probed before the circuit's open time ended"
    );
    let circuit = store_a
        .circuit(&tenant, "flaky")
        .await
        .expect("redis")
        .expect("stored circuit");
    assert_eq!(circuit.state.phase, CircuitPhase::Closed);
    a.stop().await;
    b.stop().await;
}
