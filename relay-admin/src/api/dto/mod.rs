//! The admin API's JSON shapes (documented in the OpenAPI description), by subject.

mod access;
mod common;
mod events;
mod reports;

pub use access::{KeyItem, LoginRequest, NewKeyRequest, NewUserRequest, UserItem, WhoAmI};
pub use common::{Page, RoleParam, ScopeParam, StateParam};
pub(crate) use common::{parse_time, time};
pub use events::{
    AttemptItem, CountResult, CountsItem, DeadLetterParams, DeadLetterSelection, DeliveryItem,
    EventDetailItem, EventItem, EventParams, HeaderItem, ReplayRequest, ReplayResult,
};
pub use reports::{AuditItem, AuditParams, MetricParams, MetricsReport, PointItem};
