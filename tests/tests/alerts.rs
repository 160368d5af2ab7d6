//! Operational alerts end to end: each alert reaches the alert destination as a signed
//! Standard Webhooks delivery, fires once per window however often its condition holds
//! within it, and fires again in the next window.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use relay_core::Relay;
use relay_core::control::alert::AlertConfig;
use relay_core::deliver::WorkerConfig;
use relay_core::deliver::circuit::CircuitBreaker;
use relay_core::deliver::destination::Destination;
use relay_core::ingest::signature::{GitHub, NoSignature};
use relay_core::ingest::source::WebhookSource;
use relay_core::ingest::{IngestOutcome, IngestRequest};
use relay_core::model::event::DeliveryStatus;
use relay_core::route::EventRoute;
use relay_tests::pipeline::{Pipeline, SOURCE, fast_retries};
use relay_tests::{Answer, Receiver, eventually, loopback};
use serde_json::Value;

const ALERT_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn ops(receiver: &Receiver) -> Destination {
    Destination::http("ops", &receiver.url)
        .expect("URL")
        .signing_secret(ALERT_SECRET)
        .policy(fast_retries(5))
}

fn app(receiver: &Receiver) -> Destination {
    Destination::http("app", &receiver.url)
        .expect("URL")
        .policy(fast_retries(2))
        .without_circuit_breaker()
}

/// The alerts the ops receiver got, each checked to be a signed first attempt.
fn alerts(ops: &Receiver) -> Vec<Value> {
    ops.received()
        .iter()
        .map(|r| {
            let id = r.headers["webhook-id"].to_str().expect("webhook-id");
            r.assert_signed_delivery(id, 1, ALERT_SECRET, &r.body);
            serde_json::from_slice(&r.body).expect("JSON alert")
        })
        .collect()
}

