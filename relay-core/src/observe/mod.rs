//! The one interface through which side effects (metrics, per-minute rollups, alerts, traces
//! and an embedder's own) observe the pipeline: the [`Observer`] trait and the plain data it
//! is handed.
//!
//! Ingest and delivery call the relay's observers at fixed points and know nothing of what
//! they do. The relay's default observers are the Prometheus metrics
//! ([`telemetry`]), the per-minute metric points (merged into the store by
//! [`Metrics::flush`](crate::control::admin::Metrics::flush)), the operational
//! [alerts](crate::control::alert) (when configured) and the OpenTelemetry spans (feature
//! `opentelemetry`, when a tracer is given).
//! [`RelayBuilder::observer`](crate::RelayBuilder::observer) adds one of yours after them.
//!
//! Observers run inline on the hot path (tens of thousands of calls a second): a method
//! should count, record or hand off, never block or wait.

#[cfg(feature = "opentelemetry")]
pub mod otel;
pub mod telemetry;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::deliver::circuit::CircuitPhase;
use crate::ingest::outcome::IngestOutcome;
use crate::ingest::sig_failure::SignatureFailureReason;
use crate::model::event::AttemptOutcome;
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::store::LeasedDelivery;

/// An ingest request the pipeline answered.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct IngestSeen<'a> {
    /// The tenant the request was for.
    pub tenant: &'a TenantId,
    /// The source name from the URL (not necessarily a configured one: see `source_known`).
    pub source: &'a str,
    /// Whether `source` names a source of the tenant (metrics count other names under one
    /// label, so that requests cannot create label values).
    pub source_known: bool,
    /// The request id (`x-request-id`).
    pub request_id: &'a str,
    /// The answer.
    pub outcome: &'a IngestOutcome,
    /// The time spent in the pipeline (verify, route, commit).
    pub elapsed: Duration,
    /// The wall-clock start, when an observer asked for it (see
    /// [`Observer::wants_start_time`]); else `None`.
    pub started: Option<SystemTime>,
}

/// A request whose signature was refused (answered 401), before the answer.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct SignatureFailureSeen<'a> {
    /// The source's tenant.
    pub tenant: &'a TenantId,
    /// The source (a configured one).
    pub source: &'a str,
    /// Why the signature was refused.
    pub reason: SignatureFailureReason,
    /// Whether a record of it was stored: `false` when the source's records of this minute
    /// were used up (see [`crate::ingest::sig_failure`]) or the store failed; such a refusal
    /// is only counted.
    pub recorded: bool,
}

/// An ingest request an adapter refused before the pipeline ran (an unknown source, or a
/// body over the limit or unreadable).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RefusedSeen<'a> {
    /// The tenant the request was for.
    pub tenant: &'a TenantId,
    /// The source name from the URL.
    pub source: &'a str,
    /// Whether `source` names a configured source.
    pub source_known: bool,
    /// The request id (`x-request-id`).
    pub request_id: &'a str,
    /// The answer.
    pub outcome: &'a IngestOutcome,
}

/// A delivery attempt that finished, with the decision about its delivery (not yet
/// recorded in the store).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttemptSeen<'a> {
    /// The delivery's tenant.
    pub tenant: &'a TenantId,
    /// The event delivered.
    pub event: EventId,
    /// The delivery (its `webhook-id`).
    pub delivery: DeliveryId,
    /// The destination's name.
    pub destination: &'a str,
    /// The route that made the delivery.
    pub route: &'a str,
    /// The attempt's number, from 1 (`x-relay-attempt`).
    pub number: u32,
    /// What the attempt means for the delivery.
    pub outcome: AttemptOutcome,
    /// The HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// Why the attempt failed, if it did.
    pub error: Option<&'a str>,
    /// How long the attempt took (transform, send, answer).
    pub elapsed: Duration,
    /// The attempt's span id (the one its `traceparent` header carries).
    pub span: u64,
    /// The wall-clock start, when an observer asked for it (see
    /// [`Observer::wants_start_time`]); else `None`.
    pub started: Option<SystemTime>,
}

