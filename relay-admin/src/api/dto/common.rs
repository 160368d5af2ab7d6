//! What the other shapes share: times as text, the filters' enums (state, role, scope) and
//! a page of items.

use relay_core::model::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
