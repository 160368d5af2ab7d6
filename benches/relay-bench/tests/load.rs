//! `relay-bench load` (the binary) against a real gateway in this process, on loopback: an
//! axum app with `RelayLayer` over a `Relay` with a GitHub, a Stripe, a Standard Webhooks and
//! an unsigned source, each routed to its own path on a loopback receiver, the delivery
//! worker running. Every request the load sent is accounted for (answered by status, or
//! without an answer), every accepted event is delivered once, and a wrong secret shows up as
//! 401s.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::deliver::destination::Destination;
use relay_core::deliver::guard::IpNet;
use relay_core::deliver::{WorkerConfig, WorkerHandle};
use relay_core::ingest::signature::{GitHub, NoSignature, StandardWebhooks, Stripe};
use relay_core::ingest::source::WebhookSource;
use relay_core::route::EventRoute;
use serde_json::Value;

const GITHUB: &str = "It's a Secret to Everybody";
const STRIPE: &str = "whsec_stripe_load_test";
const STANDARD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Deliveries the receiver got, by the path they were sent to (the source's name).
type Delivered = Arc<Mutex<BTreeMap<String, u64>>>;

struct Gateway {
    addr: SocketAddr,
    delivered: Delivered,
    worker: WorkerHandle,
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn receive(State(delivered): State<Delivered>, Path(source): Path<String>) {
    *delivered.lock().expect("lock").entry(source).or_insert(0) += 1;
}

async fn start() -> Gateway {
    let delivered = Delivered::default();
    let receiver = Router::new()
        .route("/{source}", post(receive))
        .with_state(Arc::clone(&delivered));
    let receiver = serve(receiver).await;
    let mut builder = Relay::builder()
        .allow_cidrs([IpNet::from(IpAddr::from([127, 0, 0, 1]))])
        .source(WebhookSource::new("github", GitHub).secret(GITHUB))
        .source(WebhookSource::new("stripe", Stripe::new()).secret(STRIPE))
        .source(WebhookSource::new("standard", StandardWebhooks::new()).secret(STANDARD))
        .source(WebhookSource::new("plain", NoSignature));
    for name in ["github", "stripe", "standard", "plain"] {
        let destination =
            Destination::http(name, &format!("http://{receiver}/{name}")).expect("destination");
        builder = builder
            .destination(destination.without_circuit_breaker())
            .route(EventRoute::new(name).source(name).to([name]));
    }
    let relay = builder.build().expect("relay");
    let worker = relay.spawn_worker(WorkerConfig::default());
    let app = Router::new()
        .route("/", get(|| async { "the app" }))
        .layer(RelayLayer::new(relay));
    Gateway {
        addr: serve(app).await,
        delivered,
        worker,
    }
}

/// Runs `relay-bench load --url GATEWAY ARGS` to the end; its standard output.
async fn load(gateway: &Gateway, args: &[&str]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relay-bench"));
    command
        .args(["load", "--url", &format!("http://{}", gateway.addr)])
        .args(args)
        .env_remove("RELAY_LOAD_SECRET");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run relay-bench");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "relay-bench load {args:?} failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

async fn load_json(gateway: &Gateway, args: &[&str]) -> Value {
    let stdout = load(gateway, &[args, &["--json"][..]].concat()).await;
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn sum(counts: &Value) -> u64 {
    (counts.as_object().into_iter().flatten())
        .map(|(_, n)| n.as_u64().expect("a count"))
        .sum()
}

/// Every request sent is answered or counted as unanswered, and all were accepted.
fn all_accepted(report: &Value) -> u64 {
    let sent = report["sent"].as_u64().expect("sent");
    assert!(sent > 0, "{report}");
    assert_eq!(
        sum(&report["statuses"]) + sum(&report["errors"]),
        sent,
        "{report}"
    );
    assert_eq!(report["unaccounted"], 0, "{report}");
    assert_eq!(report["accepted"], sent, "{report}");
    assert_eq!(report["non_2xx"], serde_json::json!({}), "{report}");
    assert!(report["latency_ms"]["p999"].as_f64().is_some(), "{report}");
    sent
}

/// Waits (at most 60 s) until the receiver has `expected` deliveries for `source`.
async fn delivered(gateway: &Gateway, source: &str, expected: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let count = || gateway.delivered.lock().expect("lock").get(source).copied();
    while count().unwrap_or(0) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(count().unwrap_or(0), expected, "deliveries of {source}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_sent_is_counted_and_every_accepted_one_delivered() {
    let gateway = start().await;
    let closed = ["--connections", "4", "--duration", "2"];
    let runs: [(&str, &str, &str, &[&str]); 4] = [
        ("github", "github", GITHUB, &closed),
        (
            "stripe",
            "stripe",
            STRIPE,
            &["--rate", "100", "--duration", "2"],
        ),
        ("standard", "standard", STANDARD, &closed),
        ("plain", "none", "", &["--rate", "50", "--duration", "1"]),
    ];
    for (source, scheme, secret, mode) in runs {
        let mut args = vec!["--source", source, "--scheme", scheme];
        if !secret.is_empty() {
            args.extend(["--secret", secret]);
        }
        let report = load_json(&gateway, &[&args[..], mode].concat()).await;
        let sent = all_accepted(&report);
        if let Some(rate) = mode.iter().position(|a| *a == "--rate") {
            let rate: u64 = mode[rate + 1].parse().expect("rate");
            assert_eq!(sent, rate * mode[3].parse::<u64>().expect("s"), "{report}");
        }
        delivered(&gateway, source, sent).await;
    }
    gateway.worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_shows_up_as_401s() {
    let gateway = start().await;
    let wrong = ["--source", "github", "--secret", "not the secret"];
    let closed = ["--connections", "2", "--duration", "1"];
    let report = load_json(&gateway, &[&wrong[..], &closed[..]].concat()).await;
    let sent = report["sent"].as_u64().expect("sent");
    assert!(sent > 0, "{report}");
    assert_eq!(report["accepted"], 0, "{report}");
    assert_eq!(
        report["non_2xx"],
        serde_json::json!({"401": sent}),
        "{report}"
    );
    assert_eq!(sum(&report["errors"]), 0, "{report}");
    let open = ["--rate", "20", "--duration", "1"];
    let text = load(&gateway, &[&wrong[..], &open[..]].concat()).await;
    assert!(
        text.contains("sent 20, 2xx 0, non-2xx 20, no answer 0"),
        "{text}"
    );
    assert!(
        text.contains("non-2xx answers by status:\n  401: 20\n"),
        "{text}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gateway.delivered.lock().expect("lock").get("github"), None);
    gateway.worker.shutdown().await;
}
