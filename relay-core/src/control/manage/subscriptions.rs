//! Subscriptions: a consumer's endpoint and the event types it wants, created and deleted in
//! one call. A subscription is a destination and a route of the same name that sends the
//! chosen events of one source (the published events of `app` by default) to it, and nothing
//! else: Svix's endpoint with `filterTypes`, in Relay's own objects.
//!
//! ```
//! use relay_core::control::admin::Principal;
//! use relay_core::control::credentials::Keyring;
//! use relay_core::control::manage::SubscriptionSpec;
//! use relay_core::model::ids::TenantId;
//! use serde_json::json;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = relay_core::Relay::builder()
//!     .keyring(Keyring::generate())
//!     .allow_cidrs(["127.0.0.0/8".parse().unwrap()])
//!     .build()
//!     .unwrap();
//! let admin = Principal::system(TenantId::default());
//! let spec: SubscriptionSpec = serde_json::from_value(json!({
//!     "destination": {"name": "acme", "url": "http://127.0.0.1:9000/hooks"},
//!     "event_types": ["invoice.*"]
//! })).unwrap();
//! let created = relay.objects().create_subscription(&admin, spec).await.unwrap();
//! assert_eq!(created.route.destinations, ["acme"]);
//! assert_eq!(created.route.source.as_deref(), Some("app"));
//! relay.objects().delete_subscription(&admin, "acme").await.unwrap();
//! assert!(relay.catalog().destination("acme").is_none());
//! # }
//! ```

use serde::{Deserialize, Serialize};

use super::destinations::CreatedDestination;
use super::views::RouteView;
use crate::control::admin::{
    AdminError, Area, FieldError, Principal, Role, generate_signing_secret,
};
use crate::control::definition::{DestinationSpec, RouteSpec};
use crate::control::manage::Objects;
use crate::ingest::source::PUBLISH_SOURCE;
use crate::route::ConditionSpec;

/// A consumer's endpoint and what it receives: a destination, and the route (of the same
/// name) that sends it `event_types` of `source` where every condition holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    /// The endpoint, as for `POST /api/v1/destinations`; its name is the route's too.
    pub destination: DestinationSpec,
    /// Event-type globs it receives (default `["*"]`).
    #[serde(default = "all_types")]
    pub event_types: Vec<String>,
    /// The source whose events it receives (default `app`: the published events).
    #[serde(default = "publish_source")]
    pub source: String,
    /// JSONPath conditions on the payload; all must hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionSpec>,
    /// Transformer name (default: the payload as published or received).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformer: Option<String>,
}

fn all_types() -> Vec<String> {
    vec!["*".into()]
}

fn publish_source() -> String {
    PUBLISH_SOURCE.into()
}

impl SubscriptionSpec {
    /// The route this subscription makes: named after its destination, to it alone.
    pub fn route(&self) -> RouteSpec {
        RouteSpec {
            name: self.destination.name.clone(),
            source: Some(self.source.clone()),
            event_types: self.event_types.clone(),
            destinations: vec![self.destination.name.clone()],
            conditions: self.conditions.clone(),
            transformer: self.transformer.clone(),
            priority: 0,
            active: true,
            rate_limit: None,
            ordering_key: None,
            on_dead_letter: None,
        }
    }
}

/// A subscription just created: its destination (with the signing secret, shown this once)
/// and its route.
#[derive(Debug)]
pub struct CreatedSubscription {
    /// The destination and its signing secret.
    pub destination: CreatedDestination,
    /// The route that sends it the chosen events.
    pub route: RouteView,
}

/// The destination's problems are reported under `destination.` (the body's shape).
fn under_destination(error: AdminError) -> AdminError {
    match error {
        AdminError::Invalid(fields) => AdminError::Invalid(
            (fields.into_iter())
                .map(|f| FieldError::new(format!("destination.{}", f.field), f.message))
                .collect(),
        ),
        other => other,
    }
}

