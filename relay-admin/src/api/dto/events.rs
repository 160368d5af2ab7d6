//! Events, their deliveries and attempts, dead letters and replay: items, requests and
//! query parameters.

use relay_core::control::admin::EventSummary;
use relay_core::model::event::Delivery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{StateParam, time};

/// Deliveries of an event by status.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsItem {
    /// Waiting for an attempt.
    pub pending: u32,
    /// Being attempted.
    pub in_flight: u32,
    /// Delivered.
    pub delivered: u32,
    /// Dead-lettered.
    pub dead_lettered: u32,
    /// Discarded dead letters.
    pub discarded: u32,
}

/// An event in a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventItem {
    /// `evt_…`.
    pub id: String,
    /// The source it came in through.
    pub source: String,
    /// Its type.
    pub event_type: String,
    /// Its idempotency key.
    pub idempotency_key: String,
    /// When it was accepted (RFC 3339).
    pub received_at: String,
    /// `no_route`, `pending`, `delivered` or `dead_lettered`.
    pub state: String,
    /// Its deliveries by status.
    pub counts: CountsItem,
}

impl From<EventSummary> for EventItem {
    fn from(s: EventSummary) -> Self {
        let c = s.deliveries;
        Self {
            id: s.id.to_string(),
            state: s.state().as_str().to_owned(),
            source: s.source,
            event_type: s.event_type,
            idempotency_key: s.idempotency_key,
            received_at: time(s.received_at),
            counts: CountsItem {
                pending: c.pending,
                in_flight: c.in_flight,
                delivered: c.delivered,
                dead_lettered: c.dead_lettered,
                discarded: c.discarded,
            },
        }
    }
}

pub use crate::api::attempt_dto::AttemptItem;

/// A delivery: an event to one destination.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryItem {
    /// `msg_…` (the `webhook-id` sent).
    pub id: String,
    /// Its event.
    pub event_id: String,
    /// The destination.
    pub destination: String,
    /// The route that planned it.
    pub route: String,
    /// `pending`, `in_flight`, `delivered`, `dead_lettered` or `discarded`.
    pub status: String,
    /// Attempts so far.
    pub attempts: u32,
    /// When it is due next (RFC 3339).
    pub next_attempt_at: String,
    /// The last attempt's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was last updated (RFC 3339).
    pub updated_at: String,
    /// Every attempt (in event details only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_log: Option<Vec<AttemptItem>>,
    /// Why a pending delivery is held, in words: its destination is disabled (by whom, why,
    /// when), its circuit is open (since when, why), or its agent is offline (in event
    /// details only; absent when nothing holds it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    /// The event's source (in dead-letter listings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The event's type (in dead-letter listings only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
}

impl From<Delivery> for DeliveryItem {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            event_id: d.event_id.to_string(),
            destination: d.destination,
            route: d.route,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: time(d.next_attempt_at),
            last_error: d.last_error,
            updated_at: time(d.updated_at),
            attempt_log: None,
            waiting: None,
            source: None,
            event_type: None,
        }
    }
}

/// One header of a stored event (signature and credential values redacted).
#[derive(Debug, Serialize, ToSchema)]
pub struct HeaderItem {
    /// Lower-case name.
    pub name: String,
    /// Value, or `[redacted]`.
    pub value: String,
}

/// An event with its payload, headers, deliveries and attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetailItem {
    /// The event.
    #[serde(flatten)]
    pub event: EventItem,
    /// Headers as received, signatures redacted.
    pub headers: Vec<HeaderItem>,
    /// The body as JSON when it is JSON (any JSON value; a form as an object).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    /// The body as text (lossy UTF-8), when it is not JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// Deliveries with their attempt logs.
    pub deliveries: Vec<DeliveryItem>,
}

/// `POST /events/{id}/replay`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Also send to destinations that already have the event.
    #[serde(default)]
    pub force: bool,
}

/// What a replay scheduled.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResult {
    /// Deliveries due now.
    pub scheduled: Vec<String>,
    /// Destinations skipped (already delivered, or in flight).
    pub skipped: Vec<String>,
}

/// Which dead letters a bulk operation applies to. Empty matches all.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterSelection {
    /// Only deliveries to this destination.
    pub destination: Option<String>,
    /// Only deliveries of events from this source.
    pub source: Option<String>,
    /// Only deliveries of this event.
    #[schema(pattern = "^evt_[0-9a-f]{32}$")]
    pub event_id: Option<String>,
    /// Only dead letters updated at or after this time (RFC 3339).
    #[schema(format = DateTime)]
    pub since: Option<String>,
}

/// How many dead letters an operation moved.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountResult {
    /// How many.
    pub count: u64,
}

/// Query of `GET /events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only from this source.
    pub source: Option<String>,
    /// Only of these types: a glob as routes take (`order.*`; `*` matches any run of
    /// characters), the exact type without `*`.
    pub event_type: Option<String>,
    /// Only events in this state.
    #[param(inline)]
    pub state: Option<StateParam>,
    /// Only events with a delivery to this destination.
    pub destination: Option<String>,
    /// Only events with an attempt the receiver answered with this HTTP status (100 to 599).
    #[param(minimum = 100, maximum = 599)]
    pub status: Option<u16>,
    /// Received at or after (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Received before (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
    /// Finds events by id: the event's id (`evt_…`) or one of its deliveries' ids (`msg_…`)
    /// starts with it, or its idempotency key contains it.
    pub q: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^evt_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Page size (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// Query of `GET /dead-letters`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterParams {
    /// Only to this destination.
    pub destination: Option<String>,
    /// Only from this source.
    pub source: Option<String>,
    /// Only of this event.
    #[param(pattern = "^evt_[0-9a-f]{32}$")]
    pub event_id: Option<String>,
    /// Dead-lettered at or after (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^msg_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Page size (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}
