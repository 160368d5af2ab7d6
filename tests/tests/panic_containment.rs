//! Panics are contained: a panicking transformer or handler fails that attempt (recorded, then
//! retried or dead-lettered by the policy) and the worker delivers on; a panic while serving a
//! request answers `500 {"error":"internal"}` over a real loopback connection (axum with
//! `RelayLayer` and `CatchPanicLayer`, actix-web with `RelayMiddleware`) and the server serves on.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::routing::get;
use relay_actix::RelayMiddleware;
use relay_axum::{CatchPanicLayer, RelayLayer};
use relay_core::deliver::destination::{Destination, HandlerError, Message};
use relay_core::ingest::selector::Selector;
use relay_core::ingest::signature::{NoSignature, SignatureScheme, SignedRequest, VerifyError};
use relay_core::ingest::source::WebhookSource;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::secret::SourceSecret;
use relay_core::model::time::Timestamp;
use relay_core::route::EventRoute;
use relay_core::transform::{TransformError, TransformInput, Transformed, Transformer};
use relay_core::{Relay, RelayBuilder};
use relay_tests::actix::serve_actix;
use relay_tests::pipeline::{Pipeline, fast_retries};
use relay_tests::serve;

/// Panics on the first call, then handles.
fn flaky_handler(calls: Arc<AtomicU32>) -> Destination {
    Destination::handler("flaky", move |_m: Message| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                panic!("the handler's bug on call {n}");
            }
            Ok::<(), HandlerError>(())
        }
    })
    .policy(fast_retries(3))
}

/// Panics while it is called, before returning its future.
fn eager_panic(_m: Message) -> Ready<Result<(), HandlerError>> {
    let empty: Vec<u32> = Vec::new();
    ready(if empty[0] == 1 {
        Ok(())
    } else {
        Err(HandlerError::Reject("x".into()))
    })
}

#[derive(Debug)]
struct PanickingTransformer;

impl Transformer for PanickingTransformer {
    fn transform(&self, _input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        panic!("the transformer's bug")
    }
}

fn ok_handler(name: &str) -> Destination {
    Destination::handler(name, |_m: Message| async { Ok::<(), HandlerError>(()) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_its_attempt_and_is_retried() {
    let calls = Arc::new(AtomicU32::new(0));
    let p = Pipeline::start(
        Relay::builder()
            .destination(flaky_handler(Arc::clone(&calls)))
            .destination(Destination::handler("eager", eager_panic).policy(fast_retries(2)))
            .route(EventRoute::new("all").to(["flaky", "eager"])),
    );
    let event = p.send("panic-1").await;
    let d = p
        .wait_for(event, "flaky", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    let attempts = p.attempts(&d).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    let error = attempts[0].error.clone().unwrap_or_default();
    assert_eq!(
        error,
        "handler_panic: the handler panicked: the handler's bug on call 0"
    );
    assert_eq!(attempts[1].error, None);
    // A handler that panics before it even returns a future: both attempts fail, and the
    // policy dead-letters the delivery after its 2 attempts.
    let d = p
        .wait_for(event, "eager", "dead-lettered", |d| {
            d.status == DeliveryStatus::DeadLettered
        })
        .await;
    let attempts = p.attempts(&d).await;
    assert_eq!(attempts.len(), 2);
    for attempt in &attempts {
        let error = attempt.error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with("handler_panic: the handler panicked: index out of bounds"),
            "{error}"
        );
    }
    // The worker lives on: the next event is delivered.
    let next = p.send("panic-2").await;
    p.wait_for(next, "flaky", "delivered", |d| {
        d.status == DeliveryStatus::Delivered
    })
    .await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_transformer_fails_its_attempts_and_the_rest_is_delivered() {
    let p = Pipeline::start(
        Relay::builder()
            .transformer("buggy", PanickingTransformer)
            .destination(ok_handler("shaped").policy(fast_retries(3)))
            .destination(ok_handler("plain"))
            .route(EventRoute::new("buggy").to(["shaped"]).transformer("buggy"))
            .route(EventRoute::new("plain").to(["plain"])),
    );
    for key in ["t-1", "t-2"] {
        let event = p.send(key).await;
        let d = p
            .wait_for(event, "shaped", "dead-lettered", |d| {
                d.status == DeliveryStatus::DeadLettered
            })
            .await;
        let attempts = p.attempts(&d).await;
        assert_eq!(attempts.len(), 3, "retried by the policy: {attempts:?}");
        for attempt in attempts {
            assert_eq!(
                attempt.error.as_deref(),
                Some(
                    "transform_panic: the transformer of route \"buggy\" panicked: the transformer's bug"
                )
            );
        }
        p.wait_for(event, "plain", "delivered", |d| {
            d.status == DeliveryStatus::Delivered
        })
        .await;
    }
    p.stop().await;
}

/// A signature scheme with a bug: it panics on every request.
#[derive(Debug)]
struct PanickingScheme;

impl SignatureScheme for PanickingScheme {
    fn name(&self) -> &'static str {
        "panicking"
    }

    fn verify(
        &self,
        _request: &SignedRequest<'_>,
        _secrets: &[SourceSecret],
        _now: Timestamp,
    ) -> Result<(), VerifyError> {
        panic!("the scheme's bug")
    }

    fn default_event_type(&self) -> Option<Selector> {
        None
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        None
    }
}

fn relay_with_a_buggy_source() -> Relay {
    RelayBuilder::default()
        .source(WebhookSource::new("buggy", PanickingScheme).secret("unused"))
        .source(WebhookSource::new("fine", NoSignature))
        .build()
        .expect("relay")
}

/// POSTs to `url` and returns the status and body.
async fn post(client: &reqwest::Client, url: String) -> (u16, String) {
    let response = client
        .post(url)
        .body("{}")
        .send()
        .await
        .expect("an answer, not a dropped connection");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

const INTERNAL: &str = r#"{"error":"internal"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_serving_answers_500_and_the_axum_server_serves_on() {
    let app = Router::new()
        .route("/ok", get(|| async { "fine" }))
        .route(
            "/bug",
            get(|| async {
                let empty: Vec<u8> = Vec::new();
                format!("{}", empty[1])
            }),
        )
        .layer(RelayLayer::new(relay_with_a_buggy_source()))
        .layer(CatchPanicLayer::new());
    let base = format!("http://{}", serve(app).await);
    let client = relay_core::tls::client();
    for _ in 0..3 {
        assert_eq!(
            post(&client, format!("{base}/webhooks/buggy")).await,
            (500, INTERNAL.into())
        );
        let response = client
            .get(format!("{base}/bug"))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 500);
        assert_eq!(response.text().await.expect("body"), INTERNAL);
        let (status, body) = post(&client, format!("{base}/webhooks/fine")).await;
        assert_eq!(status, 200, "{body}");
        let response = client.get(format!("{base}/ok")).send().await.expect("ok");
        assert_eq!(response.text().await.expect("body"), "fine");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_while_ingesting_answers_500_and_the_actix_server_serves_on() {
    let addr = serve_actix(RelayMiddleware::new(relay_with_a_buggy_source()));
    let base = format!("http://{addr}");
    let client = relay_core::tls::client();
    for _ in 0..3 {
        assert_eq!(
            post(&client, format!("{base}/webhooks/buggy")).await,
            (500, INTERNAL.into())
        );
        let (status, body) = post(&client, format!("{base}/webhooks/fine")).await;
        assert_eq!(status, 200, "{body}");
    }
    let response = client.get(format!("{base}/")).send().await.expect("app");
    assert_eq!(response.text().await.expect("body"), "the app");
}
