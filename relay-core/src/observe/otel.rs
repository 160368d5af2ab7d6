//! OpenTelemetry traces (feature `opentelemetry`): one trace per event, from its ingest to
//! every delivery attempt, on every node.
//!
//! - The trace id is the event id (the same 128 bits as the `evt_…` id).
//! - The `ingest` span (kind server) has the span id [`ingest_span_id`] of the event, so a
//!   node that attempts a delivery later can name it as the parent without asking anyone.
//! - Every attempt is an `attempt` span (kind client), a child of the ingest span, whose span
//!   id is the one the attempt's `traceparent` header carries: the destination's own server
//!   span hangs below it.
//! - A duplicate delivery of the same webhook is an `ingest` span with outcome `duplicate`
//!   inside the original event's trace.
//!
//! Requests refused before an event exists (bad signature, unknown source, rate limits) make
//! no span: they are counted in the metrics.
//!
//! The spans are exported by an [observer](crate::observe) of the pipeline (`Spans`), added
//! by the builder when it is given a tracer.
//!
//! The SDK picks span and trace ids through its id generator; install [`EventTraceIds`] on the
//! tracer provider so Relay's spans carry these ids, and hand the tracer to the builder:
//!
//! ```
//! use opentelemetry::global::BoxedTracer;
//! use opentelemetry::trace::TracerProvider as _;
//! use opentelemetry_sdk::trace::SdkTracerProvider;
//! use relay_core::observe::otel::EventTraceIds;
//!
//! let provider = SdkTracerProvider::builder()
//!     .with_id_generator(EventTraceIds::default())
//!     // .with_batch_exporter(an OTLP exporter)
//!     .build();
//! let relay = relay_core::Relay::builder()
//!     .tracer(BoxedTracer::new(Box::new(provider.tracer("relay"))))
//!     .build()
//!     .unwrap();
//! # drop(relay);
//! ```

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use opentelemetry::global::{BoxedSpan, BoxedTracer};
use opentelemetry::trace::{
    Span as _, SpanBuilder, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _,
    TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

use crate::ingest::outcome::IngestOutcome;
use crate::model::ids::EventId;
use crate::observe::{AttemptSeen, IngestSeen, Observer};

thread_local! {
    /// The ids the next span built on this thread should get (set just around the
    /// synchronous `build_with_context` call).
    static PLANNED: Cell<Option<(TraceId, SpanId)>> = const { Cell::new(None) };
}

/// An OpenTelemetry SDK [`IdGenerator`] that gives Relay's spans the ids of their event's
/// trace (see the [module](self) documentation), and random ids to every other span.
#[derive(Debug, Default)]
pub struct EventTraceIds {
    random: RandomIdGenerator,
}

impl IdGenerator for EventTraceIds {
    fn new_trace_id(&self) -> TraceId {
        match PLANNED.get() {
            Some((trace, _)) => trace,
            None => self.random.new_trace_id(),
        }
    }

    fn new_span_id(&self) -> SpanId {
        match PLANNED.get() {
            Some((_, span)) => span,
            None => self.random.new_span_id(),
        }
    }
}

/// The trace id of an event's trace: the event id's 128 bits.
///
/// ```
/// let event = relay_core::model::ids::EventId::new();
/// let trace = relay_core::observe::otel::trace_id(event);
/// assert_eq!(format!("{trace}"), event.as_uuid().simple().to_string());
/// ```
pub fn trace_id(event: EventId) -> TraceId {
    TraceId::from_bytes(*event.as_uuid().as_bytes())
}

/// The span id of an event's `ingest` span: the event id's last 8 bytes (random in a UUIDv7),
/// never zero.
pub fn ingest_span_id(event: EventId) -> SpanId {
    SpanId::from(crate::deliver::outbound::ingest_span(event))
}

/// The observer that exports every event's spans through a tracer.
pub(crate) struct Spans {
    tracer: BoxedTracer,
}

impl std::fmt::Debug for Spans {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spans")
    }
}

