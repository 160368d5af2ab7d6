//! What the admin side of a store keeps: API keys, users, sessions, the audit log, metric
//! points, and the queries that browse events and dead letters.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Role;
use crate::model::event::{DeliveryStatus, EventStatus};
use crate::model::ids::{AuditId, EventId, TenantId};
use crate::model::time::Timestamp;

/// A stored API key. The key's secret part is kept only as its SHA-256 digest.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The public part of the key (`key_…`), shown in listings and the audit log.
    pub id: String,
    /// The tenant the key belongs to.
    pub tenant: TenantId,
    /// A label for people.
    pub name: String,
    /// What the key may do.
    pub role: Role,
    /// SHA-256 of the key's secret part.
    pub secret_hash: Vec<u8>,
    /// When it was made.
    pub created_at: Timestamp,
    /// Who made it.
    pub created_by: String,
    /// When it was revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<Timestamp>,
}

impl std::fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("secret_hash", &"[redacted]")
            .field("created_at", &self.created_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

/// A stored dashboard user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The tenant the user belongs to.
    pub tenant: TenantId,
    /// The login name (unique per tenant).
    pub username: String,
    /// What the user may do.
    pub role: Role,
    /// The argon2id hash of the password, as a PHC string.
    pub password_hash: String,
    /// When the user was made.
    pub created_at: Timestamp,
    /// Consecutive failed logins since the last success.
    pub failed_logins: u32,
    /// Until when logins are refused, after too many failures.
    pub locked_until: Option<Timestamp>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("tenant", &self.tenant)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("password_hash", &"[redacted]")
            .field("failed_logins", &self.failed_logins)
            .field("locked_until", &self.locked_until)
            .finish()
    }
}

/// A dashboard session. The cookie carries the token; the store keeps its SHA-256 digest.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// SHA-256 of the session token.
    pub token_hash: Vec<u8>,
    /// The user's tenant.
    pub tenant: TenantId,
    /// The user it authenticates.
    pub username: String,
    /// When the session began.
    pub created_at: Timestamp,
    /// When it ends.
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("token_hash", &"[redacted]")
            .field("tenant", &self.tenant)
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// One changed field in an audit entry. Secret fields carry `"[redacted]"` markers, never
/// values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    /// The field's path, e.g. `settings.retry.max_attempts` or `secrets[1]`.
    pub field: String,
    /// The value before (absent for a new field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// The value after (absent for a removed field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

/// One append-only audit-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its id (time-ordered).
    pub id: AuditId,
    /// The tenant whose object changed.
    pub tenant: TenantId,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it: `key:<id>`, `user:<name>`, `system` or `config`.
    pub actor: String,
    /// What was done: `create`, `update`, `delete`, `enable`, `disable`, `revoke`,
    /// `rotate_secret`, `replay` (also of dead letters; entries written as `redrive` before
    /// read as `replay`), `discard`, `lock` (a username, or a client
    /// address: object kind `client`), `sig_failed`, ….
    pub action: String,
    /// The kind of object: `source`, `destination`, `route`, `api_key`, `user`, `event`,
    /// `dead_letters`.
    pub object_kind: String,
    /// The object's name or id.
    pub object_id: String,
    /// The field-level diff (empty when the action has none).
    pub changes: Vec<FieldChange>,
    /// The address of the client that made the change (behind a trusted proxy, the address it
    /// reports), when known; `None` for the system's own entries and entries stored before
    /// addresses were kept.
    pub client: Option<std::net::IpAddr>,
}

/// Which audit entries to list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries about this kind of object.
    pub object_kind: Option<String>,
    /// Only entries about this object.
    pub object_id: Option<String>,
    /// Only entries of this action (`replay`, `discard`, …). Entries stored under the
    /// action's older word (`redrive`) read as `replay` since the stores' migration rewrote
    /// them, so `replay` finds them.
    pub action: Option<String>,
    /// Only entries older than this one (the cursor of the previous page).
    pub before: Option<AuditId>,
}

/// An event's state as a whole, derived from its deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// No route matched; nothing to deliver.
    NoRoute,
    /// Some delivery is pending or in flight.
    Pending,
    /// Every delivery was delivered (or discarded).
    Delivered,
    /// Nothing is pending and some delivery is dead-lettered.
    DeadLettered,
}

