//! Roles: what a key or a user may do.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A principal's role. The ranked roles each may do everything the roles below them may:
/// `viewer < operator < admin`. [`Role::Portal`] stands apart: it is ranked against none of
/// them and has only the rights [`Area::portal_may`] lists.
///
/// ```
/// use relay_core::control::admin::Role;
///
/// assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
/// assert_eq!("operator".parse::<Role>().unwrap(), Role::Operator);
/// assert!("root".parse::<Role>().is_err());
/// // The portal role is neither above nor below the ranked roles.
/// assert!(!(Role::Portal >= Role::Viewer) && !(Role::Portal <= Role::Viewer));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything but secrets: events, deliveries, metrics, the audit log.
    Viewer,
    /// A viewer who may also replay, redrive and discard, and enable or disable objects.
    Operator,
    /// An operator who may also create, change and delete sources, destinations, routes,
    /// API keys and users.
    Admin,
    /// A consumer-portal session (see [`Access::redeem_portal_link`](super::Access::redeem_portal_link)):
    /// manages its tenant's destinations and routes, reads its sources (never their secrets),
    /// reads, replays, redrives and discards its traffic. Nothing else: no API keys, users,
    /// audit log, metrics, agents, tenants, publishing or source changes.
    Portal,
}

impl Role {
    /// Every ranked role, lowest first ([`Role::Portal`] is not ranked, so not among them).
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
            Self::Portal => "portal",
        }
    }

    /// Its rank among the ranked roles; `None` for [`Role::Portal`].
    fn rank(self) -> Option<u8> {
        match self {
            Self::Viewer => Some(0),
            Self::Operator => Some(1),
            Self::Admin => Some(2),
            Self::Portal => None,
        }
    }
}

impl PartialOrd for Role {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self.rank(), other.rank()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => (self == other).then_some(Ordering::Equal),
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
#[error("unknown role {0:?} (expected viewer, operator, admin or portal)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        (Self::ALL.into_iter().chain([Self::Portal]))
            .find(|r| r.as_str() == text)
            .ok_or_else(|| UnknownRole(text.to_owned()))
    }
}

/// What an operation touches, for the rights of [`Role::Portal`]; the ranked roles have the
/// same rights in every area (see [`Principal::require_in`](super::Principal::require_in)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Area {
    /// Events, their deliveries and attempts, dead letters, the event-type catalog.
    Traffic,
    /// Destinations (a consumer's endpoints).
    Destinations,
    /// Routes (a consumer's subscriptions).
    Routes,
    /// Sources (their secrets are never read back).
    Sources,
}

impl Area {
    /// Whether [`Role::Portal`] may do in this area what `needed` may: everything on
    /// destinations and routes, up to operator on traffic, read-only on sources.
    ///
    /// ```
    /// use relay_core::control::admin::{Area, Role};
    /// assert!(Area::Destinations.portal_may(Role::Admin));
    /// assert!(Area::Traffic.portal_may(Role::Operator));
    /// assert!(!Area::Sources.portal_may(Role::Admin));
    /// ```
    pub fn portal_may(self, needed: Role) -> bool {
        let ceiling = match self {
            Self::Destinations | Self::Routes => Role::Admin,
            Self::Traffic => Role::Operator,
            Self::Sources => Role::Viewer,
        };
        needed <= ceiling
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_portal_is_unranked() {
        for role in Role::ALL.into_iter().chain([Role::Portal]) {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        for ranked in Role::ALL {
            assert_eq!(Role::Portal.partial_cmp(&ranked), None);
            assert_eq!(ranked.partial_cmp(&Role::Portal), None);
        }
        assert_eq!(
            Role::Portal.partial_cmp(&Role::Portal),
            Some(Ordering::Equal)
        );
        assert!(!Area::Traffic.portal_may(Role::Admin));
        assert!(!Area::Sources.portal_may(Role::Operator));
        assert!(Area::Routes.portal_may(Role::Viewer));
    }
}
