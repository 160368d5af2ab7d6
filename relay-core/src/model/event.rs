//! The stored records: events, deliveries and attempts.

use bytes::Bytes;
use http::HeaderMap;

use crate::model::attempt_detail::AttemptDetail;
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::payload::Payload;
use crate::model::time::Timestamp;

/// What happened to an event at ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// At least one route matched; deliveries were created.
    Routed,
    /// No route matched: stored, visible, replayable once a route exists.
    NoRoute,
}

impl EventStatus {
    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Routed => "routed",
            Self::NoRoute => "no_route",
        }
    }

    /// Parses [`EventStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "routed" => Some(Self::Routed),
            "no_route" => Some(Self::NoRoute),
            _ => None,
        }
    }
}

/// One accepted inbound webhook, exactly as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The owning tenant.
    pub tenant: TenantId,
    /// The event's id.
    pub id: EventId,
    /// The source it arrived on.
    pub source: String,
    /// Its event type (`unknown` when the source could not tell).
    pub event_type: String,
    /// The key it was deduplicated by.
    pub idempotency_key: String,
    /// The inbound request headers.
    pub headers: HeaderMap,
    /// The raw body bytes, exactly as received.
    pub body: Bytes,
    /// When it was accepted.
    pub received_at: Timestamp,
    /// Whether it was routed.
    pub status: EventStatus,
}

impl Event {
    /// The payload understood from the body (JSON, form as JSON, or raw).
    pub fn payload(&self) -> Payload {
        Payload::parse(&self.headers, &self.body)
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (first or retry) at `next_attempt_at`.
    Pending,
    /// Leased by a worker that is attempting it now.
    InFlight,
    /// The destination acknowledged it.
    Delivered,
    /// Given up on; waits in the dead-letter queue for a redrive.
    DeadLettered,
    /// A dead letter an operator discarded: final, never attempted or redriven again.
    Discarded,
}

impl DeliveryStatus {
    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "in_flight",
            Self::Delivered => "delivered",
            Self::DeadLettered => "dead_lettered",
            Self::Discarded => "discarded",
        }
    }

    /// Parses [`DeliveryStatus::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(Self::Pending),
            "in_flight" => Some(Self::InFlight),
            "delivered" => Some(Self::Delivered),
            "dead_lettered" => Some(Self::DeadLettered),
            "discarded" => Some(Self::Discarded),
            _ => None,
        }
    }
}

/// One event on its way to one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The owning tenant.
    pub tenant: TenantId,
    /// The delivery's id, sent as `webhook-id` on every attempt.
    pub id: DeliveryId,
    /// The event delivered.
    pub event_id: EventId,
    /// The destination's name.
    pub destination: String,
    /// The route that planned it (its transformer applies).
    pub route: String,
    /// The ordering key it was queued under, if any (see [`ordering`](crate::deliver::ordering)).
    pub ordering_key: Option<String>,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made so far, ever (the next attempt's `x-relay-attempt` is this + 1).
    pub attempts: u32,
    /// Attempts since it was last (re)scheduled: what the retry budget counts.
    pub cycle_attempts: u32,
    /// When it is due (for `Pending`) or when its lease expires (for `InFlight`).
    pub next_attempt_at: Timestamp,
    /// The last failure's reason, if any.
    pub last_error: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// What an attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The destination acknowledged it.
    Delivered,
    /// It failed and another attempt is scheduled.
    Retrying,
    /// It failed and the delivery was dead-lettered.
    DeadLettered,
}

impl AttemptOutcome {
    /// The stable name used in storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retrying => "retrying",
            Self::DeadLettered => "dead_lettered",
        }
    }

    /// Parses [`AttemptOutcome::as_str`]'s output.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "delivered" => Some(Self::Delivered),
            "retrying" => Some(Self::Retrying),
            "dead_lettered" => Some(Self::DeadLettered),
            _ => None,
        }
    }
}

/// One try at delivering, kept forever in the attempt log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The delivery attempted.
    pub delivery_id: DeliveryId,
    /// 1 for the first attempt (the `x-relay-attempt` header sent).
    pub number: u32,
    /// When it started.
    pub started_at: Timestamp,
    /// How long it took, in milliseconds.
    pub latency_ms: u32,
    /// The HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// Why it failed, when it did (`timeout`, `connect`, `transform: …`, …).
    pub error: Option<String>,
    /// The start of the response body, for debugging (capped).
    pub response_excerpt: Option<String>,
    /// What it led to.
    pub outcome: AttemptOutcome,
    /// The request sent and the response's headers, for debugging.
    pub detail: AttemptDetail,
}
