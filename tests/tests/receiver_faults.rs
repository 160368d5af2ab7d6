//! Receiver faults: one destination misbehaves (resets, trickles its answer, hangs past the
//! timeout, answers an endless body, answers bytes that are not HTTP, or floods 429 with a
//! day-long `Retry-After`) while a healthy destination gets the same events.
//!
//! For every fault the healthy destination must get every event exactly once (one failing
//! destination never causes a second delivery to a healthy one), and the run prints how fast it
//! got them next to a baseline run where both destinations are healthy. The misbehaving one has
//! no circuit breaker, so every one of its deliveries is attempted (the worst case).
//!
//! 200 events per run; `RELAY_LONG_FAULTS=1` sends 2,000.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use relay_core::Relay;
use relay_core::deliver::destination::Destination;
use relay_core::deliver::policy::RetryPolicy;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::EventId;
use relay_core::route::EventRoute;
use relay_tests::faults::{Fault, FaultyReceiver};
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Receiver, eventually, loopback};

/// The default `WorkerConfig::per_destination`. Without it a destination gets all 128 of the
/// worker's slots.
const SHARE: usize = 32;

/// The most connections a misbehaving receiver may see open at once, given the share: it sees a
/// timed-out attempt's connection closed only a little later (a trickling one at its next write,
/// 200 ms on), when the attempts that replaced it may already be connected; so up to twice the
/// share, against the 128 it gets without one.
fn most_open(fault: Fault) -> Option<usize> {
    match fault {
        Fault::Hang | Fault::Trickle => Some(2 * SHARE + 8),
        // An endless body's connections are seen closed only when a write fails, after the
        // kernel's buffers fill; the others do not hold attempts open.
        _ => None,
    }
}

fn events() -> usize {
    if std::env::var("RELAY_LONG_FAULTS").as_deref() == Ok("1") {
        2_000
    } else {
        200
    }
}

/// What one run measured.
struct Run {
    /// Seconds from the first ingest until the healthy destination had every event.
    healthy_secs: f64,
    /// Requests the healthy destination got.
    healthy_requests: usize,
    /// The events sent.
    events: Vec<EventId>,
}

impl Run {
    fn rate(&self, events: usize) -> f64 {
        events as f64 / self.healthy_secs
    }
}

fn pipeline(healthy: &Receiver, other_url: &str) -> Pipeline {
    let healthy = Destination::http("healthy", &healthy.url)
        .expect("URL")
        .policy(fast_retries(3));
    let other = Destination::http("other", other_url)
        .expect("URL")
        .policy(
            RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(50))
                .max_retry_after(Duration::from_millis(50)),
        )
        .timeout(Duration::from_secs(1))
        .without_circuit_breaker();
    Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(healthy)
            .destination(other)
            .route(EventRoute::new("all").to(["healthy", "other"])),
    )
}

