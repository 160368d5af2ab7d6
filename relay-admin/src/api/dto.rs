//! The admin API's JSON shapes (documented in the OpenAPI description).

use relay_core::control::admin::{ApiKeyRecord, AuditEntry, EventSummary, MetricPoint, UserRecord};
use relay_core::model::event::{Attempt, Delivery};
use relay_core::model::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// RFC 3339 with milliseconds, UTC.
pub(crate) fn time(at: Timestamp) -> String {
    let millis = u64::try_from(at.as_millis()).unwrap_or(0);
    let system = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
    humantime::format_rfc3339_millis(system).to_string()
}

/// Parses an RFC 3339 time (any offset).
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let at =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    let millis = at.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(millis).ok().map(Timestamp::from_millis)
}

/// An event's state, as a filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StateParam {
    /// No route matched.
    NoRoute,
    /// Some delivery is pending or in flight.
    Pending,
    /// Every delivery was delivered.
    Delivered,
    /// Nothing pending, some delivery dead-lettered.
    DeadLettered,
}

impl StateParam {
    /// The state it names.
    pub fn into_state(self) -> relay_core::control::admin::EventState {
        use relay_core::control::admin::EventState;
        match self {
            Self::NoRoute => EventState::NoRoute,
            Self::Pending => EventState::Pending,
            Self::Delivered => EventState::Delivered,
            Self::DeadLettered => EventState::DeadLettered,
        }
    }
}

/// A role, in requests.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleParam {
    /// Reads everything but secrets.
    Viewer,
    /// Also replays, redrives, discards, enables and disables.
    Operator,
    /// Also manages keys and users.
    Admin,
}

impl From<RoleParam> for relay_core::control::admin::Role {
    fn from(role: RoleParam) -> Self {
        match role {
            RoleParam::Viewer => Self::Viewer,
            RoleParam::Operator => Self::Operator,
            RoleParam::Admin => Self::Admin,
        }
    }
}

/// A metric scope, as a filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeParam {
    /// The whole gateway.
    Gateway,
    /// One source.
    Source,
    /// One destination.
    Destination,
}

/// A page of items and the cursor of the next page (absent on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

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

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptItem {
    /// 1 for the first.
    pub number: u32,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// How long it took.
    pub latency_ms: u32,
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
}

impl From<Attempt> for AttemptItem {
    fn from(a: Attempt) -> Self {
        Self {
            number: a.number,
            started_at: time(a.started_at),
            latency_ms: a.latency_ms,
            status_code: a.status_code,
            error: a.error,
            response_excerpt: a.response_excerpt,
            outcome: a.outcome.as_str().to_owned(),
        }
    }
}

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

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    /// `aud_…`.
    pub id: String,
    /// When (RFC 3339).
    pub at: String,
    /// `key:<id>`, `user:<name>` or `system`.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// The kind of object.
    pub object_kind: String,
    /// The object's name or id.
    pub object_id: String,
    /// Field-level changes; secrets appear only as `[redacted]`.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<relay_core::control::admin::FieldChange>,
    /// The client address the change came from (behind a trusted proxy, the one it reports);
    /// `null` for the system's own entries and entries made before addresses were kept.
    pub client: Option<String>,
}

impl From<AuditEntry> for AuditItem {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id.to_string(),
            at: time(e.at),
            actor: e.actor,
            action: e.action,
            object_kind: e.object_kind,
            object_id: e.object_id,
            changes: e.changes,
            client: e.client.map(|ip| ip.to_string()),
        }
    }
}

/// Query of `GET /audit`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only about this kind of object.
    pub object_kind: Option<String>,
    /// Only about this object.
    pub object_id: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^aud_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Page size (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// Query of `GET /metrics/points`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricParams {
    /// From (RFC 3339; default: an hour ago).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// To (RFC 3339; default: now).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Only this scope.
    #[param(inline)]
    pub scope: Option<ScopeParam>,
    /// A source or destination name.
    pub name: Option<String>,
}

/// One per-minute metric value.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointItem {
    /// The minute (RFC 3339).
    pub minute: String,
    /// `gateway`, `source` or `destination`.
    pub scope: String,
    /// The source or destination (empty for the gateway).
    pub name: String,
    /// e.g. `received`, `delivered`, `latency_le_100`.
    pub metric: String,
    /// The value.
    pub value: i64,
}

impl From<MetricPoint> for PointItem {
    fn from(p: MetricPoint) -> Self {
        Self {
            minute: time(p.minute),
            scope: p.scope.as_str().to_owned(),
            name: p.name,
            metric: p.metric,
            value: p.value,
        }
    }
}

/// Per-minute points and their summary.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsReport {
    /// The points, by minute.
    pub points: Vec<PointItem>,
    /// Totals per metric.
    #[schema(value_type = Object)]
    pub totals: std::collections::BTreeMap<String, i64>,
    /// delivered / (delivered + dead-lettered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
    /// Median delivery latency (bucket bound), ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p50_ms: Option<u64>,
    /// 95th percentile delivery latency, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p95_ms: Option<u64>,
    /// 99th percentile delivery latency, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p99_ms: Option<u64>,
    /// Deliveries pending or in flight, as of the latest minute with a `queue_depth` point
    /// (a gauge, not in `totals`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_depth: Option<i64>,
}

/// `POST /auth/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
    /// The user's tenant (default: `default`).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub tenant: Option<String>,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// Who is logged in.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// `key:<id>` or `user:<name>`.
    pub actor: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// The tenant.
    pub tenant: String,
}

/// `POST /api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyRequest {
    /// A label.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// What the key may do.
    pub role: RoleParam,
}

/// An API key (the token only in the answer to its creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyItem {
    /// `key_…`.
    pub id: String,
    /// The label.
    pub name: String,
    /// The role.
    pub role: String,
    /// When made (RFC 3339).
    pub created_at: String,
    /// Who made it.
    pub created_by: String,
    /// When revoked (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// The bearer token: shown once, at creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<ApiKeyRecord> for KeyItem {
    fn from(k: ApiKeyRecord) -> Self {
        Self {
            id: k.id,
            name: k.name,
            role: k.role.as_str().to_owned(),
            created_at: time(k.created_at),
            created_by: k.created_by,
            revoked_at: k.revoked_at.map(time),
            token: None,
        }
    }
}

/// `POST /users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    /// Login name.
    #[schema(pattern = "^[A-Za-z0-9._@-]{1,64}$")]
    pub username: String,
    /// At least 12 characters.
    #[schema(min_length = 12)]
    pub password: String,
    /// What the user may do.
    pub role: RoleParam,
}

/// A dashboard user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserItem {
    /// Login name.
    pub username: String,
    /// The role.
    pub role: String,
    /// When made (RFC 3339).
    pub created_at: String,
    /// Until when logins are refused (RFC 3339), after repeated failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
}

impl From<UserRecord> for UserItem {
    fn from(u: UserRecord) -> Self {
        Self {
            username: u.username,
            role: u.role.as_str().to_owned(),
            created_at: time(u.created_at),
            locked_until: u.locked_until.map(time),
        }
    }
}