impl Spans {
    /// Spans exported through `tracer`.
    pub(crate) fn new(tracer: BoxedTracer) -> Self {
        Self { tracer }
    }
}

impl Observer for Spans {
    fn wants_start_time(&self) -> bool {
        true
    }

    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        if let Some(started) = ingest.started {
            export_ingest(&self.tracer, started, ingest);
        }
    }

    fn on_attempt(&self, attempt: &AttemptSeen<'_>) {
        if let Some(started) = attempt.started {
            export_attempt(&self.tracer, started, attempt);
        }
    }
}

/// Exports the `ingest` span of an accepted or duplicate event; other outcomes have no event.
fn export_ingest(tracer: &BoxedTracer, started: SystemTime, span: &IngestSeen<'_>) {
    let (event, duplicate) = match span.outcome {
        IngestOutcome::Accepted { event_id } => (*event_id, false),
        IngestOutcome::Duplicate { event_id } => (*event_id, true),
        _ => return,
    };
    let attributes = vec![
        KeyValue::new("relay.tenant", span.tenant.to_string()),
        KeyValue::new("relay.source", span.source.to_owned()),
        KeyValue::new("relay.event_id", event.to_string()),
        KeyValue::new("relay.request_id", span.request_id.to_owned()),
        KeyValue::new("relay.outcome", span.outcome.code()),
    ];
    let builder = SpanBuilder::from_name("ingest")
        .with_kind(SpanKind::Server)
        .with_start_time(started)
        .with_attributes(attributes);
    let mut built = if duplicate {
        // A child of the original ingest span, with an id of its own.
        let id = SpanId::from(crate::deliver::outbound::attempt_span_id());
        build(tracer, builder, event, id, Some(ingest_span_id(event)))
    } else {
        build(tracer, builder, event, ingest_span_id(event), None)
    };
    built.end_with_timestamp(SystemTime::now());
}

/// Exports the `attempt` span of one delivery attempt.
fn export_attempt(tracer: &BoxedTracer, started: SystemTime, span: &AttemptSeen<'_>) {
    let mut attributes = vec![
        KeyValue::new("relay.delivery_id", span.delivery.to_string()),
        KeyValue::new("relay.destination", span.destination.to_owned()),
        KeyValue::new("relay.attempt", i64::from(span.number)),
        KeyValue::new("relay.outcome", span.outcome.as_str()),
    ];
    if let Some(status) = span.status_code {
        attributes.push(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ));
    }
    let builder = SpanBuilder::from_name("attempt")
        .with_kind(SpanKind::Client)
        .with_start_time(started)
        .with_attributes(attributes);
    let mut built = build(
        tracer,
        builder,
        span.event,
        SpanId::from(span.span),
        Some(ingest_span_id(span.event)),
    );
    if let Some(error) = span.error {
        built.set_status(Status::Error {
            description: Cow::Owned(error.to_owned()),
        });
    }
    built.end_with_timestamp(SystemTime::now());
}

/// Builds a span with the planned ids, under a remote parent when one is given.
fn build(
    tracer: &BoxedTracer,
    builder: SpanBuilder,
    event: EventId,
    span: SpanId,
    parent: Option<SpanId>,
) -> BoxedSpan {
    let trace = trace_id(event);
    let context = match parent {
        Some(parent) => Context::new().with_remote_span_context(SpanContext::new(
            trace,
            parent,
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        )),
        None => Context::new(),
    };
    PLANNED.set(Some((trace, span)));
    let built = tracer.build_with_context(builder, &context);
    PLANNED.set(None);
    let got = built.span_context();
    if got.is_valid() && (got.trace_id() != trace || got.span_id() != span) {
        warn_foreign_ids();
    }
    built
}

/// Says once that the provider does not use [`EventTraceIds`].
fn warn_foreign_ids() {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            "the OpenTelemetry tracer provider does not use relay_core::observe::otel::EventTraceIds: \
             Relay's spans will not carry their event's trace and span ids"
        );
    }
}

#[cfg(test)]
mod tests;
