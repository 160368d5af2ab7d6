//! The spans of an event's trace, handed to the OpenTelemetry exporter when the relay has a
//! tracer (feature `opentelemetry`, see [`crate::otel`]); without one they cost one branch.

use std::time::SystemTime;

use crate::event::AttemptOutcome;
use crate::ids::{DeliveryId, EventId, TenantId};
use crate::ingest::{IngestOutcome, RequestId};
use crate::relay::Relay;

/// What an `ingest` span reports.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
pub(crate) struct IngestSpan<'a> {
    pub started: SystemTime,
    pub tenant: &'a TenantId,
    pub source: &'a str,
    pub request_id: &'a RequestId,
    pub outcome: &'a IngestOutcome,
}

/// What an `attempt` span reports.
#[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
pub(crate) struct AttemptSpan<'a> {
    pub started: SystemTime,
    pub event: EventId,
    pub span: u64,
    pub delivery: DeliveryId,
    pub destination: &'a str,
    pub number: u32,
    pub status_code: Option<u16>,
    pub error: Option<&'a str>,
    pub outcome: AttemptOutcome,
}

impl Relay {
    /// The wall-clock start of a span, when spans are exported.
    pub(crate) fn span_start(&self) -> Option<SystemTime> {
        #[cfg(feature = "opentelemetry")]
        if self.tracer().is_some() {
            return Some(SystemTime::now());
        }
        None
    }

    /// Exports an `ingest` span (only accepted and duplicate events have one).
    pub(crate) fn export_ingest_span(&self, span: IngestSpan<'_>) {
        #[cfg(feature = "opentelemetry")]
        if let Some(tracer) = self.tracer() {
            crate::otel::export_ingest(tracer, span);
        }
        #[cfg(not(feature = "opentelemetry"))]
        let _ = span;
    }

    /// Exports an `attempt` span.
    pub(crate) fn export_attempt_span(&self, span: AttemptSpan<'_>) {
        #[cfg(feature = "opentelemetry")]
        if let Some(tracer) = self.tracer() {
            crate::otel::export_attempt(tracer, span);
        }
        #[cfg(not(feature = "opentelemetry"))]
        let _ = span;
    }
}