/// An attempt's result as the store recorded it: the delivery is now delivered, waiting for
/// its next attempt, or dead-lettered.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct AttemptRecorded<'a> {
    /// The delivery's tenant.
    pub tenant: &'a TenantId,
    /// The event delivered.
    pub event: EventId,
    /// The delivery.
    pub delivery: DeliveryId,
    /// The destination's name.
    pub destination: &'a str,
    /// The route that made the delivery.
    pub route: &'a str,
    /// The attempt's number, from 1.
    pub number: u32,
    /// Where the delivery stands now.
    pub outcome: AttemptOutcome,
    /// From the event's receipt to the end of this attempt.
    pub since_received: Duration,
}

/// A destination's circuit as this process saw it, or just moved it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct CircuitSeen<'a> {
    /// The destination's tenant.
    pub tenant: &'a TenantId,
    /// The destination's name.
    pub destination: &'a str,
    /// Its phase now.
    pub phase: CircuitPhase,
    /// The phase this process moved it from, when it just changed it; `None` when the
    /// phase was only read (or written unchanged).
    pub changed_from: Option<CircuitPhase>,
}

/// What observes the pipeline. Every method has an empty default: implement those you need.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use relay_core::ingest::IngestOutcome;
/// use relay_core::observe::{IngestSeen, Observer};
///
/// /// Counts the events accepted.
/// #[derive(Default)]
/// struct Accepted(AtomicU64);
///
/// impl Observer for Accepted {
///     fn on_ingest(&self, ingest: &IngestSeen<'_>) {
///         if matches!(ingest.outcome, IngestOutcome::Accepted { .. }) {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use relay_core::{Relay, ingest::IngestRequest, ingest::signature::NoSignature, ingest::source::WebhookSource};
/// let accepted = Arc::new(Accepted::default());
/// let relay = Relay::builder()
///     .source(WebhookSource::new("forms", NoSignature))
///     .observer(Arc::clone(&accepted))
///     .build()
///     .unwrap();
/// let request = IngestRequest::new("forms", http::HeaderMap::new(), "{}");
/// relay.ingest(request).await;
/// assert_eq!(accepted.0.load(Ordering::Relaxed), 1);
/// # }
/// ```
pub trait Observer: Send + Sync + 'static {
    /// Whether this observer needs the wall-clock start of ingests and attempts
    /// ([`IngestSeen::started`], [`AttemptSeen::started`]). Asked once, when the relay is
    /// built; when no observer needs it, the pipeline does not read the clock for it.
    fn wants_start_time(&self) -> bool {
        false
    }

    /// The pipeline answered an ingest request (any outcome).
    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        let _ = ingest;
    }

    /// An adapter refused an ingest request before the pipeline ran.
    fn on_refused(&self, refused: &RefusedSeen<'_>) {
        let _ = refused;
    }

    /// The pipeline refused a request's signature (called before
    /// [`on_ingest`](Self::on_ingest) sees its 401).
    fn on_signature_failure(&self, failure: &SignatureFailureSeen<'_>) {
        let _ = failure;
    }

    /// A delivery attempt finished (called before its result is recorded).
    fn on_attempt(&self, attempt: &AttemptSeen<'_>) {
        let _ = attempt;
    }

    /// The store recorded an attempt's result (not called when recording failed).
    fn on_attempt_recorded(&self, recorded: &AttemptRecorded<'_>) {
        let _ = recorded;
    }

    /// The pipeline paused a destination (`reason` says why, e.g. it answered 410 Gone).
    fn on_destination_disabled(&self, tenant: &TenantId, destination: &str, reason: &str) {
        let _ = (tenant, destination, reason);
    }

    /// A destination's circuit was read before an attempt, or moved after one.
    fn on_circuit(&self, circuit: &CircuitSeen<'_>) {
        let _ = circuit;
    }

    /// A delivery worker of `tenant`'s relay leased these deliveries (empty: none was due).
    fn on_lease_round(&self, tenant: &TenantId, leased: &[LeasedDelivery]) {
        let _ = (tenant, leased);
    }

    /// A delivery worker counted the deliveries pending or in flight in the store.
    fn on_queue_depth(&self, depth: u64) {
        let _ = depth;
    }

    /// `agent`, which a destination of `tenant` is bound to, has been connected to no node
    /// for `offline_for` (looked at every few seconds by a delivery worker).
    fn on_agent_offline(&self, tenant: &TenantId, agent: &str, offline_for: Duration) {
        let _ = (tenant, agent, offline_for);
    }
}

