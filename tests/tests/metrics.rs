//! `GET /metrics` and request ids end to end: a real axum app with the ingest layer and the
//! metrics router, real loopback receivers, real HTTP.
//!
//! The metrics recorder is global to this test binary, so every test uses its own source and
//! destination names and asserts the values of its own series only.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::deliver::WorkerConfig;
use relay_core::deliver::circuit::CircuitBreaker;
use relay_core::deliver::destination::Destination;
use relay_core::ingest::signature::{GitHub, NoSignature};
use relay_core::ingest::source::WebhookSource;
use relay_core::model::secret::Secret;
use relay_core::route::EventRoute;
use relay_tests::pipeline::fast_retries;
use relay_tests::{Answer, Receiver, eventually, github_signature, loopback, serve};

const SECRET: &str = "metrics-secret";
const WAIT: Duration = Duration::from_secs(20);

fn worker_config() -> WorkerConfig {
    WorkerConfig::default()
        .poll_interval(Duration::from_millis(20))
        .queue_depth_interval(Duration::from_millis(50))
}

/// Serves `relay` behind the ingest layer, with `GET /metrics` (behind `token` if given).
async fn gateway(relay: Relay, token: Option<&str>) -> SocketAddr {
    let metrics = relay_axum::metrics::routes(token.map(Secret::new)).expect("recorder");
    serve(Router::new().merge(metrics).layer(RelayLayer::new(relay))).await
}

async fn scrape(addr: SocketAddr) -> String {
    let response = relay_core::tls::client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    response.text().await.expect("body")
}

/// The value of one series (`name{labels}` exactly as rendered), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().expect("a number"))
}

