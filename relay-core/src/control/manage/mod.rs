//! Sources, destinations and routes managed at run time through the admin API: created,
//! updated, enabled, disabled and deleted without a restart, stored with their secrets
//! sealed by the relay's [keyring](crate::RelayBuilder::keyring), and followed by every node
//! that shares the store ([`Objects::sync_objects`](crate::control::manage::Objects::sync_objects)).
//!
//! Objects given to [`RelayBuilder`](crate::RelayBuilder) (the standalone gateway's
//! configuration file, or an embedding app's code) are *managed by config*: listed, but
//! changed only where they are defined (a configured destination can still be paused).
//! Objects created through the API are *managed by the API* and live in the store. Every
//! change is checked against everything else before it is stored (a route naming a missing
//! destination is a 422 with the field's path; deleting a destination a route names is a
//! 409), then audited with a field-level diff in which secrets never appear.
//!
//! ```
//! use relay_core::control::admin::Principal;
//! use relay_core::control::credentials::Keyring;
//! use relay_core::model::ids::TenantId;
//! use serde_json::json;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = relay_core::Relay::builder()
//!     .keyring(Keyring::generate())
//!     .allow_cidrs(["127.0.0.0/8".parse().unwrap()])
//!     .build()
//!     .unwrap();
//! let admin = Principal::system(TenantId::default());
//! relay.objects().create_source(&admin, serde_json::from_value(json!({"name": "shop", "scheme": "shopify", "secrets": ["shpss_1"]})).unwrap()).await.unwrap();
//! let created = relay.objects().create_destination(&admin, serde_json::from_value(json!({"name": "erp", "url": "http://127.0.0.1:9000/hooks"})).unwrap()).await.unwrap();
//! assert!(created.signing_secret.starts_with("whsec_"));
//! let route = json!({"name": "orders", "source": "shop", "event_types": ["orders/*"], "destinations": ["erp"]});
//! relay.objects().create_route(&admin, serde_json::from_value(route).unwrap()).await.unwrap();
//! assert!(relay.catalog().routes().get("orders").is_some());
//! // The destination is in use: it cannot be deleted before the route.
//! assert!(relay.objects().delete_destination(&admin, "erp").await.is_err());
//! # }
//! ```

mod compose;
mod destinations;
mod live;
mod objects;
mod record;
mod routes;
mod saved;
mod seal;
mod sources;
mod subscriptions;
mod views;
mod write;

pub use compose::Skipped;
pub use destinations::CreatedDestination;
pub(crate) use live::ObjectState;
pub use objects::Objects;
pub use record::{ObjectKind, ObjectRecord, UnknownKind};
pub use routes::{RouteSample, RouteTest, TestDelivery};
pub use saved::{LoadDestinationError, ResealError, SaveDestinationError};
pub use seal::OpenSpecError;
pub use sources::{CreatedSource, MAX_ROTATION_OVERLAP, RotatedSecret};
pub use subscriptions::{CreatedSubscription, SubscriptionSpec};
pub use views::{DestinationView, ManagedBy, RouteView, SecretInfo, SourceView, Stamps};

#[cfg(test)]
mod tests;
