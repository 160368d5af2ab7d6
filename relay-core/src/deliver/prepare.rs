//! Preparing an attempt's outbound message: when and as which attempt it starts, the route's
//! transformer's output for the destination, and Relay's signed outbound headers on it.

use std::time::{Instant, SystemTime};

use crate::catalog::Catalog;
use crate::deliver::destination::Destination;
use crate::deliver::policy::FailureKind;
use crate::model::event::{Delivery, Event};
use crate::model::payload::Payload;
use crate::model::time::Timestamp;
use crate::observe::Observers;
use crate::transform::{TransformInput, Transformed};
use crate::unwind;

use super::outbound::{OutboundContext, add_outbound_headers, attempt_span_id};

/// When, and as which attempt, an attempt started.
pub(super) struct Started {
    /// Stored as the attempt's `started_at`; its seconds are the `webhook-timestamp`.
    pub(super) at: Timestamp,
    /// Measures the attempt's latency.
    pub(super) clock: Instant,
    /// The wall-clock start, when an observer wants start times.
    pub(super) wall: Option<SystemTime>,
    /// The attempt's span id (`traceparent`).
    pub(super) span: u64,
    /// The attempt's number, 1 for the first (`x-relay-attempt`).
    pub(super) number: u32,
}

impl Started {
    /// Starts the clocks of `delivery`'s next attempt.
    pub(super) fn now(observers: &Observers, delivery: &Delivery) -> Self {
        let at = Timestamp::now();
        let clock = Instant::now();
        let (wall, span) = (observers.start_time(), attempt_span_id());
        Self {
            at,
            clock,
            wall,
            span,
            number: delivery.attempts + 1,
        }
    }
}

/// Shapes `event` for `destination` with the transformer of the delivery's route, or says why
/// it cannot: the route or its transformer no longer exists, the transformer failed
/// ([`FailureKind::Transform`]), or it panicked ([`FailureKind::TransformPanic`]: the panic is
/// contained to this attempt).
pub(super) fn transform(
    catalog: &Catalog,
    destination: &Destination,
    delivery: &Delivery,
    event: &Event,
) -> Result<Transformed, (FailureKind, String)> {
    let transformer = catalog.transformer_for_route(&delivery.route);
    // Parsing the body costs more than the rest of an identity attempt's CPU.
    let payload = match &transformer {
        Some(t) if !t.reads_payload() => Payload::Raw,
        _ => event.payload(),
    };
    let input = TransformInput {
        event,
        payload: &payload,
        destination: destination.name(),
    };
    let Some(transformer) = transformer else {
        let gone = format!(
            "route {:?} or its transformer no longer exists",
            delivery.route
        );
        return Err((FailureKind::Transform, gone));
    };
    match unwind::catch(|| transformer.transform(&input)) {
        Ok(shaped) => shaped.map_err(|e| (FailureKind::Transform, e.to_string())),
        Err(panic) => Err((
            FailureKind::TransformPanic,
            format!(
                "the transformer of route {:?} panicked: {panic}",
                delivery.route
            ),
        )),
    }
}

/// Adds the destination's forwarded inbound headers (those the transformer did not set) and
/// Relay's outbound headers to the transformer's output: `webhook-id`,
/// `webhook-timestamp`, `webhook-signature` (with the destination's secret, if it has one),
/// `x-relay-attempt`, `x-relay-event-type`, `x-relay-event-id` and `traceparent`.
pub(super) fn sign(
    outbound: &mut Transformed,
    destination: &Destination,
    delivery: &Delivery,
    event: &Event,
    started: &Started,
) {
    let context = OutboundContext {
        delivery: delivery.id,
        event: event.id,
        event_type: &event.event_type,
        attempt: started.number,
        span: started.span,
        timestamp: started.at.as_secs(),
        secret: destination.secret(),
    };
    (destination.forwarded_headers()).copy(&event.headers, &mut outbound.headers);
    add_outbound_headers(&mut outbound.headers, &context, &outbound.body);
}
