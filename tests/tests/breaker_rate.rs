//! The circuit breaker judges the failure rate, end to end against real loopback receivers:
//! a receiver failing 30% of requests at random is never opened in 10,000 attempts; one
//! failing every request is opened at the breaker's minimum count; a half-open circuit lets
//! its probes through and closes when they succeed, or opens again when one fails.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use relay_core::Relay;
use relay_core::deliver::circuit::{CircuitBreaker, CircuitPhase, CircuitState, OpenCause};
use relay_core::deliver::destination::Destination;
use relay_core::model::ids::TenantId;
use relay_core::route::EventRoute;
use relay_core::store::Store;
use relay_core::store::memory::MemoryStore;
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, eventually, loopback, serve};

/// A receiver that fails `percent`% of requests with 500 at random, from a seeded RNG (the
/// sequence of answers is the same on every run).
#[derive(Clone)]
struct RandomReceiver {
    url: String,
    state: Shared,
}

/// The RNG, the failure percentage, requests answered, of those failed.
type Shared = Arc<Mutex<(StdRng, u32, u64, u64)>>;

impl RandomReceiver {
    async fn start(percent: u32, seed: u64) -> Self {
        let state = Arc::new(Mutex::new((StdRng::seed_from_u64(seed), percent, 0, 0)));
        async fn answer(State(state): State<Shared>) -> StatusCode {
            let mut state = state.lock().expect("receiver");
            let fail = state.0.random_range(0..100) < state.1;
            state.2 += 1;
            if fail {
                state.3 += 1;
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        }
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(answer))
            .with_state(Arc::clone(&state));
        let addr = serve(app).await;
        Self {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    /// Requests answered, and of those failed.
    fn counts(&self) -> (u64, u64) {
        let state = self.state.lock().expect("receiver");
        (state.2, state.3)
    }
}

/// Every distinct stored state of `destination`'s circuit phase (and probes let through), as
/// it changes, polling every 2 ms until the returned flag is set.
fn watch(
    store: Arc<dyn Store>,
    destination: &'static str,
) -> (
    Arc<Mutex<Vec<CircuitState>>>,
    Arc<std::sync::atomic::AtomicBool>,
) {
    let seen = Arc::new(Mutex::new(Vec::<CircuitState>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (log, done) = (Arc::clone(&seen), Arc::clone(&stop));
    tokio::spawn(async move {
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok(Some(circuit)) = store.circuit(&TenantId::default(), destination).await {
                let mut log = log.lock().expect("log");
                let changed = log.last().is_none_or(|last| {
                    (last.phase, last.detail.probes)
                        != (circuit.state.phase, circuit.state.detail.probes)
                });
                if changed {
                    log.push(circuit.state);
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    (seen, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_30_percent_at_random_is_never_opened_in_10_000_attempts() {
    const ATTEMPTS: u64 = 10_000;
    let receiver = RandomReceiver::start(30, 0x5eed_0030).await;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    // The default breaker: 50% of at least 20 attempts within 60 s.
    let destination = Destination::http("noisy", &receiver.url)
        .expect("URL")
        .policy(fast_retries(30))
        .circuit_breaker(CircuitBreaker::default());
    let relay = Relay::builder()
        .store(Arc::clone(&store))
        .allow_cidrs(loopback())
        .destination(destination)
        .route(EventRoute::new("all").to(["noisy"]))
        .source(relay_core::ingest::source::WebhookSource::new(
            relay_tests::pipeline::SOURCE,
            relay_core::ingest::signature::NoSignature,
        ))
        .build()
        .expect("relay");
    let p = Pipeline::run(relay);
    let (states, stop) = watch(Arc::clone(&store), "noisy");
    // About 1.43 attempts per event at 30% failures: 8,000 events make over 10,000 attempts.
    let started = Instant::now();
    for i in 0..8_000 {
        p.send(&format!("e{i}")).await;
    }
    let reached = eventually(Duration::from_secs(240), || async {
        (receiver.counts().0 >= ATTEMPTS).then_some(())
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (attempts, failures) = receiver.counts();
    assert!(
        reached.is_some(),
        "only {attempts} attempts in {:?}",
        started.elapsed()
    );
    let rate = failures as f64 / attempts as f64;
    assert!(
        (0.27..0.33).contains(&rate),
        "the receiver failed {rate:.3}"
    );
    let states = states.lock().expect("log").clone();
    let opened: Vec<_> = states
        .iter()
        .filter(|s| s.phase != CircuitPhase::Closed)
        .collect();
    assert!(opened.is_empty(), "the circuit opened: {opened:?}");
    let circuit = store
        .circuit(&TenantId::default(), "noisy")
        .await
        .expect("store")
        .expect("the counts were flushed");
    assert_eq!(circuit.state.phase, CircuitPhase::Closed);
    // Each stored version is one write of the circuit: the counts go in batches.
    println!(
        "{attempts} attempts, {failures} failed ({:.1}%), in {:?}; the circuit written {} times",
        rate * 100.0,
        started.elapsed(),
        circuit.version
    );
    assert!(
        circuit.version < attempts / 10,
        "{} circuit writes for {attempts} attempts",
        circuit.version
    );
    let tally = circuit
        .state
        .detail
        .window
        .tally(relay_core::model::time::Timestamp::now());
    assert!(
        tally.attempts >= 20 && (15..=45).contains(&tally.percent()),
        "the stored window: {tally:?}"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_failing_every_request_is_opened_at_the_minimum_count() {
    let receiver = Receiver::start([], Answer::Status(503)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())
            .expect("open sqlite"),
    );
    let destination = Destination::http("dead", &receiver.url)
        .expect("URL")
        .policy(fast_retries(100))
        .max_in_flight(1)
        .circuit_breaker(CircuitBreaker::default());
    let p = Pipeline::start(
        Relay::builder()
            .store(Arc::clone(&store))
            .allow_cidrs(loopback())
            .destination(destination)
            .route(EventRoute::new("all").to(["dead"])),
    );
    for i in 0..5 {
        p.send(&format!("e{i}")).await;
    }
    let opened = eventually(Duration::from_secs(30), || async {
        let circuit = store.circuit(&TenantId::default(), "dead").await.ok()??;
        (circuit.state.phase == CircuitPhase::Open).then_some(circuit.state)
    })
    .await
    .expect("the circuit opened");
    assert_eq!(
        (opened.failures, opened.detail.attempts, opened.detail.cause),
        (20, 20, Some(OpenCause::Rate)),
        "opened at the 20th failure"
    );
    assert_eq!(
        opened.why().as_deref(),
        Some("20 of 20 attempts failed within the window")
    );
    // Held: nothing more goes out while it is open (30 s).
    let sent = receiver.count();
    assert_eq!(sent, 20);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.count(), sent, "attempted through an open circuit");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_lets_its_probes_through_then_closes_or_opens_again() {
    use CircuitPhase::*;
    const OPEN_FOR: Duration = Duration::from_millis(600);
    // Failing until told otherwise; the first probes fail slowly, so half-open is seen.
    let receiver = Receiver::start([], Answer::Slow(503, 100)).await;
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let breaker = CircuitBreaker {
        min_attempts: 5,
        open_for: OPEN_FOR,
        probes: 3,
        ..CircuitBreaker::default()
    };
    let destination = Destination::http("flaky", &receiver.url)
        .expect("URL")
        .policy(fast_retries(1_000))
        .circuit_breaker(breaker);
    let (states, stop) = watch(Arc::clone(&store), "flaky");
    let p = Pipeline::start(
        Relay::builder()
            .store(Arc::clone(&store))
            .allow_cidrs(loopback())
            .destination(destination)
            .route(EventRoute::new("all").to(["flaky"])),
    );
    let mut events = Vec::new();
    for i in 0..8 {
        events.push(p.send(&format!("e{i}")).await);
    }
    // Opened, probed (the probes fail), opened again.
    let phase_count = |phase: CircuitPhase| {
        let states = Arc::clone(&states);
        move || {
            let states = states.lock().expect("log");
            states.iter().filter(|s| s.phase == phase).count()
        }
    };
    let opens = phase_count(Open);
    eventually(Duration::from_secs(20), || async {
        (opens() >= 2).then_some(())
    })
    .await
    .expect("opened, probed and opened again");
    // Now the receiver answers: the next probes close it.
    receiver.answer_from_now(Answer::Slow(200, 100));
    let closed_again = {
        let states = Arc::clone(&states);
        move || {
            let states = states.lock().expect("log");
            let reopened = states
                .iter()
                .rposition(|s| s.phase == Open)
                .unwrap_or(usize::MAX);
            states
                .iter()
                .skip(reopened)
                .any(|s| s.phase == Closed && reopened != usize::MAX)
        }
    };
    eventually(Duration::from_secs(20), || async {
        closed_again().then_some(())
    })
    .await
    .expect("closed after good probes");
    for event in &events {
        p.wait_for(*event, "flaky", "delivered", |d| {
            d.status == relay_core::model::event::DeliveryStatus::Delivered
        })
        .await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let states = states.lock().expect("log").clone();
    let phases: Vec<_> = states.iter().map(|s| s.phase).collect();
    let mut distinct = phases.clone();
    distinct.dedup();
    // (The closed states before the first opening may be overwritten before they are seen.)
    let first_open = distinct.iter().position(|p| *p == Open).expect("opened");
    assert_eq!(
        &distinct[first_open..first_open + 3],
        &[Open, HalfOpen, Open],
        "opened, probed, opened again: {phases:?}"
    );
    assert_eq!(
        &distinct[distinct.len() - 2..],
        &[HalfOpen, Closed],
        "{phases:?}"
    );
    let most_probes = states.iter().map(|s| s.detail.probes).max().unwrap_or(0);
    assert_eq!(most_probes, 3, "up to 3 probes at once: {states:?}");
    // Every opening after the first was a failed probe's.
    let reopenings: Vec<_> = states
        .iter()
        .filter(|s| s.phase == Open)
        .skip(1)
        .map(|s| s.detail.cause)
        .collect();
    assert!(
        !reopenings.is_empty() && reopenings.iter().all(|c| *c == Some(OpenCause::Probe)),
        "{reopenings:?}"
    );
    // The probes that closed it: three good answers in one half-open period.
    let last_half_open = states
        .iter()
        .rev()
        .find(|s| s.phase == HalfOpen)
        .expect("half-open before closing");
    assert!(last_half_open.detail.probes <= 3);
    p.stop().await;
}