async fn wait_for_alerts(ops: &Receiver, count: usize) -> Vec<Value> {
    eventually(Duration::from_secs(10), || async {
        (ops.count() >= count).then_some(())
    })
    .await
    .unwrap_or_else(|| panic!("{} alerts of {count}", ops.count()));
    // Nothing more arrives for a while.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = alerts(ops);
    assert_eq!(got.len(), count, "{got:#?}");
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_over_the_threshold_alert_once_per_window() {
    let ops_receiver = Receiver::ok().await;
    let rejecting = Receiver::start([], Answer::Status(422)).await;
    let window = Duration::from_millis(1_500);
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(ops(&ops_receiver))
            .destination(app(&rejecting))
            .route(EventRoute::new("all").to(["app"]))
            .alerts(AlertConfig::new("ops").window(window).dead_letters(3)),
    );
    let started = std::time::Instant::now();
    for i in 0..7 {
        let event = p.send(&format!("a{i}")).await;
        p.wait_for(event, "app", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    }
    assert!(started.elapsed() < window, "all within one window");
    let first = wait_for_alerts(&ops_receiver, 1).await;
    assert_eq!(first[0]["type"], "relay.alert.dead_letters");
    assert_eq!(first[0]["alert"], "dead_letters");
    assert_eq!(first[0]["destination"], "app");
    assert_eq!(first[0]["threshold"], 3);
    assert_eq!(first[0]["count"], 3);
    assert_eq!(first[0]["window_secs"], 1);

    // The next window: three more dead letters alert again.
    tokio::time::sleep(window).await;
    for i in 0..3 {
        let event = p.send(&format!("b{i}")).await;
        p.wait_for(event, "app", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    }
    let both = wait_for_alerts(&ops_receiver, 2).await;
    assert_eq!(both[1]["alert"], "dead_letters");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_disables_the_destination_and_alerts_once() {
    let ops_receiver = Receiver::ok().await;
    let gone = Receiver::start([], Answer::Status(410)).await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(ops(&ops_receiver))
            .destination(app(&gone))
            .route(EventRoute::new("all").to(["app"]))
            .alerts(AlertConfig::new("ops")),
    );
    // Several 410s at once (attempted concurrently) still make one alert.
    for i in 0..3 {
        p.send(&format!("g{i}")).await;
    }
    let got = wait_for_alerts(&ops_receiver, 1).await;
    assert_eq!(got[0]["alert"], "destination_disabled");
    assert_eq!(got[0]["destination"], "app");
    assert_eq!(got[0]["reason"], "answered 410 Gone");
    assert!(p.relay.is_destination_disabled("app"));
    let sent = gone.count();
    p.send("later").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        gone.count(),
        sent,
        "nothing more is sent to a disabled destination"
    );
    assert_eq!(ops_receiver.count(), 1);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_circuit_that_keeps_opening_disables_its_destination_and_alerts() {
    let ops_receiver = Receiver::ok().await;
    let failing = Receiver::start([], Answer::Status(503)).await;
    let p = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .destination(ops(&ops_receiver))
            .destination(
                Destination::http("app", &failing.url)
                    .expect("URL")
                    .policy(fast_retries(50))
                    .circuit_breaker(CircuitBreaker {
                        open_for: Duration::from_millis(100),
                        ..CircuitBreaker::streak(1)
                    }),
            )
            .route(EventRoute::new("all").to(["app"]))
            .alerts(AlertConfig::new("ops").breaker_opens(3)),
    );
    p.send("x").await;
    let got = wait_for_alerts(&ops_receiver, 1).await;
    assert_eq!(got[0]["alert"], "destination_disabled");
    assert_eq!(got[0]["reason"], "circuit opened 3 times within the window");
    assert!(p.relay.is_destination_disabled("app"));
    let sent = failing.count();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(failing.count(), sent, "a disabled destination gets nothing");
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_failures_over_the_threshold_alert_once_per_window() {
    let ops_receiver = Receiver::ok().await;
    let relay = Relay::builder()
        .allow_cidrs(loopback())
        .source(WebhookSource::new("github", GitHub).secret("It's a Secret to Everybody"))
        .destination(ops(&ops_receiver))
        .alerts(
            AlertConfig::new("ops")
                .window(Duration::from_secs(60))
                .signature_failures(5),
        )
        .build()
        .expect("relay");
    let p = Pipeline::run(relay);
    for i in 0..12 {
        let mut headers = HeaderMap::new();
        headers.insert("x-hub-signature-256", "sha256=00".parse().expect("value"));
        headers.insert("x-github-event", "push".parse().expect("value"));
        let body = Bytes::from(format!(r#"{{"n":{i}}}"#));
        let outcome = p
            .relay
            .ingest(IngestRequest::new("github", headers, body))
            .await;
        assert_eq!(outcome, IngestOutcome::InvalidSignature);
    }
    let got = wait_for_alerts(&ops_receiver, 1).await;
    assert_eq!(got[0]["alert"], "signature_failures");
    assert_eq!(got[0]["source"], "github");
    assert_eq!(got[0]["count"], 5);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sustained_queue_lag_alerts_once() {
    let ops_receiver = Receiver::ok().await;
    let slow = Receiver::start([], Answer::Slow(200, 100)).await;
    let relay = Relay::builder()
        .allow_cidrs(loopback())
        .source(WebhookSource::new(SOURCE, NoSignature))
        .destination(ops(&ops_receiver))
        .destination(app(&slow))
        .route(EventRoute::new("all").to(["app"]))
        .alerts(AlertConfig::new("ops").queue_lag(Duration::from_millis(300)))
        .build()
        .expect("relay");
    // One attempt at a time: 25 events of 100 ms each make a queue that lags for seconds.
    let worker = relay.spawn_worker(
        WorkerConfig::default()
            .concurrency(1)
            .batch(1)
            .poll_interval(Duration::from_millis(20)),
    );
    for i in 0..25 {
        let mut headers = HeaderMap::new();
        headers.insert("idempotency-key", format!("q{i}").parse().expect("value"));
        let outcome = relay
            .ingest(IngestRequest::new(
                SOURCE,
                headers,
                Bytes::from_static(b"{}"),
            ))
            .await;
        assert!(
            matches!(outcome, IngestOutcome::Accepted { .. }),
            "{outcome:?}"
        );
    }
    let got = wait_for_alerts(&ops_receiver, 1).await;
    assert_eq!(got[0]["alert"], "queue_lag");
    assert_eq!(got[0]["threshold_ms"], 300);
    assert!(got[0]["lag_ms"].as_u64().expect("lag") >= 300);
    eventually(Duration::from_secs(10), || async {
        (slow.count() == 25).then_some(())
    })
    .await
    .expect("the backlog drains");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(ops_receiver.count(), 1, "once, however long the lag lasted");
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_store_send_an_alert_once_per_window() {
    let ops_receiver = Receiver::ok().await;
    let store: std::sync::Arc<dyn relay_core::store::Store> =
        std::sync::Arc::new(relay_core::store::memory::MemoryStore::new());
    let node = || {
        Relay::builder()
            .store(std::sync::Arc::clone(&store))
            .allow_cidrs(loopback())
            .source(WebhookSource::new("github", GitHub).secret("It's a Secret to Everybody"))
            .destination(ops(&ops_receiver))
            .alerts(AlertConfig::new("ops").signature_failures(2))
            .build()
            .expect("relay")
    };
    let nodes = [Pipeline::run(node()), Pipeline::run(node())];
    for p in &nodes {
        for _ in 0..2 {
            let mut headers = HeaderMap::new();
            headers.insert("x-hub-signature-256", "sha256=00".parse().expect("value"));
            let outcome = p
                .relay
                .ingest(IngestRequest::new(
                    "github",
                    headers,
                    Bytes::from_static(b"{}"),
                ))
                .await;
            assert_eq!(outcome, IngestOutcome::InvalidSignature);
        }
    }
    let got = wait_for_alerts(&ops_receiver, 1).await;
    assert_eq!(got[0]["alert"], "signature_failures");
    for p in nodes {
        p.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_connected_nowhere_alerts_once() {
    let ops_receiver = Receiver::ok().await;
    let relay = Relay::builder()
        .allow_cidrs(loopback())
        .source(WebhookSource::new(SOURCE, NoSignature))
        .destination(ops(&ops_receiver))
        .destination(Destination::agent(
            "private",
            "dc1",
            vec!["http://127.0.0.1:3000/".to_owned()],
        ))
        .route(EventRoute::new("all").to(["private"]))
        .alerts(AlertConfig::new("ops").agent_offline(Duration::from_millis(200)))
        .build()
        .expect("relay");
    // The worker looks at the agents as often as it counts the queue.
    let worker = relay.spawn_worker(
        WorkerConfig::default()
            .poll_interval(Duration::from_millis(20))
            .queue_depth_interval(Duration::from_millis(50)),
    );
    let outcome = relay
        .ingest(IngestRequest::new(
            SOURCE,
            HeaderMap::new(),
            Bytes::from_static(b"{}"),
        ))
        .await;
    assert!(
        matches!(outcome, IngestOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    let got = wait_for_alerts(&ops_receiver, 1).await;
    assert_eq!(got[0]["alert"], "agent_offline");
    assert_eq!(got[0]["agent"], "dc1");
    assert!(got[0]["offline_secs"].is_u64(), "{:?}", got[0]);
    // The delivery waits for the agent: not attempted, not dead-lettered.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(ops_receiver.count(), 1, "once per window");
    let depth = relay.store().queue_depth().await.expect("depth");
    assert_eq!(depth, 1, "the agent's delivery is still queued");
    worker.shutdown().await;
}