async fn push(addr: SocketAddr, path: &str, delivery: &str, signature: &str) -> reqwest::Response {
    let body = br#"{"ref":"refs/heads/main"}"#.to_vec();
    relay_core::tls::client()
        .post(format!("http://{addr}{path}"))
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header("x-hub-signature-256", signature)
        .body(body)
        .send()
        .await
        .expect("POST")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_histograms_and_gauges_follow_ingest_and_delivery() {
    let ok = Receiver::ok().await;
    let refusing = Receiver::start([], Answer::Status(400)).await;
    let down = Receiver::start([], Answer::Status(500)).await;
    let relay = Relay::builder()
        .allow_cidrs(loopback())
        .source(WebhookSource::new("m1-github", GitHub).secret(SECRET))
        .destination(Destination::http("m1-ok", &ok.url).expect("URL"))
        .destination(Destination::http("m1-refusing", &refusing.url).expect("URL"))
        .destination(
            Destination::http("m1-down", &down.url)
                .expect("URL")
                .policy(fast_retries(50))
                .circuit_breaker(CircuitBreaker {
                    open_for: Duration::from_secs(600),
                    ..CircuitBreaker::streak(2)
                }),
        )
        .route(EventRoute::new("pushes").to(["m1-ok", "m1-refusing", "m1-down"]))
        .build()
        .expect("relay");
    let worker = relay.spawn_worker(worker_config());
    let addr = gateway(relay, None).await;
    let unknown = r#"relay_ingest_total{source="(unknown)",outcome="unknown_source"}"#;
    let unknown_before = value(&scrape(addr).await, unknown).unwrap_or(0.0);

    let body = br#"{"ref":"refs/heads/main"}"#;
    let good = github_signature(SECRET, body);
    assert_eq!(
        push(addr, "/webhooks/m1-github", "d-1", &good)
            .await
            .status(),
        200
    );
    assert_eq!(
        push(addr, "/webhooks/m1-github", "d-1", &good)
            .await
            .status(),
        200
    );
    let bad = github_signature("not it", body);
    assert_eq!(
        push(addr, "/webhooks/m1-github", "d-2", &bad)
            .await
            .status(),
        401
    );
    assert_eq!(
        push(addr, "/webhooks/m1-nope", "d-3", &good).await.status(),
        404
    );

    // Delivered once, dead-lettered once (400), and the failing destination's circuit opens
    // after two failures (it then waits 600 s: no more attempts during the test).
    let settled = eventually(WAIT, || async {
        let text = scrape(addr).await;
        let dead = value(
            &text,
            r#"relay_dead_letters_total{destination="m1-refusing"}"#,
        );
        let delivered = value(
            &text,
            r#"relay_delivery_latency_seconds_count{destination="m1-ok"}"#,
        );
        let open = value(&text, r#"relay_circuit_open{destination="m1-down"}"#);
        let failed = value(
            &text,
            r#"relay_attempts_total{destination="m1-down",result="retrying"}"#,
        );
        let all = [dead, delivered, open, failed];
        (all == [Some(1.0), Some(1.0), Some(1.0), Some(2.0)]).then_some(text)
    })
    .await;
    let text = match settled {
        Some(text) => text,
        None => panic!("never settled:\n{}", scrape(addr).await),
    };

    let series = [
        (
            r#"relay_ingest_total{source="m1-github",outcome="accepted"}"#,
            1.0,
        ),
        (
            r#"relay_ingest_total{source="m1-github",outcome="duplicate"}"#,
            1.0,
        ),
        (
            r#"relay_ingest_total{source="m1-github",outcome="invalid_signature"}"#,
            1.0,
        ),
        (
            r#"relay_ingest_duration_seconds_count{source="m1-github"}"#,
            3.0,
        ),
        (
            r#"relay_attempts_total{destination="m1-ok",result="delivered"}"#,
            1.0,
        ),
        (
            r#"relay_attempt_duration_seconds_count{destination="m1-ok"}"#,
            1.0,
        ),
        (
            r#"relay_attempts_total{destination="m1-refusing",result="dead_lettered"}"#,
            1.0,
        ),
        (
            r#"relay_attempts_total{destination="m1-down",result="retrying"}"#,
            2.0,
        ),
        (
            r#"relay_dead_letters_total{destination="m1-refusing"}"#,
            1.0,
        ),
        (
            r#"relay_delivery_latency_seconds_count{destination="m1-ok"}"#,
            1.0,
        ),
        (r#"relay_circuit_open{destination="m1-down"}"#, 1.0),
    ];
    let wrong: Vec<String> = series
        .iter()
        .filter(|(s, want)| value(&text, s) != Some(*want))
        .map(|(s, want)| format!("{s}: want {want}, got {:?}", value(&text, s)))
        .collect();
    assert!(wrong.is_empty(), "{}\n\n{text}", wrong.join("\n"));
    assert_eq!(value(&text, unknown), Some(unknown_before + 1.0), "{text}");
    for absent in [
        r#"relay_ingest_total{source="m1-nope""#,
        r#"relay_attempts_total{destination="m1-ok",result="retrying"}"#,
        r#"relay_dead_letters_total{destination="m1-ok"}"#,
    ] {
        assert!(!text.contains(absent), "{absent} present:\n{text}");
    }
    assert!(
        text.contains(r#"relay_delivery_latency_seconds_bucket{destination="m1-ok",le="+Inf"} 1"#),
        "{text}"
    );
    assert!(value(&text, "relay_queue_depth").is_some(), "{text}");
    for help in [
        "relay_ingest_total",
        "relay_attempts_total",
        "relay_queue_depth",
    ] {
        assert!(text.contains(&format!("# HELP {help} ")), "{help}:\n{text}");
    }
    assert_eq!((ok.count(), refusing.count(), down.count()), (1, 1, 2));
    worker.shutdown().await;
}

#[tokio::test]
async fn a_metrics_token_is_required_once_set() {
    let relay = Relay::builder().build().expect("relay");
    let addr = gateway(relay, Some("m2-token")).await;
    let client = relay_core::tls::client();
    let url = format!("http://{addr}/metrics");
    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("m2-token"),
        Some("Basic m2-token"),
    ] {
        let mut request = client.get(&url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.expect("GET");
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert_eq!(
            response.text().await.expect("body"),
            r#"{"error":"unauthorized"}"#
        );
    }
    let response = client
        .get(&url)
        .bearer_auth("m2-token")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/plain")
    );
}

/// Log lines written by this binary's subscriber (installed once, `relay_core=debug`).
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    Arc::clone(LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&logs);
        tracing_subscriber::fmt()
            .with_env_filter("relay_core=debug")
            .with_ansi(false)
            .with_writer(move || Sink(Arc::clone(&sink)))
            .try_init()
            .expect("the only subscriber of this binary");
        logs
    }))
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_id_is_answered_and_logged_by_every_attempt() {
    let logs = captured_logs();
    let receiver = Receiver::start([Answer::Status(503)], Answer::Status(200)).await;
    let relay = Relay::builder()
        .allow_cidrs(loopback())
        .source(WebhookSource::new("m3-in", NoSignature))
        .destination(
            Destination::http("m3-out", &receiver.url)
                .expect("URL")
                .policy(fast_retries(5)),
        )
        .route(EventRoute::new("all").to(["m3-out"]))
        .build()
        .expect("relay");
    let worker = relay.spawn_worker(worker_config());
    let addr = gateway(relay, None).await;
    let client = relay_core::tls::client();
    let send = |key: &'static str, id: Option<&'static str>| {
        let mut request = client
            .post(format!("http://{addr}/webhooks/m3-in"))
            .header("idempotency-key", key)
            .body("{}");
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        async move {
            let response = request.send().await.expect("POST");
            assert_eq!(response.status(), 200);
            let id = response.headers()["x-request-id"].to_str().expect("ascii");
            id.to_owned()
        }
    };
    let sent = send("one", Some("m3-client-id")).await;
    assert_eq!(sent, "m3-client-id");
    let generated = send("two", None).await;
    assert_eq!(generated.len(), 36, "{generated}");
    assert_ne!(generated, sent);
    let replaced = send("three", Some("not a token")).await;
    assert!(
        replaced != "not a token" && replaced.len() == 36,
        "{replaced}"
    );

    // The first event's first attempt gets 503 (logged at info), its retry 200.
    let lines = eventually(WAIT, || async {
        let text = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
        let finished: Vec<String> = text
            .lines()
            .filter(|l| l.contains("attempt finished") && l.contains("destination=m3-out"))
            .map(str::to_owned)
            .collect();
        (finished.len() >= 4).then_some(finished)
    })
    .await
    .expect("four attempts logged");
    let with = |id: &str| {
        lines
            .iter()
            .filter(|l| l.contains(&format!("request_id={id}")))
            .count()
    };
    let retried = [&sent, &generated, &replaced]
        .into_iter()
        .find(|id| with(id) == 2)
        .unwrap_or_else(|| panic!("no event was attempted twice: {lines:#?}"));
    let others: Vec<usize> = [&sent, &generated, &replaced]
        .into_iter()
        .filter(|id| *id != retried)
        .map(|id| with(id))
        .collect();
    assert_eq!(others, [1, 1], "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("request_id={retried}"))
                && l.contains("INFO")
                && l.contains("outcome=\"retrying\"")),
        "{lines:#?}"
    );
    // The id is not forwarded to destinations.
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| !r.headers.contains_key("x-request-id"))
    );
    worker.shutdown().await;
}
