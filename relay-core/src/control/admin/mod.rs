//! The admin side: roles, API keys, users and sessions, consumer-portal links, the audit log, metric points, and the
//! operations the admin API is made of. Adapters (relay-axum's admin router) only convert
//! HTTP to these calls.

mod access;
mod audit;
mod browse;
mod bulk_replay;
mod error;
pub(crate) mod lockout;
mod metric_flush;
mod password;
mod portal;
mod publish;
mod records;
mod replay;
mod role;
pub(crate) mod rollup;
mod tenants;
mod token;

pub use access::{
    Access, CreatedApiKey, LOCK_AFTER_FAILURES, Principal, SESSION_TTL, StartedSession,
};
pub use audit::{REDACTED, diff};
pub use browse::{EventDetail, Events, MAX_PAGE, redacted_headers};
pub use bulk_replay::{MAX_REPLAY_PAGE, ReplayPage, ReplayPageReport, ReplaySelection};
pub use error::{AdminError, FieldError};
pub use lockout::{LOCK_CLIENT_AFTER_FAILURES, LOCK_FOR};
pub use metric_flush::Metrics;
pub use password::{HashError, MIN_PASSWORD_LEN, hash_password, verify_password};
pub use portal::{
    CreatedPortalLink, MAX_PORTAL_LINK_TTL, PORTAL_ACTOR_PREFIX, PORTAL_LINK_TTL,
    PORTAL_SESSION_TTL, PortalLinkRecord, PortalSession,
};
pub use records::{
    ApiKeyRecord, AuditEntry, AuditQuery, DeliveryCounts, EventQuery, EventState, EventSummary,
    FieldChange, MetricMerge, MetricPoint, MetricQuery, MetricScope, SessionRecord, UserRecord,
};
pub use role::{Area, Role, UnknownRole};
pub use rollup::{
    DEAD_LETTERS_REPLAYED, LATENCY_BUCKETS_MS, MetricSummary, Percentile, QUEUE_DEPTH,
    SIG_FAILURES_DROPPED, latency_bucket, summarize,
};
pub use tenants::{TenantLimits, TenantRecord, Tenants};
pub use token::{
    NewApiKey, generate_api_key, generate_password, generate_session_token,
    generate_signing_secret, parse_api_key,
};

#[cfg(test)]
mod tests;
