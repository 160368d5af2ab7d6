//! `/api/v1/subscriptions`: a consumer's endpoint and its event types in one call (a
//! destination and its route, created and deleted together).

use crate::reply::Json;
use crate::request::{Path, State};
use http::StatusCode;
use relay_core::control::manage::SubscriptionSpec;

use super::destinations::item;
use super::dto::CreatedSubscriptionItem;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Auth};
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
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(spec): ApiJson<SubscriptionSpec>,
) -> Result<(StatusCode, Json<CreatedSubscriptionItem>), ApiError> {
    let state = state.scoped(&by).await?;
    let created = state.relay.objects().create_subscription(&by, spec).await?;
    let body = CreatedSubscriptionItem {
        destination: item(&state, created.destination.destination).await?,
        signing_secret: created.destination.signing_secret,
        route: created.route.into(),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Deletes a subscription (admins): the route `name`, which sends to the destination `name`
/// alone, and that destination. 409 while another route names the destination.
#[utoipa::path(delete, path = "/api/v1/subscriptions/{name}", tag = "subscriptions",
    params(("name" = String, Path, description = "The subscription (its destination and route)")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn delete(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let state = state.scoped(&by).await?;
    state
        .relay
        .objects()
        .delete_subscription(&by, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
