//! The admin side: roles, API keys, users and sessions, the audit log, metric points, and the
//! operations the admin API is made of. Adapters (relay-axum's admin router) only convert
//! HTTP to these calls.

mod records;
mod role;
mod store;

pub use records::{
    ApiKeyRecord, AuditEntry, AuditQuery, DeliveryCounts, EventQuery, EventState, EventSummary,
    FieldChange, MetricMerge, MetricPoint, MetricQuery, MetricScope, SessionRecord, UserRecord,
};
pub use role::{Role, UnknownRole};
pub use store::AdminStore;
