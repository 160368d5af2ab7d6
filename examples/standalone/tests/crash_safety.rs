//! Crash safety with real processes: the `relay` binary on its SQLite store is killed with
//! SIGKILL at random moments while several clients send signed GitHub pushes, then restarted.
//!
//! Every event that got a 2xx must be in the store and must reach the loopback receiver at
//! least once; an event that got no answer may or may not be there. The clients behave like
//! real senders: a request without an answer is sent again, with the same `X-GitHub-Delivery`,
//! so an event stored just before a kill comes back as a duplicate of itself.
//!
//! `RELAY_CRASH_KILLS=N` runs N kills instead of 5 (`RELAY_LONG_FAULTS=1`: 20);
//! `RELAY_CRASH_SEED=S` replays the kill timings of a printed seed. The run prints the kills
//! survived, the events lost (must be 0) and the duplicates delivered (at-least-once allows
//! them for attempts in flight at a kill).

mod support;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use relay_core::ids::{EventId, TenantId};
use relay_core::store::Store;
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::{Receiver, eventually, github_signature};
use support::{free_port, start, terminate};

const SECRET: &str = "crash-test-secret";
const CLIENTS: usize = 8;

/// What the clients learned: event number → the event id of its 2xx answer.
type Acknowledged = Arc<Mutex<BTreeMap<u64, String>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_kill_9_and_are_delivered() {
    let long = std::env::var("RELAY_LONG_FAULTS").as_deref() == Ok("1");
    let kills: usize = std::env::var("RELAY_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if long { 20 } else { 5 });
    let seed: u64 = std::env::var("RELAY_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(rand::random);
    println!("crash test: {kills} kills, RELAY_CRASH_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);

    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay.db");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &db, addr, &receiver.url);

    let acknowledged: Acknowledged = Arc::default();
    let sent = Arc::new(AtomicU64::new(0));
    let unanswered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            tokio::spawn(send_events(
                client as u64,
                addr,
                Counters {
                    sent: Arc::clone(&sent),
                    unanswered: Arc::clone(&unanswered),
                },
                Arc::clone(&acknowledged),
                Arc::clone(&stop),
            ))
        })
        .collect();

    for kill in 1..=kills {
        let mut gateway = start(&config, addr, &[]).await;
        let acked_before = acknowledged.lock().expect("lock").len();
        // Let some traffic be acknowledged, then kill at a random moment.
        eventually(Duration::from_secs(30), || {
            let n = acknowledged.lock().expect("lock").len();
            async move { (n > acked_before).then_some(()) }
        })
        .await
        .expect("the gateway acknowledges events after a restart");
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..400))).await;
        gateway.kill().expect("SIGKILL");
        gateway.wait().expect("reap");
        println!(
            "kill {kill}: {} acknowledged so far",
            acknowledged.lock().expect("lock").len()
        );
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..200))).await;
    }

    // The last life: traffic stops, everything acknowledged must be delivered.
    let mut gateway = start(&config, addr, &[]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    let sent = sent.load(Ordering::SeqCst);
    let delivered = eventually(Duration::from_secs(90), || {
        let numbers = delivered_numbers(&receiver);
        let missing = acknowledged.keys().filter(|n| !numbers.contains(n)).count();
        async move { (missing == 0).then_some(numbers) }
    })
    .await;
    let numbers = delivered_numbers(&receiver);
    let missing: Vec<_> = acknowledged
        .keys()
        .filter(|n| !numbers.contains(n))
        .collect();
    let twice = delivered_more_than_once(&receiver);
    println!(
        "crash test: {kills} kills survived; {sent} events sent, {} requests without an \
         answer (sent again), {} events acknowledged, {} never acknowledged, {} acknowledged \
         events lost, {} distinct delivered, {} deliveries in all ({} duplicates, of {twice} \
         events)",
        unanswered.load(Ordering::SeqCst),
        acknowledged.len(),
        sent - acknowledged.len() as u64,
        missing.len(),
        numbers.len(),
        receiver.count(),
        receiver.count() - numbers.len(),
    );
    assert!(
        delivered.is_some(),
        "{} acknowledged events were never delivered: {missing:?}",
        missing.len()
    );

    // Graceful stop, then read the file directly: every acknowledged event is stored.
    let status = terminate(&mut gateway);
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let store = SqliteStore::open(&db, SqliteOptions::default()).expect("open the store");
    let tenant = TenantId::default();
    let mut absent = Vec::new();
    for (n, id) in &acknowledged {
        let id: EventId = id.parse().expect("an event id");
        if store.event(&tenant, id).await.expect("read").is_none() {
            absent.push(*n);
        }
    }
    assert!(absent.is_empty(), "acknowledged but not stored: {absent:?}");
    assert!(
        acknowledged.len() >= kills,
        "too little traffic to mean anything"
    );
}

fn write_config(path: &Path, db: &Path, addr: SocketAddr, receiver: &str) {
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "github"
scheme = "github"
secrets = ["{SECRET}"]

[[destinations]]
name = "receiver"
url = "{receiver}"
timeout_ms = 2000
retry = {{ max_attempts = 50, initial_ms = 50, max_ms = 500 }}

[[routes]]
name = "pushes"
source = "github"
event_types = ["push"]
destinations = ["receiver"]
"#,
        db = db.display()
    );
    std::fs::write(path, toml).expect("write config");
}

/// What the senders count.
struct Counters {
    /// Events sent (each once, whatever the number of requests).
    sent: Arc<AtomicU64>,
    /// Requests that got no HTTP answer (the gateway died).
    unanswered: Arc<AtomicU64>,
}

/// One sender: numbered events, each sent until it gets a 2xx (same delivery id each time).
async fn send_events(
    client: u64,
    addr: SocketAddr,
    counters: Counters,
    acknowledged: Acknowledged,
    stop: Arc<AtomicBool>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let url = format!("http://{addr}/webhooks/github");
    let padding = "x".repeat(900);
    let mut n = client << 32;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        counters.sent.fetch_add(1, Ordering::SeqCst);
        let body =
            serde_json::json!({ "ref": "refs/heads/main", "n": n, "padding": padding }).to_string();
        let signature = github_signature(SECRET, body.as_bytes());
        while !stop.load(Ordering::SeqCst) {
            let answer = http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-github-event", "push")
                .header("x-github-delivery", format!("delivery-{n}"))
                .header("x-hub-signature-256", &signature)
                .body(body.clone())
                .send()
                .await;
            let Ok(response) = answer else {
                counters.unanswered.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            };
            let status = response.status();
            let Ok(json) = response.json::<serde_json::Value>().await else {
                counters.unanswered.fetch_add(1, Ordering::SeqCst);
                continue;
            };
            if status.is_success() {
                let id = json["event_id"].as_str().expect("event_id").to_owned();
                acknowledged.lock().expect("lock").insert(n, id);
                break;
            }
            assert_eq!(status, 503, "only an unavailable store may refuse: {json}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// How many events the receiver got more than once.
fn delivered_more_than_once(receiver: &Receiver) -> usize {
    let mut seen = std::collections::HashMap::<u64, usize>::new();
    for n in receiver
        .received()
        .iter()
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .filter_map(|v| v["n"].as_u64())
    {
        *seen.entry(n).or_default() += 1;
    }
    seen.values().filter(|&&count| count > 1).count()
}

/// The event numbers the receiver has got.
fn delivered_numbers(receiver: &Receiver) -> HashSet<u64> {
    receiver
        .received()
        .iter()
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .filter_map(|v| v["n"].as_u64())
        .collect()
}