impl<T: Observer + ?Sized> Observer for Arc<T> {
    fn wants_start_time(&self) -> bool {
        (**self).wants_start_time()
    }
    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        (**self).on_ingest(ingest);
    }
    fn on_refused(&self, refused: &RefusedSeen<'_>) {
        (**self).on_refused(refused);
    }
    fn on_signature_failure(&self, failure: &SignatureFailureSeen<'_>) {
        (**self).on_signature_failure(failure);
    }
    fn on_attempt(&self, attempt: &AttemptSeen<'_>) {
        (**self).on_attempt(attempt);
    }
    fn on_attempt_recorded(&self, recorded: &AttemptRecorded<'_>) {
        (**self).on_attempt_recorded(recorded);
    }
    fn on_destination_disabled(&self, tenant: &TenantId, destination: &str, reason: &str) {
        (**self).on_destination_disabled(tenant, destination, reason);
    }
    fn on_circuit(&self, circuit: &CircuitSeen<'_>) {
        (**self).on_circuit(circuit);
    }
    fn on_lease_round(&self, tenant: &TenantId, leased: &[LeasedDelivery]) {
        (**self).on_lease_round(tenant, leased);
    }
    fn on_queue_depth(&self, depth: u64) {
        (**self).on_queue_depth(depth);
    }
    fn on_agent_offline(&self, tenant: &TenantId, agent: &str, offline_for: Duration) {
        (**self).on_agent_offline(tenant, agent, offline_for);
    }
}

/// A relay's observers, called in order; itself an [`Observer`]. Cheap to clone (shared).
#[derive(Clone, Default)]
pub(crate) struct Observers {
    list: Arc<[Arc<dyn Observer>]>,
    start_time: bool,
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observers")
            .field("count", &self.list.len())
            .field("start_time", &self.start_time)
            .finish()
    }
}

impl Observers {
    /// These observers, in this order.
    pub(crate) fn new(list: Vec<Arc<dyn Observer>>) -> Self {
        let start_time = list.iter().any(|o| o.wants_start_time());
        Self {
            list: list.into(),
            start_time,
        }
    }

    /// The wall-clock time now, when an observer wants start times.
    pub(crate) fn start_time(&self) -> Option<SystemTime> {
        self.start_time.then(SystemTime::now)
    }
}

impl Observer for Observers {
    fn wants_start_time(&self) -> bool {
        self.start_time
    }
    fn on_ingest(&self, ingest: &IngestSeen<'_>) {
        self.list.iter().for_each(|o| o.on_ingest(ingest));
    }
    fn on_refused(&self, refused: &RefusedSeen<'_>) {
        self.list.iter().for_each(|o| o.on_refused(refused));
    }
    fn on_signature_failure(&self, failure: &SignatureFailureSeen<'_>) {
        (self.list.iter()).for_each(|o| o.on_signature_failure(failure));
    }
    fn on_attempt(&self, attempt: &AttemptSeen<'_>) {
        self.list.iter().for_each(|o| o.on_attempt(attempt));
    }
    fn on_attempt_recorded(&self, recorded: &AttemptRecorded<'_>) {
        self.list
            .iter()
            .for_each(|o| o.on_attempt_recorded(recorded));
    }
    fn on_destination_disabled(&self, tenant: &TenantId, destination: &str, reason: &str) {
        (self.list.iter()).for_each(|o| o.on_destination_disabled(tenant, destination, reason));
    }
    fn on_circuit(&self, circuit: &CircuitSeen<'_>) {
        self.list.iter().for_each(|o| o.on_circuit(circuit));
    }
    fn on_lease_round(&self, tenant: &TenantId, leased: &[LeasedDelivery]) {
        self.list
            .iter()
            .for_each(|o| o.on_lease_round(tenant, leased));
    }
    fn on_queue_depth(&self, depth: u64) {
        self.list.iter().for_each(|o| o.on_queue_depth(depth));
    }
    fn on_agent_offline(&self, tenant: &TenantId, agent: &str, offline_for: Duration) {
        (self.list.iter()).for_each(|o| o.on_agent_offline(tenant, agent, offline_for));
    }
}

#[cfg(test)]
mod tests;
