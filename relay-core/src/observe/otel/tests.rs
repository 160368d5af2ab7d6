#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tokio::sync::mpsc;

use super::*;
use crate::deliver::WorkerConfig;
use crate::deliver::destination::{Destination, HandlerError, Message};
use crate::deliver::policy::RetryPolicy;
use crate::ingest::IngestRequest;
use crate::ingest::signature::NoSignature;
use crate::ingest::source::WebhookSource;
use crate::route::EventRoute;

/// Keeps every exported span.
#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collected {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

impl Collected {
    fn named(&self, name: &str) -> Vec<SpanData> {
        let spans = self.0.lock().unwrap();
        spans.iter().filter(|s| s.name == name).cloned().collect()
    }
}

fn provider(collected: &Collected, event_ids: bool) -> SdkTracerProvider {
    let builder = SdkTracerProvider::builder().with_simple_exporter(collected.clone());
    if event_ids {
        builder.with_id_generator(EventTraceIds::default()).build()
    } else {
        builder.build()
    }
}

/// A relay whose `app` handler fails the first attempt and reports every traceparent it got.
fn relay(provider: &SdkTracerProvider) -> (crate::Relay, mpsc::UnboundedReceiver<String>) {
    let (seen, traceparents) = mpsc::unbounded_channel();
    let failed_once = Arc::new(Mutex::new(false));
    let app = Destination::handler("app", move |message: Message| {
        let seen = seen.clone();
        let failed_once = failed_once.clone();
        async move {
            let header = message.headers["traceparent"].to_str().unwrap().to_owned();
            seen.send(header).unwrap();
            let mut failed = failed_once.lock().unwrap();
            if *failed {
                Ok(())
            } else {
                *failed = true;
                Err(HandlerError::Retry("first attempt fails".into()))
            }
        }
    })
    .policy(RetryPolicy::schedule([Duration::from_millis(10)]));
    let relay = crate::Relay::builder()
        .source(WebhookSource::new("forms", NoSignature))
        .destination(app)
        .route(EventRoute::new("all").to(["app"]))
        .tracer(BoxedTracer::new(Box::new(provider.tracer("relay"))))
        .build()
        .unwrap();
    (relay, traceparents)
}

async fn ingest(relay: &crate::Relay, key: &str) -> IngestOutcome {
    let mut headers = HeaderMap::new();
    headers.insert("idempotency-key", key.parse().unwrap());
    relay
        .ingest(IngestRequest::new(
            "forms",
            headers,
            Bytes::from_static(b"{}"),
        ))
        .await
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_ingest_and_every_attempt() {
    let collected = Collected::default();
    let provider = provider(&collected, true);
    let (relay, mut traceparents) = relay(&provider);
    let worker = relay.spawn_worker(WorkerConfig::default());

    let IngestOutcome::Accepted { event_id } = ingest(&relay, "order-1").await else {
        panic!("not accepted")
    };
    let first = traceparents.recv().await.unwrap();
    let second = traceparents.recv().await.unwrap();
    let duplicate = ingest(&relay, "order-1").await;
    assert_eq!(duplicate, IngestOutcome::Duplicate { event_id });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while collected.named("attempt").len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "attempt spans missing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.shutdown().await;

    let trace = trace_id(event_id);
    let ingests = collected.named("ingest");
    assert_eq!(ingests.len(), 2, "the original and the duplicate");
    let original = &ingests[0];
    assert_eq!(original.span_context.trace_id(), trace);
    assert_eq!(original.span_context.span_id(), ingest_span_id(event_id));
    assert_eq!(
        original.parent_span_id,
        SpanId::INVALID,
        "the root of the trace"
    );
    assert_eq!(original.span_kind, SpanKind::Server);
    assert_eq!(
        attribute(original, "relay.outcome").as_deref(),
        Some("accepted")
    );
    assert_eq!(
        attribute(original, "relay.event_id"),
        Some(event_id.to_string())
    );
    let repeat = &ingests[1];
    assert_eq!(repeat.span_context.trace_id(), trace);
    assert_eq!(repeat.parent_span_id, ingest_span_id(event_id));
    assert_ne!(repeat.span_context.span_id(), ingest_span_id(event_id));
    assert_eq!(
        attribute(repeat, "relay.outcome").as_deref(),
        Some("duplicate")
    );

    let attempts = collected.named("attempt");
    for (span, header) in attempts.iter().zip([&first, &second]) {
        assert_eq!(span.span_context.trace_id(), trace);
        assert_eq!(span.parent_span_id, ingest_span_id(event_id));
        assert_eq!(span.span_kind, SpanKind::Client);
        assert_eq!(
            header,
            &format!("00-{trace}-{}-01", span.span_context.span_id()),
            "the destination's traceparent names the attempt span"
        );
    }
    assert_eq!(
        attribute(&attempts[0], "relay.attempt").as_deref(),
        Some("1")
    );
    assert_eq!(
        attribute(&attempts[0], "relay.outcome").as_deref(),
        Some("retrying")
    );
    assert!(matches!(attempts[0].status, Status::Error { .. }));
    assert_eq!(
        attribute(&attempts[1], "relay.outcome").as_deref(),
        Some("delivered")
    );
    assert_eq!(attempts[1].status, Status::Unset);
}

#[tokio::test]
async fn refused_requests_make_no_span() {
    let collected = Collected::default();
    let provider = provider(&collected, true);
    let (relay, _traceparents) = relay(&provider);
    let outcome = relay
        .ingest(IngestRequest::new(
            "nobody",
            HeaderMap::new(),
            Bytes::from_static(b"{}"),
        ))
        .await;
    assert_eq!(outcome, IngestOutcome::UnknownSource);
    assert!(collected.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_provider_without_event_ids_still_exports() {
    let collected = Collected::default();
    let provider = provider(&collected, false);
    let (relay, _traceparents) = relay(&provider);
    let IngestOutcome::Accepted { event_id } = ingest(&relay, "order-2").await else {
        panic!("not accepted")
    };
    let ingests = collected.named("ingest");
    assert_eq!(ingests.len(), 1);
    assert_ne!(ingests[0].span_context.trace_id(), trace_id(event_id));
}

#[test]
fn ids_come_from_the_event() {
    let event = EventId::new();
    assert_eq!(ingest_span_id(event), ingest_span_id(event));
    assert_ne!(ingest_span_id(event), SpanId::INVALID);
    assert_eq!(
        trace_id(event).to_string(),
        event.as_uuid().simple().to_string()
    );
    // Outside a planned build, the generator is random.
    let ids = EventTraceIds::default();
    assert_ne!(ids.new_span_id(), ids.new_span_id());
}