/// Sends `events` events and waits (at most 120 s) until `healthy` has them all.
async fn measure(p: &Pipeline, healthy: &Receiver, events: usize, what: &str) -> Run {
    let started = Instant::now();
    let mut sent = Vec::with_capacity(events);
    for i in 0..events {
        sent.push(p.send(&format!("{what}-{i}")).await);
    }
    let done = eventually(Duration::from_secs(120), || {
        let n = healthy.count();
        async move { (n >= events).then_some(()) }
    })
    .await;
    let healthy_secs = started.elapsed().as_secs_f64();
    assert!(
        done.is_some(),
        "{what}: the healthy destination got {} of {events} in 120 s",
        healthy.count()
    );
    Run {
        healthy_secs,
        healthy_requests: healthy.count(),
        events: sent,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misbehaving_destination_does_not_slow_a_healthy_one() {
    let events = events();
    let baseline = {
        let healthy = Receiver::ok().await;
        let twin = Receiver::ok().await;
        let p = pipeline(&healthy, &twin.url);
        let run = measure(&p, &healthy, events, "baseline").await;
        p.stop().await;
        run
    };
    println!(
        "receiver faults: {events} events; baseline (both healthy): {:.1} s, {:.0} events/s",
        baseline.healthy_secs,
        baseline.rate(events)
    );
    for fault in Fault::ALL {
        let healthy = Receiver::ok().await;
        let bad = FaultyReceiver::start(fault).await;
        let p = pipeline(&healthy, &bad.url);
        let run = measure(&p, &healthy, events, fault.name()).await;
        // Let the misbehaving destination's attempts run a while, then count.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let healthy_statuses = eventually(Duration::from_secs(30), || {
            let events = &run.events;
            let p = &p;
            async move {
                let counts = statuses(p, events, "healthy").await;
                (counts.get("delivered") == Some(&events.len())).then_some(counts)
            }
        })
        .await
        .unwrap_or_else(|| panic!("{}: not all recorded as delivered", fault.name()));
        let bad_statuses = statuses(&p, &run.events, "other").await;
        println!(
            "receiver faults: {:<26} healthy got {events} in {:.1} s ({:.0} events/s, {:.0}% of \
             baseline); misbehaving one: {} connections ({} open at most), {} requests, deliveries {}",
            fault.name(),
            run.healthy_secs,
            run.rate(events),
            100.0 * run.rate(events) / baseline.rate(events),
            bad.connections(),
            bad.most_open(),
            bad.requests(),
            show(&bad_statuses),
        );
        assert!(
            bad.requests() > 0,
            "{}: the fault was never exercised",
            fault.name()
        );
        assert_eq!(
            healthy.count(),
            events,
            "{}: each event reaches the healthy destination exactly once",
            fault.name()
        );
        assert_eq!(run.healthy_requests, events);
        assert_eq!(healthy_statuses.len(), 1, "{}", show(&healthy_statuses));
        // The worker's per-destination share (32 of its 128 slots) holds: the rest stay free
        // for the healthy destination however long the misbehaving one keeps its attempts.
        assert!(
            most_open(fault).is_none_or(|most| bad.most_open() <= most),
            "{}: {} attempts at once to the misbehaving destination",
            fault.name(),
            bad.most_open()
        );
        assert_eq!(
            bad_statuses.get("delivered"),
            None,
            "{}: nothing is delivered to a misbehaving destination",
            fault.name()
        );
        p.stop().await;
    }
}

#[tokio::test]
async fn an_endless_response_body_is_read_no_further_than_the_excerpt() {
    let bad = FaultyReceiver::start(Fault::HugeBody).await;
    let healthy = Receiver::ok().await;
    let p = pipeline(&healthy, &bad.url);
    let event = p.send("huge").await;
    let delivery = p
        .wait_for(event, "other", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    let attempts = p.attempts(&delivery).await;
    assert_eq!(attempts.len(), 3);
    for attempt in &attempts {
        // The status was read and the body dropped after the excerpt: no timeout.
        assert_eq!(attempt.status_code, Some(503), "{attempt:?}");
        let excerpt = attempt.response_excerpt.as_deref().unwrap_or_default();
        assert!(excerpt.len() <= relay_core::deliver::RESPONSE_EXCERPT_BYTES);
        assert!(excerpt.starts_with("xxxx"), "{excerpt:.20}");
    }
    p.stop().await;
}

#[tokio::test]
async fn a_day_long_retry_after_is_cut_to_max_retry_after() {
    let bad = FaultyReceiver::start(Fault::TooManyRequests).await;
    let healthy = Receiver::ok().await;
    let p = pipeline(&healthy, &bad.url);
    let event = p.send("429").await;
    // max_retry_after is 50 ms: all 3 attempts happen quickly despite `Retry-After: 86400`.
    let delivery = p
        .wait_for(event, "other", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    let attempts = p.attempts(&delivery).await;
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a.status_code == Some(429)));
    assert_eq!(bad.requests(), 3);
    p.stop().await;
}

/// The deliveries of `events` to `destination` by status, e.g. `pending=120 dead_lettered=80`.
async fn statuses(p: &Pipeline, events: &[EventId], destination: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events {
        let status = p.delivery(*event, destination).await.status;
        *counts
            .entry(format!("{status:?}").to_lowercase())
            .or_insert(0) += 1;
    }
    counts
}

fn show(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
