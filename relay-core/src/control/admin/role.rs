//! Roles: what a key or a user may do.

use std::fmt;
use std::str::FromStr;

/// A principal's role. Each role may do everything the roles below it may:
/// `viewer < operator < admin`.
///
/// ```
/// use relay_core::control::admin::Role;
///
/// assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
/// assert_eq!("operator".parse::<Role>().unwrap(), Role::Operator);
/// assert!("root".parse::<Role>().is_err());
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything but secrets: events, deliveries, metrics, the audit log.
    Viewer,
    /// A viewer who may also replay, redrive and discard, and enable or disable objects.
    Operator,
    /// An operator who may also create, change and delete sources, destinations, routes,
    /// API keys and users.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not a role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?} (expected viewer, operator or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}