impl EventState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoRoute => "no_route",
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::DeadLettered => "dead_lettered",
        }
    }

    /// The state of an event with status `status` and these delivery counts.
    pub fn of(status: EventStatus, counts: &DeliveryCounts) -> Self {
        if status == EventStatus::NoRoute && counts.total() == 0 {
            Self::NoRoute
        } else if counts.pending + counts.in_flight > 0 {
            Self::Pending
        } else if counts.dead_lettered > 0 {
            Self::DeadLettered
        } else {
            Self::Delivered
        }
    }
}

/// How many of an event's deliveries are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryCounts {
    /// Waiting for an attempt.
    pub pending: u32,
    /// Being attempted.
    pub in_flight: u32,
    /// Delivered.
    pub delivered: u32,
    /// Dead-lettered.
    pub dead_lettered: u32,
    /// Dead letters an operator discarded.
    pub discarded: u32,
}

impl DeliveryCounts {
    /// Counts one delivery in `status`.
    pub fn add(&mut self, status: DeliveryStatus) {
        match status {
            DeliveryStatus::Pending => self.pending += 1,
            DeliveryStatus::InFlight => self.in_flight += 1,
            DeliveryStatus::Delivered => self.delivered += 1,
            DeliveryStatus::DeadLettered => self.dead_lettered += 1,
            DeliveryStatus::Discarded => self.discarded += 1,
        }
    }

    /// All deliveries.
    pub fn total(&self) -> u32 {
        self.pending + self.in_flight + self.delivered + self.dead_lettered + self.discarded
    }
}

/// Which events to list, newest first. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only events from this source.
    pub source: Option<String>,
    /// Only events of these types: a [glob](crate::route::Glob) as routes take (`order.*`:
    /// `*` matches any run of characters), so without `*` the exact type.
    pub event_type: Option<String>,
    /// Only events in this state.
    pub state: Option<EventState>,
    /// Only events received at or after this time.
    pub since: Option<Timestamp>,
    /// Only events received before this time.
    pub until: Option<Timestamp>,
    /// Only events whose idempotency key contains this text (case-sensitive).
    pub key_contains: Option<String>,
    /// Only events older than this one (the cursor of the previous page).
    pub before: Option<EventId>,
    /// Only events this text finds: the event's id (`evt_…`) or the id of one of its
    /// deliveries (`msg_…`) starts with it, or its idempotency key contains it
    /// (case-sensitive). Text that is exactly the id of one of the tenant's events or
    /// deliveries finds that event alone, by a key lookup in the store; other text is
    /// matched against every event.
    pub text: Option<String>,
    /// Only events with a delivery to this destination.
    pub destination: Option<String>,
    /// Only events with an attempt the receiver answered with this HTTP status.
    pub response_status: Option<u16>,
}

/// An event in a listing: no headers, no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSummary {
    /// Its id.
    pub id: EventId,
    /// Its source.
    pub source: String,
    /// Its type.
    pub event_type: String,
    /// Its idempotency key.
    pub idempotency_key: String,
    /// When it was accepted.
    pub received_at: Timestamp,
    /// Routed or not.
    pub status: EventStatus,
    /// Its deliveries by status.
    pub deliveries: DeliveryCounts,
}

impl EventSummary {
    /// The event's state as a whole.
    pub fn state(&self) -> EventState {
        EventState::of(self.status, &self.deliveries)
    }
}

/// What a metric point is counted over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricScope {
    /// The whole gateway (name `""`).
    Gateway,
    /// One source.
    Source,
    /// One destination.
    Destination,
}

impl MetricScope {
    /// The scope's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gateway => "gateway",
            Self::Source => "source",
            Self::Destination => "destination",
        }
    }

    /// The scope named `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Gateway, Self::Source, Self::Destination]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// How a sample combines with a stored point of the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricMerge {
    /// Counters: added (several nodes' counts sum up).
    Add,
    /// Gauges: the larger value stays.
    Max,
}

/// One stored per-minute value: `metric` of `(scope, name)` in the minute starting at
/// `minute`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricPoint {
    /// The first millisecond of the minute.
    pub minute: Timestamp,
    /// What it is counted over.
    pub scope: MetricScope,
    /// The source or destination name (`""` for the gateway).
    pub name: String,
    /// The metric, e.g. `received`, `delivered`, `latency_le_100ms`.
    pub metric: String,
    /// Its value.
    pub value: i64,
}

/// Which metric points to read: `from <= minute < to`, optionally one scope and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// The first minute.
    pub from: Timestamp,
    /// The end (exclusive).
    pub to: Timestamp,
    /// Only this scope.
    pub scope: Option<MetricScope>,
    /// Only this source or destination name.
    pub name: Option<String>,
}
