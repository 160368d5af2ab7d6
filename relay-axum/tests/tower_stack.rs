//! `RelayLayer` under tower-http's middleware: Trace, Timeout and CatchPanic stacked over it
//! (with `Router::layer` and with `ServiceBuilder`) compile, and a real ingest request over
//! loopback goes through them to the pipeline while the app's own routes keep theirs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use relay_axum::RelayLayer;
use relay_core::{
    Destination, EventRoute, HandlerError, Message, NoSignature, Relay, WebhookSource,
    WorkerConfig, WorkerHandle,
};
use tokio::sync::mpsc;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// How long the timeout layer lets a request run.
const TIMEOUT: Duration = Duration::from_millis(300);

/// A relay with one unsigned source `demo` routed to an in-process handler that forwards
/// each message's event type to the returned channel.
fn relay() -> (Relay, WorkerHandle, mpsc::UnboundedReceiver<String>) {
    let (sent, received) = mpsc::unbounded_channel();
    let relay = Relay::builder()
        .source(WebhookSource::new("demo", NoSignature))
        .destination(Destination::handler("app", move |m: Message| {
            let sent = sent.clone();
            async move {
                sent.send(m.event_type.clone())
                    .map_err(|e| HandlerError::Reject(e.to_string()))
            }
        }))
        .route(EventRoute::new("all").source("demo").to(["app"]))
        .build()
        .expect("a valid relay");
    let worker =
        relay.spawn_worker(WorkerConfig::default().poll_interval(Duration::from_millis(20)));
    (relay, worker, received)
}

/// The app's own routes: a quick one, one slower than [`TIMEOUT`], one that panics.
fn app_routes() -> Router {
    Router::new()
        .route("/", get(|| async { "my app" }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(TIMEOUT * 10).await;
                "too late"
            }),
        )
        .route("/panic", get(|| async { panics() }))
}

fn panics() -> &'static str {
    panic!("this handler panics")
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// POSTs one `order.created` event with this idempotency key; the status and the JSON reply.
async fn ingest(base: &str, key: &str) -> (StatusCode, serde_json::Value) {
    let response = relay_core::tls::client()
        .post(format!("{base}/webhooks/demo"))
        .header("x-event-type", "order.created")
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(r#"{"order":1}"#)
        .send()
        .await
        .expect("ingest request");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("a status");
    let body = response.json().await.expect("a JSON reply");
    (status, body)
}

async fn get_path(base: &str, path: &str) -> (StatusCode, String) {
    let response = relay_core::tls::client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .expect("GET request");
    let status = StatusCode::from_u16(response.status().as_u16()).expect("a status");
    (status, response.text().await.expect("a body"))
}

/// Ingest through the stack: accepted, then a duplicate, and the event reaches the handler.
async fn ingest_is_accepted_and_delivered(
    base: &str,
    received: &mut mpsc::UnboundedReceiver<String>,
) {
    let (status, first) = ingest(base, "order-1").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["status"], "accepted", "{first}");
    let (status, again) = ingest(base, "order-1").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "duplicate", "{again}");
    assert_eq!(again["event_id"], first["event_id"]);
    let delivered = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("delivered within 10 s");
    assert_eq!(delivered.as_deref(), Some("order.created"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_and_timeout_layered_over_relay_layer_ingest_and_time_out() {
    let (relay, worker, mut received) = relay();
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let seen = statuses.clone();
    let app = app_routes()
        .layer(RelayLayer::new(relay))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http().on_response(
            move |response: &http::Response<_>, _latency: Duration, _span: &tracing::Span| {
                seen.lock()
                    .expect("statuses")
                    .push(response.status().as_u16());
            },
        ));
    let base = format!("http://{}", serve(app).await);

    ingest_is_accepted_and_delivered(&base, &mut received).await;
    // The app's route behind the layer, and one the timeout cuts short with an empty body.
    assert_eq!(
        get_path(&base, "/").await,
        (StatusCode::OK, "my app".to_owned())
    );
    assert_eq!(
        get_path(&base, "/slow").await,
        (StatusCode::REQUEST_TIMEOUT, String::new())
    );
    // TraceLayer saw every response, in order.
    assert_eq!(*statuses.lock().expect("statuses"), [200, 200, 200, 408]);
    worker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_builder_stack_with_catch_panic_over_relay_layer_ingests() {
    let (relay, worker, mut received) = relay();
    let app = app_routes().layer(
        ServiceBuilder::new()
            .layer(TraceLayer::new_for_http())
            .layer(CatchPanicLayer::new())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                TIMEOUT,
            ))
            .layer(RelayLayer::new(relay).prefix("/webhooks")),
    );
    let base = format!("http://{}", serve(app).await);

    ingest_is_accepted_and_delivered(&base, &mut received).await;
    assert_eq!(get_path(&base, "/").await.0, StatusCode::OK);
    assert_eq!(
        get_path(&base, "/panic").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        get_path(&base, "/slow").await,
        (StatusCode::SERVICE_UNAVAILABLE, String::new())
    );
    worker.shutdown().await;
}