impl Objects<'_> {
    /// Creates a subscription (admin): its destination and its route together, or neither.
    /// Both are checked before either is stored: a bad field is a 422 naming it, a name
    /// taken by a destination or a route a 409.
    pub async fn create_subscription(
        &self,
        by: &Principal,
        mut spec: SubscriptionSpec,
    ) -> Result<CreatedSubscription, AdminError> {
        self.relay.may_change_in(by, Area::Routes, Role::Admin)?;
        let signing_secret = (spec.destination.signing_secret)
            .get_or_insert_with(generate_signing_secret)
            .clone();
        let name = spec.destination.name.clone();
        (self.relay.checked_destination(&spec.destination)).map_err(under_destination)?;
        let route = spec.route();
        self.relay.checked_route(&route, Some(&name))?;
        if self.relay.catalog().routes().get(&name).is_some() {
            return Err(AdminError::Conflict(format!(
                "route {name:?} already exists"
            )));
        }
        self.relay.create_object(by, &spec.destination).await?;
        if let Err(error) = self.relay.create_object(by, &route).await {
            // The route could not be stored (taken meanwhile, or the store failed): the
            // destination goes too, so nothing half-made stays.
            self.relay
                .delete_object::<DestinationSpec>(by, &name)
                .await?;
            return Err(error);
        }
        Ok(CreatedSubscription {
            destination: CreatedDestination {
                destination: self.destination_view(&name)?,
                signing_secret,
            },
            route: self.route_view(&name)?,
        })
    }

    /// Deletes a subscription (admin): the route named `name`, which must send to the
    /// destination `name` alone, and that destination. A destination another route still
    /// names is a 409 and nothing is deleted; no such pair is a 404.
    pub async fn delete_subscription(&self, by: &Principal, name: &str) -> Result<(), AdminError> {
        self.relay.may_change_in(by, Area::Routes, Role::Admin)?;
        let catalog = self.relay.catalog();
        let route = (catalog.routes().get(name)).ok_or(AdminError::NotFound)?;
        if route.destinations() != [name] || catalog.destination(name).is_none() {
            return Err(AdminError::NotFound);
        }
        let others: Vec<&str> = (catalog.routes().routes().iter())
            .filter(|r| r.name() != name && r.destinations().iter().any(|d| d == name))
            .map(|r| r.name())
            .collect();
        if !others.is_empty() {
            return Err(AdminError::Conflict(format!(
                "destination {name:?} is also named by routes {others:?}"
            )));
        }
        self.relay.delete_object::<RouteSpec>(by, name).await?;
        self.relay.delete_object::<DestinationSpec>(by, name).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http::HeaderMap;
    use serde_json::json;

    use super::*;
    use crate::control::credentials::Keyring;
    use crate::model::ids::TenantId;
    use crate::relay::Relay;
    use crate::route::RouteInput;

    fn admin() -> Principal {
        Principal::system(TenantId::default())
    }

    fn relay() -> Relay {
        Relay::builder()
            .keyring(Keyring::generate())
            .allow_cidrs(["127.0.0.0/8".parse().unwrap()])
            .build()
            .unwrap()
    }

    fn subscription(value: serde_json::Value) -> SubscriptionSpec {
        serde_json::from_value(value).unwrap()
    }

    fn acme() -> SubscriptionSpec {
        subscription(json!({
            "destination": {"name": "acme", "url": "http://127.0.0.1:9000/hooks"},
            "event_types": ["invoice.*"],
            "conditions": [{"path": "$.amount", "op": "gt", "value": 10}]
        }))
    }

    fn planned(relay: &Relay, source: &str, event_type: &str, amount: u32) -> Vec<String> {
        let headers = HeaderMap::new();
        let payload = json!({ "amount": amount });
        let input = RouteInput {
            source,
            event_type,
            headers: &headers,
            payload: Some(&payload),
        };
        let plan = relay.catalog().routes().plan(&input);
        plan.into_iter().map(|p| p.destination).collect()
    }

    /// Field names of a 422.
    fn fields(error: AdminError) -> Vec<String> {
        match error {
            AdminError::Invalid(fields) => fields.into_iter().map(|f| f.field).collect(),
            other => panic!("not a 422: {other:?}"),
        }
    }

    #[tokio::test]
    async fn one_call_makes_an_endpoint_that_gets_only_its_event_types() {
        let relay = relay();
        let created = relay.objects().create_subscription(&admin(), acme()).await;
        let created = created.unwrap();
        assert!(created.destination.signing_secret.starts_with("whsec_"));
        assert_eq!(created.destination.destination.name, "acme");
        assert_eq!(created.route.event_types, ["invoice.*"]);
        assert_eq!(planned(&relay, "app", "invoice.paid", 99), ["acme"]);
        assert!(planned(&relay, "app", "invoice.paid", 5).is_empty());
        assert!(planned(&relay, "app", "user.created", 99).is_empty());
        assert!(planned(&relay, "github", "invoice.paid", 99).is_empty());
    }

    #[tokio::test]
    async fn a_bad_field_of_either_half_stores_neither() {
        let relay = relay();
        let mut bad_url = acme();
        bad_url.destination.url = "ftp://example".into();
        let err = relay.objects().create_subscription(&admin(), bad_url).await;
        assert_eq!(fields(err.unwrap_err()), ["destination.url"]);
        let mut bad_transformer = acme();
        bad_transformer.transformer = Some("nope".into());
        let err = relay
            .objects()
            .create_subscription(&admin(), bad_transformer)
            .await;
        assert_eq!(fields(err.unwrap_err()), ["transformer"]);
        let mut bad_source = acme();
        bad_source.source = "nowhere".into();
        let err = relay
            .objects()
            .create_subscription(&admin(), bad_source)
            .await;
        assert_eq!(fields(err.unwrap_err()), ["source"]);
        assert!(relay.catalog().destination("acme").is_none());
        assert!(relay.catalog().routes().get("acme").is_none());
    }

    #[tokio::test]
    async fn a_taken_name_is_a_conflict_and_stores_nothing() {
        let relay = relay();
        let route = json!({"name": "acme", "destinations": ["other"]});
        let other = json!({"name": "other", "url": "http://127.0.0.1:9001/"});
        let objects = relay.objects();
        objects
            .create_destination(&admin(), serde_json::from_value(other).unwrap())
            .await
            .unwrap();
        objects
            .create_route(&admin(), serde_json::from_value(route).unwrap())
            .await
            .unwrap();
        let err = objects.create_subscription(&admin(), acme()).await;
        assert!(matches!(err.unwrap_err(), AdminError::Conflict(_)));
        assert!(relay.catalog().destination("acme").is_none());
        let twice =
            subscription(json!({"destination": {"name": "other", "url": "http://127.0.0.1:9/"}}));
        let err = objects.create_subscription(&admin(), twice).await;
        assert!(matches!(err.unwrap_err(), AdminError::Conflict(_)));
        assert!(relay.catalog().routes().get("other").is_none());
    }

    #[tokio::test]
    async fn delete_takes_both_halves_or_neither() {
        let relay = relay();
        let objects = relay.objects();
        objects.create_subscription(&admin(), acme()).await.unwrap();
        let also = json!({"name": "also", "destinations": ["acme"]});
        objects
            .create_route(&admin(), serde_json::from_value(also).unwrap())
            .await
            .unwrap();
        let err = objects.delete_subscription(&admin(), "acme").await;
        assert!(matches!(err.unwrap_err(), AdminError::Conflict(_)));
        assert!(relay.catalog().routes().get("acme").is_some());
        objects.delete_route(&admin(), "also").await.unwrap();
        // A route that is not a subscription's is not deleted as one.
        let err = objects.delete_subscription(&admin(), "missing").await;
        assert!(matches!(err.unwrap_err(), AdminError::NotFound));
        objects.delete_subscription(&admin(), "acme").await.unwrap();
        assert!(relay.catalog().destination("acme").is_none());
        assert!(relay.catalog().routes().get("acme").is_none());
    }

    #[tokio::test]
    async fn only_admins_subscribe() {
        let relay = relay();
        let operator = Principal {
            role: Role::Operator,
            ..admin()
        };
        let err = relay.objects().create_subscription(&operator, acme()).await;
        assert!(matches!(err.unwrap_err(), AdminError::Forbidden { .. }));
        assert!(relay.catalog().destination("acme").is_none());
    }
}
