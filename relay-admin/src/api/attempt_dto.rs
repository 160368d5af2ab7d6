//! The attempt view's types: an attempt with the request it sent and the response it got
//! (built by [`attempt_view`](super::attempt_view)).

use serde::Serialize;
use utoipa::ToSchema;

/// One header of an attempt's request or response.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptHeaderItem {
    /// Lower-case name.
    pub name: String,
    /// Value, or `[redacted]` for signatures and credentials.
    pub value: String,
}

/// One attempt of a delivery, with what it sent and got back (the attempt view).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptItem {
    /// 1 for the first.
    pub number: u32,
    /// When it started (RFC 3339, to the millisecond).
    pub started_at: String,
    /// When it ended: `started_at` plus its latency (RFC 3339, ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// How long this attempt took, from its start to the end of the response (whole ms,
    /// rounded down: a receiver answering within a millisecond reads 0; see `latency_us`).
    /// Not the delivery latency of the overview, which runs from the event's receipt.
    pub latency_ms: u32,
    /// The same in microseconds (absent for attempts recorded before it was kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// The wait before this attempt, in ms: since the previous attempt ended, or, for the
    /// first, since the delivery was planned (when the event was received, for the
    /// deliveries planned at ingest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
    /// The HTTP status answered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The start of the response body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_excerpt: Option<String>,
    /// `delivered`, `retrying` or `dead_lettered`.
    pub outcome: String,
    /// The request as sent (absent when nothing was sent, e.g. a transformer failed, and for
    /// attempts recorded before requests were kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<AttemptRequestItem>,
    /// The response: status, headers, body excerpt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<AttemptResponseItem>,
    /// Set when this attempt followed a manual replay (the delivery had been delivered or
    /// dead-lettered): who replayed it, per the audit log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayMarkItem>,
}

/// The request an attempt sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptRequestItem {
    /// `POST` for an HTTP destination (absent for an in-process handler or an agent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL posted to, or `agent:<name>` for a destination behind an agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The headers as sent, in order; signature and credential values (`webhook-signature`,
    /// `authorization`, …) read `[redacted]`, `webhook-id`, `x-relay-*` and `content-type`
    /// are shown.
    pub headers: Vec<AttemptHeaderItem>,
    /// `event` when the event's payload was sent as received (see the event's `payload`),
    /// `transformed` when a transformer changed it (then `body` holds it).
    pub body_source: String,
    /// The body as sent (lossy UTF-8), when a transformer changed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The response an attempt got.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponseItem {
    /// The HTTP status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    /// The response headers (at most 32, each value at most 256 bytes; `set-cookie`
    /// redacted).
    pub headers: Vec<AttemptHeaderItem>,
    /// The start of the body (at most 4 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_excerpt: Option<String>,
}

/// A manual replay that led to an attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayMarkItem {
    /// The audit log's actor (`user:<name>`, `key:<id>`), or absent when no audit entry of
    /// the replay was found (pruned by retention).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The audit log's action (`replay`, `redrive`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// When it was replayed (RFC 3339, ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}
