//! Explicit retry schedules end to end: the attempts of a delivery that keeps failing arrive
//! after each scheduled delay within its ±20% jitter, then it is dead-lettered; a
//! `give_up_after` deadline ends the retries early.

use std::time::{Duration, Instant};

use relay_core::Relay;
use relay_core::deliver::destination::{Destination, RetrySettings};
use relay_core::deliver::policy::RetryPolicy;
use relay_core::model::event::DeliveryStatus;
use relay_core::route::EventRoute;
use relay_tests::pipeline::Pipeline;
use relay_tests::{Answer, Receiver, loopback};

fn failing_pipeline(receiver: &Receiver, policy: RetryPolicy) -> Pipeline {
    Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(
                Destination::http("flaky", &receiver.url)
                    .expect("URL")
                    .policy(policy)
                    .without_circuit_breaker(),
            )
            .route(EventRoute::new("all").to(["flaky"])),
    )
}

/// The arrival times of each delivery's attempts, by `webhook-id`, in order.
fn attempts_by_delivery(receiver: &Receiver) -> Vec<Vec<Instant>> {
    let mut by_id: Vec<(String, Vec<Instant>)> = Vec::new();
    for r in receiver.received() {
        let id = r.headers["webhook-id"].to_str().expect("id").to_owned();
        match by_id.iter_mut().find(|(known, _)| *known == id) {
            Some((_, times)) => times.push(r.at),
            None => by_id.push((id, vec![r.at])),
        }
    }
    by_id.into_iter().map(|(_, times)| times).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_retry_waits_its_scheduled_delay_within_the_jitter() {
    let delays = [
        Duration::from_millis(150),
        Duration::from_millis(400),
        Duration::from_millis(800),
    ];
    let receiver = Receiver::start([], Answer::Status(503)).await;
    let p = failing_pipeline(&receiver, RetryPolicy::schedule(delays));
    let mut events = Vec::new();
    for i in 0..4 {
        events.push(p.send(&format!("s{i}")).await);
    }
    for event in &events {
        let d = p
            .wait_for(*event, "flaky", "dead-lettered", |d| {
                d.status == DeliveryStatus::DeadLettered
            })
            .await;
        assert_eq!(d.attempts, 4, "one attempt, then one per scheduled delay");
    }
    let deliveries = attempts_by_delivery(&receiver);
    assert_eq!(deliveries.len(), events.len());
    let mut gaps_seen = Vec::new();
    for times in deliveries {
        assert_eq!(times.len(), 4);
        for (pair, delay) in times.windows(2).zip(delays) {
            let gap = pair[1] - pair[0];
            // ±20% of the delay, plus the worker's 20 ms poll and the request itself.
            let (low, high) = (
                delay.mul_f64(0.8),
                delay.mul_f64(1.2) + Duration::from_millis(100),
            );
            assert!(
                gap >= low && gap <= high,
                "gap {gap:?} for a {delay:?} delay"
            );
            gaps_seen.push((delay, gap));
        }
    }
    // The jitter is there: the same delay does not always give the same gap.
    let long: Vec<Duration> = gaps_seen
        .iter()
        .filter(|(delay, _)| *delay == delays[2])
        .map(|(_, gap)| *gap)
        .collect();
    let spread = long
        .iter()
        .max()
        .expect("gaps")
        .saturating_sub(*long.iter().min().expect("gaps"));
    assert!(spread > Duration::from_millis(10), "gaps {long:?}");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn give_up_after_ends_the_retries_at_the_deadline() {
    let settings = RetrySettings {
        schedule: Some(vec!["100ms".into()]),
        max_attempts: Some(1_000),
        give_up_after: Some("700ms".into()),
        ..RetrySettings::default()
    };
    let receiver = Receiver::start([], Answer::Status(500)).await;
    let p = failing_pipeline(&receiver, settings.policy().expect("valid settings"));
    let sent = Instant::now();
    let event = p.send("deadline").await;
    let d = p
        .wait_for(event, "flaky", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    let took = sent.elapsed();
    assert!(
        took < Duration::from_millis(1_200),
        "gave up after {took:?}"
    );
    // Attempts about 100 ms (±20%) apart within 700 ms: 5 to 9 of them.
    assert!((5..=9).contains(&d.attempts), "{} attempts", d.attempts);
    let times: Vec<Instant> = receiver.received().iter().map(|r| r.at).collect();
    let last = *times.last().expect("attempts");
    assert!(last - times[0] <= Duration::from_millis(750));
    p.stop().await;
}
