//! Identifiers: events, deliveries and tenants.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Error returned when parsing an identifier from text fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} id {input:?}: expected `{prefix}` followed by 32 hex digits")]
pub struct ParseIdError {
    kind: &'static str,
    prefix: &'static str,
    input: String,
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// The textual prefix of this identifier kind.
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered (UUIDv7) identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps raw UUID bytes (as stored by a backend).
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }

            /// The raw 16 bytes, for compact storage.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{}", $prefix, self.0.simple())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let error = || ParseIdError { kind: $kind, prefix: $prefix, input: s.to_owned() };
                let hex = s.strip_prefix($prefix).ok_or_else(error)?;
                if hex.len() != 32 {
                    return Err(error());
                }
                Uuid::try_parse(hex).map(Self).map_err(|_| error())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(
    /// Identifies one accepted event (`evt_…`). Time-ordered, so ids sort by arrival.
    EventId,
    "evt_",
    "event"
);

prefixed_id!(
    /// Identifies one delivery: an event to one destination (`msg_…`). Sent as `webhook-id` on
    /// every attempt, so receivers can deduplicate.
    DeliveryId,
    "msg_",
    "delivery"
);

prefixed_id!(
    /// Identifies one audit-log entry (`aud_…`). Time-ordered, so ids sort by when the change
    /// was recorded.
    AuditId,
    "aud_",
    "audit entry"
);

prefixed_id!(
    /// Identifies one refused-signature record (`sgf_…`). Time-ordered, so ids sort by when
    /// the request was refused.
    SigFailureId,
    "sgf_",
    "signature failure"
);

/// The tenant that owns a stored row. Single-tenant deployments use [`TenantId::default_tenant`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// The tenant every row belongs to unless multi-tenancy is configured.
    pub const DEFAULT: &'static str = "default";

    /// The `default` tenant.
    pub fn default_tenant() -> Self {
        Self(Self::DEFAULT.to_owned())
    }

    /// A tenant with the given name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The tenant's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TenantId {
    fn default() -> Self {
        Self::default_tenant()
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A node's stable identity: recorded on the leases its delivery worker takes, so the node's
/// next life reclaims them at once (see
/// [`DeliveryQueue::reclaim`](crate::store::DeliveryQueue::reclaim)) instead of waiting for
/// them to expire. Not empty, at most [`NodeId::MAX_LEN`] bytes, no control characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(String);

/// Why a string is not a [`NodeId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidNodeId {
    /// The identity is empty (or only whitespace).
    #[error("a node id cannot be empty")]
    Empty,
    /// The identity is longer than [`NodeId::MAX_LEN`] bytes.
    #[error("a node id is at most {max} bytes, this one has {len}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The identity holds a control character (a newline, a tab…).
    #[error("a node id cannot hold control characters")]
    ControlCharacter,
}

impl NodeId {
    /// The longest identity accepted, in bytes.
    pub const MAX_LEN: usize = 200;

    /// The identity `id`, if it is not empty, not longer than [`NodeId::MAX_LEN`] bytes and
    /// free of control characters.
    ///
    /// ```
    /// use relay_core::model::ids::NodeId;
    /// assert_eq!(NodeId::new("node-a").unwrap().as_str(), "node-a");
    /// assert!(NodeId::new("").is_err());
    /// assert!(NodeId::new("a\nb").is_err());
    /// ```
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidNodeId> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(InvalidNodeId::Empty);
        }
        if id.len() > Self::MAX_LEN {
            return Err(InvalidNodeId::TooLong {
                len: id.len(),
                max: Self::MAX_LEN,
            });
        }
        if id.chars().any(char::is_control) {
            return Err(InvalidNodeId::ControlCharacter);
        }
        Ok(Self(id))
    }

    /// The identity as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_id_round_trips_through_text() {
        let id = EventId::new();
        let text = id.to_string();
        assert!(text.starts_with("evt_"));
        assert_eq!(text.len(), 36);
        assert_eq!(text.parse::<EventId>().unwrap(), id);
    }

    #[test]
    fn ids_reject_wrong_prefix_and_garbage() {
        let id = EventId::new().to_string();
        assert!(id.replace("evt_", "msg_").parse::<EventId>().is_err());
        assert!("evt_zz".parse::<EventId>().is_err());
        assert!("".parse::<DeliveryId>().is_err());
        assert!(
            "msg_0192f3a0-7c1e-7000-8000-000000000000"
                .parse::<DeliveryId>()
                .is_err()
        );
    }

    #[test]
    fn node_ids_refuse_empty_long_and_control_characters() {
        assert_eq!(NodeId::new("  "), Err(InvalidNodeId::Empty));
        assert_eq!(
            NodeId::new("x".repeat(201)),
            Err(InvalidNodeId::TooLong { len: 201, max: 200 })
        );
        assert_eq!(NodeId::new("a\tb"), Err(InvalidNodeId::ControlCharacter));
        assert_eq!(
            NodeId::new("x".repeat(200)).map(|n| n.as_str().len()),
            Ok(200)
        );
        assert_eq!(
            NodeId::new("host/0.0.0.0:8080").unwrap().to_string(),
            "host/0.0.0.0:8080"
        );
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = EventId::new();
        let b = EventId::new();
        assert!(a < b);
    }
}
