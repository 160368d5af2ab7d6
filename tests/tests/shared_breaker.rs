//! The breaker's failure window is shared by every node on one store: two relays (two nodes)
//! on one PostgreSQL database, and two on memory stores of their own that keep circuits in
//! Redis. Node A's failures, below the minimum count, reach the stored window by themselves
//! (counted in memory, flushed within about a second); node B adds its own and opens the
//! circuit when the two together reach it; node A then holds its deliveries back. Skipped
//! loudly without the backends' URLs (fails with `RELAY_REQUIRE_BACKENDS=1`).

use std::sync::Arc;
use std::time::Duration;

use relay_core::Relay;
use relay_core::deliver::circuit::{CircuitBreaker, CircuitPhase, OpenCause};
use relay_core::deliver::destination::Destination;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::route::EventRoute;
use relay_core::store::memory::MemoryStore;
use relay_core::store::{Store, Stores};
use relay_store_postgres::{PgOptions, PgStore};
use relay_store_redis::redis;
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, eventually, loopback};

const WAIT: Duration = Duration::from_secs(20);

fn node(store: Arc<dyn Store>, receiver: &Receiver) -> Pipeline {
    // One attempt per event, so each node makes exactly as many attempts as it has events.
    let destination = Destination::http("dead", &receiver.url)
        .expect("URL")
        .policy(fast_retries(1))
        .circuit_breaker(CircuitBreaker::default());
    Pipeline::start(
        Relay::builder()
            .store(store)
            .allow_cidrs(loopback())
            .destination(destination)
            .route(EventRoute::new("all").to(["dead"])),
    )
}

async fn window_is_shared(a_store: Arc<dyn Store>, b_store: Arc<dyn Store>) {
    let tenant = TenantId::default();
    let receiver = Receiver::start([], Answer::Status(503)).await;
    let a = node(Arc::clone(&a_store), &receiver);
    let b = node(Arc::clone(&b_store), &receiver);

    // Node A: 10 failures, half the minimum count. They reach the store without another
    // attempt, and node B reads them.
    for i in 0..10 {
        a.send(&format!("a{i}")).await;
    }
    let flushed = eventually(WAIT, || async {
        let circuit = b_store.circuit(&tenant, "dead").await.ok()??;
        let tally = circuit.state.detail.window.tally(Timestamp::now());
        (tally.attempts == 10).then_some(circuit.state)
    })
    .await
    .expect("node A's counts reached the store");
    assert_eq!(
        (flushed.phase, flushed.failures),
        (CircuitPhase::Closed, 10)
    );
    assert_eq!(receiver.count(), 10);

    // Node B: its 10 failures and A's 10 are the minimum count: B opens the circuit.
    for i in 0..10 {
        b.send(&format!("b{i}")).await;
    }
    let opened = eventually(WAIT, || async {
        let circuit = a_store.circuit(&tenant, "dead").await.ok()??;
        (circuit.state.phase == CircuitPhase::Open).then_some(circuit.state)
    })
    .await
    .expect("the circuit opened");
    assert_eq!(
        (opened.failures, opened.detail.attempts, opened.detail.cause),
        (20, 20, Some(OpenCause::Rate))
    );
    assert_eq!(receiver.count(), 20);

    // Node A holds its next delivery back: the circuit is open for 30 s. (A node reuses the
    // circuit it last read or wrote for up to 250 ms, so it sees another node's change within
    // that; with circuits in Redis its lease query does not see the circuit, its gate does.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = a.send("a-held").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let waiting = a.delivery(held, "dead").await;
    assert_eq!(
        (waiting.attempts, waiting.status, receiver.count()),
        (0, DeliveryStatus::Pending, 20),
        "node A attempted through the circuit node B opened"
    );
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_share_the_window() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "two_nodes_on_one_postgres_share_the_window",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    let schema = format!("relay_t_breaker_{:016x}", rand::random::<u64>());
    let connect = || async {
        PgStore::connect(&url, PgOptions::default().schema(&schema))
            .await
            .expect("postgres store")
    };
    let a = connect().await;
    let b = connect().await;
    let pool = a.pool().clone();
    window_is_shared(Arc::new(a), Arc::new(b)).await;
    let client = pool.get().await.expect("a connection");
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .expect("drop the test schema");
}

/// Deletes the test's Redis keys when it ends.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_with_circuits_in_redis_share_the_window() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_REDIS_URL",
        "two_nodes_with_circuits_in_redis_share_the_window",
        "run `eval \"$(scripts/services.sh)\"` to start Redis",
    ) else {
        return;
    };
    let redis = Prefix {
        url,
        prefix: format!("relay_t_breaker_{}:", std::process::id()),
    };
    let shared = || async {
        Arc::new(
            relay_store_redis::connect_shared(
                &redis.url,
                &redis.prefix,
                Stores::new(Arc::new(MemoryStore::new())),
            )
            .await
            .expect("connect to redis"),
        ) as Arc<dyn Store>
    };
    let a = shared().await;
    let b = shared().await;
    window_is_shared(a, b).await;
}
