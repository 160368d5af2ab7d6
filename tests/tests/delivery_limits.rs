//! Throttles end to end: a route over its rate limit waits while another route's deliveries
//! of the same events go on; a destination's in-flight cap holds; connections are reused.

use std::collections::HashSet;
use std::time::Duration;

use relay_core::Relay;
use relay_core::deliver::destination::Destination;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::time::Timestamp;
use relay_core::route::EventRoute;
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::{Answer, Receiver, loopback};

fn destination(name: &str, receiver: &Receiver) -> Destination {
    Destination::http(name, &receiver.url)
        .expect("URL")
        .policy(fast_retries(3))
}

#[tokio::test]
async fn a_route_over_its_limit_waits_while_another_route_delivers() {
    let limited = Receiver::ok().await;
    let free = Receiver::ok().await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination("limited", &limited))
            .destination(destination("free", &free))
            .route(EventRoute::new("slow-lane").to(["limited"]).rate_limit(2))
            .route(EventRoute::new("fast-lane").to(["free"])),
    );
    let mut events = Vec::new();
    for i in 0..5 {
        events.push(p.send(&format!("e{i}")).await);
    }
    for event in &events {
        p.wait_for(*event, "free", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(free.count(), 5);
    assert_eq!(limited.count(), 2, "the route's limit is 2 per minute");
    let mut deferred = 0;
    for event in &events {
        let d = p.delivery(*event, "limited").await;
        match d.status {
            DeliveryStatus::Delivered => assert_eq!(d.attempts, 1),
            DeliveryStatus::Pending => {
                deferred += 1;
                assert_eq!(d.attempts, 0, "a deferral is not an attempt");
                let wait = d.next_attempt_at.since(Timestamp::now());
                assert!(wait > Duration::from_secs(50), "due again in {wait:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(deferred, 3);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_flight_cap_holds_and_everything_is_delivered() {
    let receiver = Receiver::start([], Answer::Slow(200, 150)).await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination("capped", &receiver).max_in_flight(2))
            .route(EventRoute::new("all").to(["capped"])),
    );
    let mut events = Vec::new();
    for i in 0..8 {
        events.push(p.send(&format!("c{i}")).await);
    }
    for event in &events {
        let d = p
            .wait_for(*event, "capped", "delivered", |d| {
                d.status == DeliveryStatus::Delivered
            })
            .await;
        assert_eq!(d.attempts, 1, "waiting for a slot is not an attempt");
    }
    assert_eq!(receiver.count(), 8);
    assert_eq!(receiver.max_in_flight(), 2);
    p.stop().await;
}

#[tokio::test]
async fn sequential_deliveries_reuse_one_keep_alive_connection() {
    let receiver = Receiver::ok().await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination("pooled", &receiver))
            .route(EventRoute::new("all").to(["pooled"])),
    );
    for i in 0..5 {
        let event = p.send(&format!("k{i}")).await;
        p.wait_for(event, "pooled", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    }
    let peers: HashSet<_> = receiver.received().iter().map(|r| r.peer).collect();
    assert_eq!(receiver.count(), 5);
    assert_eq!(peers.len(), 1, "one connection for all: {peers:?}");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_in_flight_cap_above_the_worker_share_is_honoured() {
    // The worker gives a destination without a cap at most 32 slots; one that asks for 40
    // gets 40. The receiver holds every request 2 s, so the first 40 are in flight together.
    let receiver = Receiver::start([], Answer::Slow(200, 2_000)).await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(destination("wide", &receiver).max_in_flight(40))
            .route(EventRoute::new("all").to(["wide"])),
    );
    let mut events = Vec::new();
    for i in 0..50 {
        events.push(p.send(&format!("w{i}")).await);
    }
    for event in &events {
        p.wait_for(*event, "wide", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    }
    assert_eq!(receiver.count(), 50);
    assert_eq!(receiver.max_in_flight(), 40);
    p.stop().await;
}
