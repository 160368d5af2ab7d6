//! [`ObjectRecord`]: a source, destination or route created through the admin API, as stored.

use std::fmt;
use std::str::FromStr;

use crate::model::time::Timestamp;

/// What kind of object a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// A [`SourceSpec`](crate::control::definition::SourceSpec).
    Source,
    /// A [`DestinationSpec`](crate::control::definition::DestinationSpec).
    Destination,
    /// A [`RouteSpec`](crate::control::definition::RouteSpec).
    Route,
    /// An [agent](crate::control::agent)'s credential (a digest of its token, never the token).
    Agent,
}

impl ObjectKind {
    /// `source`, `destination` or `route`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Source => "source",
            Self::Destination => "destination",
            Self::Route => "route",
            Self::Agent => "agent",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is none of `source`, `destination`, `route`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown object kind {0:?}")]
pub struct UnknownKind(pub String);

impl FromStr for ObjectKind {
    type Err = UnknownKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "source" => Ok(Self::Source),
            "destination" => Ok(Self::Destination),
            "route" => Ok(Self::Route),
            "agent" => Ok(Self::Agent),
            other => Err(UnknownKind(other.to_owned())),
        }
    }
}

/// A stored object: its spec as JSON, secrets sealed (never plaintext), and whether it is
/// enabled. Names are unique per tenant and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    /// The kind.
    pub kind: ObjectKind,
    /// The name.
    pub name: String,
    /// The spec as JSON, with every secret value sealed by the relay's keyring.
    pub spec: String,
    /// Disabled sources answer as unknown and disabled destinations hold their deliveries.
    pub enabled: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}
