//! Per-destination throttles end to end: `max_per_second` paces one destination while another
//! runs unthrottled, deferrals are not attempts, and `max_in_flight = 1` is serial even with
//! several workers in the process.

use std::time::{Duration, Instant};

use relay_core::Relay;
use relay_core::deliver::WorkerConfig;
use relay_core::deliver::destination::Destination;
use relay_core::model::event::DeliveryStatus;
use relay_core::route::EventRoute;
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, eventually, loopback};

fn destination(name: &str, receiver: &Receiver) -> Destination {
    Destination::http(name, &receiver.url)
        .expect("URL")
        .policy(fast_retries(3))
}

/// The most arrivals in any window of `width` among `times`.
fn busiest(times: &[Instant], width: Duration) -> usize {
    let mut most = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= width {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_per_second_paces_one_destination_while_another_runs_free() {
    const EVENTS: usize = 320;
    let throttled = Receiver::ok().await;
    let free = Receiver::ok().await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination("throttled", &throttled).max_per_second(50))
            .destination(destination("free", &free))
            .route(EventRoute::new("all").to(["throttled", "free"])),
    );
    let started = Instant::now();
    let mut events = Vec::new();
    for i in 0..EVENTS {
        events.push(p.send(&format!("e{i}")).await);
    }
    let free_done = eventually(Duration::from_secs(30), || async {
        (free.count() == EVENTS).then(Instant::now)
    })
    .await
    .expect("the free destination got everything");
    assert!(
        free_done - started < Duration::from_secs(4),
        "the unthrottled destination took {:?}",
        free_done - started
    );
    assert!(
        throttled.count() < EVENTS / 2,
        "the throttled one is still going when the free one is done ({})",
        throttled.count()
    );
    eventually(Duration::from_secs(30), || async {
        (throttled.count() == EVENTS).then_some(())
    })
    .await
    .expect("the throttled destination got everything");

    let times: Vec<Instant> = throttled.received().iter().map(|r| r.at).collect();
    let first = times[0];
    let in_five = times
        .iter()
        .filter(|t| **t - first < Duration::from_secs(5))
        .count();
    // 50/s over 5 s is 250 (251 when the first and the last fall on the window's edges),
    // not more: the bucket holds one token. Not much less either: the workers are woken
    // when each deferral is due (a loaded machine may lag a little).
    assert!((200..=253).contains(&in_five), "{in_five} in the first 5 s");
    // Any one second: the rate, and jitter between admission and arrival at the receiver.
    let peak = busiest(&times, Duration::from_secs(1));
    assert!(peak <= 52, "{peak} in the busiest second");
    for event in &events {
        let d = p.delivery(*event, "throttled").await;
        assert_eq!(d.status, DeliveryStatus::Delivered);
        assert_eq!(d.attempts, 1, "a deferral is not an attempt");
    }
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_in_flight_one_is_serial_across_workers() {
    let receiver = Receiver::start([], Answer::Slow(200, 25)).await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination("serial", &receiver).max_in_flight(1))
            .route(EventRoute::new("all").to(["serial"])),
    );
    let second_worker = p
        .relay
        .spawn_worker(WorkerConfig::default().poll_interval(Duration::from_millis(5)));
    let mut events = Vec::new();
    for i in 0..30 {
        events.push(p.send(&format!("s{i}")).await);
    }
    for event in &events {
        let d = p
            .wait_for(*event, "serial", "delivered", |d| {
                d.status == DeliveryStatus::Delivered
            })
            .await;
        assert_eq!(d.attempts, 1, "waiting for the slot is not an attempt");
    }
    assert_eq!(receiver.count(), 30);
    assert_eq!(receiver.max_in_flight(), 1, "two requests overlapped");
    second_worker.shutdown().await;
    p.stop().await;
}
