//! Sources, destinations and routes managed at run time through the admin API: created,
//! updated, enabled, disabled and deleted without a restart, stored with their secrets
//! sealed, and shared by every node on the same store.
//!
//! Objects given to [`RelayBuilder`](crate::RelayBuilder) (the standalone gateway's
//! configuration file, or an embedding app's code) are *managed by config*: listed by the API
//! but changed only where they are defined. Objects created through the API are *managed by
//! the API* and live in the store.

mod record;

pub use record::{ObjectKind, ObjectRecord, UnknownKind};
