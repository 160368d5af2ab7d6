//! `/api/v1/subscriptions`: a consumer's endpoint and its event types in one call (a
//! destination and its route, created and deleted together).

use http::StatusCode;
use relay_core::control::admin::{AdminError, Principal};
use relay_core::control::manage::{CreatedSubscription, Objects, SubscriptionSpec};

use super::destinations::item;
use super::dto::CreatedSubscriptionItem;
use super::handlers::managed_handlers;
use super::managed::{self, Managed};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Auth};
use crate::reply::Json;
use crate::request::State;
use crate::state::AdminState;

/// Creates a subscription (admins): the destination and a route of the same name that sends
/// it `event_types` of `source` (default `app`, the published events), both or neither.
/// Without `destination.signing_secret` one is generated; it is in this answer only.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "subscriptions",
    request_body = SubscriptionSpec,
    responses((status = 201, body = CreatedSubscriptionItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "A destination or route has the name"),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    state: State<AdminState>,
    auth: Auth,
    spec: ApiJson<SubscriptionSpec>,
) -> Result<(StatusCode, Json<CreatedSubscriptionItem>), ApiError> {
    managed::create::<Subscriptions>(state, auth, spec).await
}

/// Subscriptions: a destination and its route, created and deleted together.
pub(crate) struct Subscriptions;

impl Managed for Subscriptions {
    type Spec = SubscriptionSpec;
    type Created = CreatedSubscription;
    type CreatedItem = CreatedSubscriptionItem;

    async fn create(
        objects: Objects<'_>,
        by: &Principal,
        spec: SubscriptionSpec,
    ) -> Result<CreatedSubscription, AdminError> {
        objects.create_subscription(by, spec).await
    }

    async fn created_item(
        state: &AdminState,
        created: CreatedSubscription,
    ) -> Result<CreatedSubscriptionItem, ApiError> {
        Ok(CreatedSubscriptionItem {
            destination: item(state, created.destination.destination).await?,
            signing_secret: created.destination.signing_secret,
            route: created.route.into(),
        })
    }

    async fn delete(objects: Objects<'_>, by: &Principal, name: &str) -> Result<(), AdminError> {
        objects.delete_subscription(by, name).await
    }
}

managed_handlers! { Subscriptions, "subscriptions", "The subscription (its destination and route)";
    /// Deletes a subscription (admins): the route `name`, which sends to the destination `name`
    /// alone, and that destination. 409 while another route names the destination.
    delete;
}
