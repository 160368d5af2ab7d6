//! Ordered delivery end to end: events with the same ordering key reach a receiver that fails
//! at random strictly in ingest order, while different keys interleave; the order holds across
//! a worker restart on a durable store.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use bytes::Bytes;
use http::HeaderMap;
use relay_core::deliver::destination::Destination;
use relay_core::deliver::ordering::OrderingKey;
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::WebhookSource;
use relay_core::ingest::{IngestOutcome, IngestRequest};
use relay_core::route::EventRoute;
use relay_core::store::Store;
use relay_core::{Relay, RelayBuilder};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::pipeline::{Pipeline, SOURCE, fast_retries};
use relay_tests::{eventually, loopback, serve};
use serde_json::Value;

/// What a flaky receiver saw: the `(customer, n)` of every request it accepted, in order.
#[derive(Default)]
struct Log {
    accepted: Vec<(String, u64)>,
    requests: usize,
}

/// A receiver answering 500 to `fail_percent`% of requests at random, 200 to the others.
async fn flaky_receiver(fail_percent: u32) -> (String, Arc<Mutex<Log>>) {
    let log = Arc::new(Mutex::new(Log::default()));
    let app = Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State((log, fail)): State<(Arc<Mutex<Log>>, u32)>, body: Bytes| async move {
                    let doc: Value = serde_json::from_slice(&body).expect("JSON body");
                    let customer = doc["customer"]["id"].as_str().expect("customer").to_owned();
                    let n = doc["n"].as_u64().expect("n");
                    let mut log = log.lock().expect("log");
                    log.requests += 1;
                    if rand::random_range(0..100) < fail {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    log.accepted.push((customer, n));
                    StatusCode::OK
                },
            ),
        )
        .with_state((Arc::clone(&log), fail_percent));
    let addr: SocketAddr = serve(app).await;
    (format!("http://{addr}/hook"), log)
}

fn ordered_relay(store: Arc<dyn Store>, url: &str) -> RelayBuilder {
    let key: OrderingKey = "$.customer.id".parse().expect("selector");
    Relay::builder()
        .store(store)
        .allow_cidrs(loopback())
        .destination(
            Destination::http("crm", url)
                .expect("URL")
                .policy(fast_retries(40))
                .without_circuit_breaker(),
        )
        .route(EventRoute::new("all").to(["crm"]).ordering_key(key))
}

async fn send(relay: &Relay, customer: &str, n: u64) {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", "application/json".parse().expect("value"));
    headers.insert(
        "idempotency-key",
        format!("{customer}-{n}").parse().expect("value"),
    );
    let body = format!(r#"{{"customer":{{"id":"{customer}"}},"n":{n}}}"#);
    let outcome = relay
        .ingest(IngestRequest::new(SOURCE, headers, body))
        .await;
    assert!(
        matches!(outcome, IngestOutcome::Accepted { .. }),
        "{outcome:?}"
    );
}

/// Sends `per_key` events for each of `keys` customers, interleaved: customer `i % keys`
/// gets its `n`-th event as event `n * keys + i`.
async fn send_interleaved(relay: &Relay, keys: u64, range: std::ops::Range<u64>) {
    for n in range {
        for k in 0..keys {
            send(relay, &format!("c{k}"), n).await;
        }
    }
}

/// Every key's accepted events are exactly 0, 1, 2, … in order.
fn assert_per_key_order(accepted: &[(String, u64)], keys: u64, per_key: u64) {
    let mut by_key: HashMap<&str, Vec<u64>> = HashMap::new();
    for (customer, n) in accepted {
        by_key.entry(customer).or_default().push(*n);
    }
    assert_eq!(by_key.len() as u64, keys);
    for (customer, ns) in by_key {
        assert_eq!(ns, (0..per_key).collect::<Vec<_>>(), "customer {customer}");
    }
}

async fn wait_accepted(log: &Arc<Mutex<Log>>, count: usize) {
    let done = eventually(Duration::from_secs(120), || async {
        (log.lock().expect("log").accepted.len() >= count).then_some(())
    })
    .await;
    let got = log.lock().expect("log").accepted.len();
    assert!(done.is_some(), "only {got} of {count} accepted");
}

async fn thousand_events_over_twenty_keys(store: Arc<dyn Store>) {
    const KEYS: u64 = 20;
    const PER_KEY: u64 = 50;
    let (url, log) = flaky_receiver(30).await;
    let relay = ordered_relay(store, &url)
        .source(WebhookSource::new(SOURCE, NoSignature))
        .build()
        .expect("relay");
    let p = Pipeline::run(relay.clone());
    send_interleaved(&relay, KEYS, 0..PER_KEY).await;
    wait_accepted(&log, (KEYS * PER_KEY) as usize).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    p.stop().await;

    let log = log.lock().expect("log");
    assert_eq!(
        log.accepted.len() as u64,
        KEYS * PER_KEY,
        "each accepted once"
    );
    assert!(
        log.requests as u64 > KEYS * PER_KEY + 100,
        "the receiver failed ~30% of {} requests",
        log.requests
    );
    assert_per_key_order(&log.accepted, KEYS, PER_KEY);
    // Keys interleave: the first hundred deliveries span many keys, and the key changes
    // from one delivery to the next far more often than a key-by-key order would.
    let first: std::collections::HashSet<&str> = log.accepted[..100]
        .iter()
        .map(|(c, _)| c.as_str())
        .collect();
    assert!(first.len() >= 10, "first hundred span {} keys", first.len());
    let switches = log.accepted.windows(2).filter(|w| w[0].0 != w[1].0).count();
    assert!(switches > 500, "{switches} key switches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_holds_with_a_flaky_receiver_on_the_memory_store() {
    thousand_events_over_twenty_keys(Arc::new(relay_core::store::memory::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_holds_with_a_flaky_receiver_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store =
        SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default()).expect("sqlite");
    thousand_events_over_twenty_keys(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_key_order_holds_across_a_worker_restart() {
    const KEYS: u64 = 8;
    const PER_KEY: u64 = 30;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("relay.db");
    let (url, log) = flaky_receiver(30).await;
    let open = || -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&path, SqliteOptions::default()).expect("sqlite"))
    };
    let first = ordered_relay(open(), &url)
        .source(WebhookSource::new(SOURCE, NoSignature))
        .build()
        .expect("relay");
    send_interleaved(&first, KEYS, 0..PER_KEY).await;
    let p = Pipeline::run(first);
    wait_accepted(&log, (KEYS * PER_KEY / 3) as usize).await;
    p.stop().await;
    let midway = log.lock().expect("log").accepted.len() as u64;
    assert!(midway < KEYS * PER_KEY, "stopped midway ({midway})");

    // A new process on the same database picks the lanes up where they stopped.
    let second = ordered_relay(open(), &url)
        .source(WebhookSource::new(SOURCE, NoSignature))
        .build()
        .expect("relay");
    let p = Pipeline::run(second);
    wait_accepted(&log, (KEYS * PER_KEY) as usize).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    p.stop().await;
    assert_per_key_order(&log.lock().expect("log").accepted, KEYS, PER_KEY);
}
