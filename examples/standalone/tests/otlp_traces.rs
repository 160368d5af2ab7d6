//! OpenTelemetry export on the real `relay` binary: with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing
//! at a collector stand-in on loopback (an HTTP server decoding OTLP protobuf), one webhook
//! whose first delivery fails gives one trace: the ingest span (the root, trace id = event id)
//! and both attempt spans below it, each named by the `traceparent` its request carried.

mod support;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message as _;
use relay_tests::{Answer, Receiver, eventually, github_signature};
use support::{free_port, start, terminate};

const SECRET: &str = "otlp-secret";

/// Every span the stand-in received, with its resource's `service.name`.
type Collected = Arc<Mutex<Vec<(String, Span)>>>;

async fn collector() -> (String, Collected) {
    let collected = Collected::default();
    let app = Router::new()
        .route("/v1/traces", axum::routing::post(export))
        .with_state(collected.clone());
    let addr = relay_tests::serve(app).await;
    (format!("http://{addr}"), collected)
}

async fn export(State(collected): State<Collected>, body: Bytes) -> &'static str {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf request");
    let mut collected = collected.lock().expect("collected lock");
    for resource in request.resource_spans {
        let service = (resource.resource.iter())
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                Value::StringValue(name) => Some(name.clone()),
                _ => None,
            })
            .unwrap_or_default();
        for scope in resource.scope_spans {
            for span in scope.spans {
                collected.push((service.clone(), span));
            }
        }
    }
    ""
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span.attributes.iter().find(|kv| kv.key == key)?;
    match value.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// A gateway configuration: signed GitHub pushes routed to `receiver`, retried after 200 ms.
fn gateway_config(
    receiver: &Receiver,
) -> (tempfile::TempDir, std::path::PathBuf, std::net::SocketAddr) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("relay.toml");
    let addr = free_port();
    std::fs::write(
        &config,
        format!(
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
name = "app"
url = "{url}"
retry = {{ schedule = ["200ms"] }}

[[routes]]
name = "to-app"
source = "github"
destinations = ["app"]
"#,
            db = dir.path().join("relay.db").display(),
            url = receiver.url,
        ),
    )
    .expect("write config");
    (dir, config, addr)
}

/// Sends a signed push with delivery id `delivery`; returns the event id.
async fn push(addr: std::net::SocketAddr, delivery: &str) -> String {
    let body = r#"{"ref":"refs/heads/main"}"#;
    let answer: serde_json::Value = relay_core::tls::client()
        .post(format!("http://{addr}/webhooks/github"))
        .header("x-github-event", "push")
        .header("x-github-delivery", delivery)
        .header(
            "x-hub-signature-256",
            github_signature(SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("ingest")
        .json()
        .await
        .expect("json answer");
    answer["event_id"].as_str().expect("event_id").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_ingest_and_both_attempts() {
    let (endpoint, collected) = collector().await;
    let receiver = Receiver::start([Answer::Status(500)], Answer::Status(200)).await;
    let (_dir, config, addr) = gateway_config(&receiver);
    let mut relay = start(
        &config,
        addr,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_SERVICE_NAME", ""),
        ],
    )
    .await;

    let event_id = push(addr, "otlp-1").await;
    let trace_id = hex::decode(event_id.strip_prefix("evt_").expect("evt_ prefix")).unwrap();

    let delivered = eventually(Duration::from_secs(30), || {
        let received = receiver.received();
        async move { (received.len() >= 2).then_some(received) }
    })
    .await
    .expect("delivered on the second attempt");
    let spans = eventually(Duration::from_secs(30), || {
        let spans = collected.lock().expect("collected lock").clone();
        async move { (spans.len() >= 3).then_some(spans) }
    })
    .await
    .expect("three spans exported while the gateway runs");
    assert!(terminate(&mut relay).success());

    assert!(spans.iter().all(|(service, _)| service == "relay"));
    let spans: Vec<Span> = spans.into_iter().map(|(_, span)| span).collect();
    assert!(
        spans.iter().all(|s| s.trace_id == trace_id),
        "one trace, whose id is the event id"
    );
    let ingest: Vec<&Span> = spans.iter().filter(|s| s.name == "ingest").collect();
    let attempts: Vec<&Span> = spans.iter().filter(|s| s.name == "attempt").collect();
    assert_eq!((ingest.len(), attempts.len()), (1, 2), "{spans:#?}");
    let root = ingest[0];
    assert!(
        root.parent_span_id.is_empty(),
        "the ingest span is the root"
    );
    assert_eq!(root.kind, SpanKind::Server as i32);
    assert_eq!(attribute(root, "relay.source").as_deref(), Some("github"));
    assert_eq!(attribute(root, "relay.event_id"), Some(event_id.clone()));
    for (number, (span, request)) in attempts.iter().zip(&delivered).enumerate() {
        assert_eq!(
            span.parent_span_id, root.span_id,
            "attempts are children of ingest"
        );
        assert_eq!(span.kind, SpanKind::Client as i32);
        assert_eq!(
            attribute(span, "relay.attempt"),
            Some((number + 1).to_string())
        );
        let traceparent = request.headers["traceparent"].to_str().expect("ascii");
        assert_eq!(
            traceparent,
            format!(
                "00-{}-{}-01",
                hex::encode(&trace_id),
                hex::encode(&span.span_id)
            ),
            "the destination's traceparent names the attempt span"
        );
    }
    assert_eq!(
        attribute(attempts[0], "http.response.status_code").as_deref(),
        Some("500")
    );
    assert_eq!(
        attribute(attempts[1], "relay.outcome").as_deref(),
        Some("delivered")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_still_buffered_are_flushed_at_shutdown() {
    let (endpoint, collected) = collector().await;
    let receiver = Receiver::ok().await;
    let (_dir, config, addr) = gateway_config(&receiver);
    let mut relay = start(
        &config,
        addr,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
    )
    .await;
    let event_id = push(addr, "otlp-flush").await;
    eventually(Duration::from_secs(30), || {
        let count = receiver.count();
        async move { (count == 1).then_some(()) }
    })
    .await
    .expect("delivered");
    assert!(
        collected.lock().expect("collected lock").is_empty(),
        "nothing exported before the batch is due"
    );
    assert!(terminate(&mut relay).success());
    let spans = collected.lock().expect("collected lock").clone();
    let names: Vec<&str> = spans.iter().map(|(_, s)| s.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&"ingest") && names.contains(&"attempt"),
        "{names:?}"
    );
    let trace_id = hex::decode(event_id.strip_prefix("evt_").expect("evt_ prefix")).unwrap();
    assert!(spans.iter().all(|(_, s)| s.trace_id == trace_id));
}

#[test]
fn an_unsupported_protocol_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"{}\"\ndatabase_url = \"sqlite://{}\"\n",
            free_port(),
            dir.path().join("relay.db").display()
        ),
    )
    .expect("write config");
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(&config)
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .stdin(Stdio::null())
        .output()
        .expect("run relay");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=\"grpc\" is not supported"),
        "{stderr}"
    );
}
