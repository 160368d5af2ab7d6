//! The circuit breaker end to end, on the memory and the SQLite store: closed → open after N
//! failures → half-open probe → open again on a failed probe → closed on a good one. While
//! open, deliveries wait in the queue and no attempt is made or counted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use relay_core::Relay;
use relay_core::deliver::circuit::{CircuitBreaker, CircuitPhase};
use relay_core::deliver::destination::Destination;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::TenantId;
use relay_core::route::EventRoute;
use relay_core::store::Store;
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, loopback};

const OPEN_FOR: Duration = Duration::from_millis(700);

/// Records every distinct circuit phase of `destination` as it changes, polling every 5 ms.
fn watch(store: Arc<dyn Store>, destination: &'static str) -> Arc<Mutex<Vec<CircuitPhase>>> {
    let seen = Arc::new(Mutex::new(vec![CircuitPhase::Closed]));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            if let Ok(Some(circuit)) = store.circuit(&TenantId::default(), destination).await {
                let mut log = log.lock().expect("log");
                if log.last() != Some(&circuit.state.phase) {
                    log.push(circuit.state.phase);
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    seen
}

async fn breaker_transitions(store: Arc<dyn Store>) {
    use CircuitPhase::*;
    // Three failures open the circuit; the first probe fails slowly (so half-open is seen),
    // the second succeeds slowly.
    let receiver = Receiver::start(
        [
            Answer::Status(500),
            Answer::Status(502),
            Answer::Status(503),
            Answer::Slow(500, 150),
        ],
        Answer::Slow(200, 150),
    )
    .await;
    let destination = Destination::http("flaky", &receiver.url)
        .expect("URL")
        .policy(fast_retries(20))
        .circuit_breaker(CircuitBreaker {
            open_for: OPEN_FOR,
            ..CircuitBreaker::streak(3)
        });
    let relay = Relay::builder()
        .store(Arc::clone(&store))
        .allow_cidrs(loopback())
        .destination(destination)
        .route(EventRoute::new("all").to(["flaky"]));
    let phases = watch(Arc::clone(&store), "flaky");
    let p = Pipeline::start(relay);

    let first = p.send("first").await;
    p.wait_for(first, "flaky", "three attempts", |d| d.attempts == 3)
        .await;
    let circuit = store
        .circuit(&TenantId::default(), "flaky")
        .await
        .expect("store")
        .expect("stored circuit");
    assert_eq!((circuit.state.phase, circuit.state.failures), (Open, 3));

    // While open: nothing is attempted, and a new event's delivery waits uncounted.
    let second = p.send("second").await;
    tokio::time::sleep(OPEN_FOR / 2).await;
    assert_eq!(receiver.count(), 3, "attempted through an open circuit");
    assert_eq!(p.delivery(first, "flaky").await.attempts, 3);
    let waiting = p.delivery(second, "flaky").await;
    assert_eq!(
        (waiting.attempts, waiting.status),
        (0, DeliveryStatus::Pending)
    );

    // The failed probe reopens it; the next probe closes it; then everything flows.
    for event in [first, second] {
        p.wait_for(event, "flaky", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    }
    let first = p.delivery(first, "flaky").await;
    let second = p.delivery(second, "flaky").await;
    assert_eq!(
        first.attempts + second.attempts,
        6,
        "3 failures, a failed probe, a good probe, one more delivery"
    );
    assert_eq!(receiver.count(), 6);
    // The two probes were one request each: nothing else went out while half-open.
    let received = receiver.received();
    assert!(
        received[4].at - received[3].at >= OPEN_FOR,
        "probe came too early"
    );
    let circuit = store
        .circuit(&TenantId::default(), "flaky")
        .await
        .expect("store")
        .expect("stored circuit");
    assert_eq!((circuit.state.phase, circuit.state.failures), (Closed, 0));
    let phases = phases.lock().expect("log").clone();
    assert_eq!(phases, [Closed, Open, HalfOpen, Open, HalfOpen, Closed]);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_transitions_on_the_memory_store() {
    breaker_transitions(Arc::new(relay_core::store::memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_transitions_on_the_sqlite_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())
        .expect("open sqlite");
    breaker_transitions(Arc::new(store)).await;
}

#[tokio::test]
async fn without_a_breaker_every_retry_is_attempted() {
    let receiver = Receiver::start([], Answer::Status(500)).await;
    let destination = Destination::http("plain", &receiver.url)
        .expect("URL")
        .policy(fast_retries(8))
        .without_circuit_breaker();
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination)
            .route(EventRoute::new("all").to(["plain"])),
    );
    let event = p.send("e").await;
    let d = p
        .wait_for(event, "plain", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    assert_eq!((d.attempts, receiver.count()), (8, 8));
    let store = p.relay.store().clone();
    assert_eq!(
        store
            .circuit(&TenantId::default(), "plain")
            .await
            .expect("store"),
        None
    );
    p.stop().await;
}
