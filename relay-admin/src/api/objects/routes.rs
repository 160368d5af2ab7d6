//! `/api/v1/routes`: list, read, create, update, delete, enable, disable, test; and the
//! transformers routes may name.

use crate::reply::Json;
use crate::request::{Path, State};
use http::StatusCode;
use relay_core::control::admin::{Area, Role};
use relay_core::control::definition::RouteSpec;
use relay_core::control::manage::{ObjectKind, RouteSample};

use super::dto::{RouteItem, RouteTestItem, RouteTestRequest};
use super::state::{StateParams, set};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AdminState;

/// Every route, in evaluation order.
#[utoipa::path(get, path = "/api/v1/routes", tag = "routes",
    responses((status = 200, body = Vec<RouteItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<RouteItem>>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(Area::Routes, Role::Viewer)?;
    let views = state.relay.objects().route_views();
    Ok(Json(views.into_iter().map(RouteItem::from).collect()))
}

/// One route.
#[utoipa::path(get, path = "/api/v1/routes/{name}", tag = "routes",
    params(("name" = String, Path, description = "The route")),
    responses((status = 200, body = RouteItem), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn read(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<Json<RouteItem>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(Area::Routes, Role::Viewer)?;
    Ok(Json(state.relay.objects().route_view(&name)?.into()))
}

/// Creates a route (admins); the source, destinations and transformer it names must exist.
#[utoipa::path(post, path = "/api/v1/routes", tag = "routes", request_body = RouteSpec,
    responses((status = 201, body = RouteItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(spec): ApiJson<RouteSpec>,
) -> Result<(StatusCode, Json<RouteItem>), ApiError> {
    let state = state.scoped(&by).await?;
    let view = state.relay.objects().create_route(&by, spec).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Replaces a route created here (admins); `name` must be the path's.
#[utoipa::path(put, path = "/api/v1/routes/{name}", tag = "routes", request_body = RouteSpec,
    params(("name" = String, Path, description = "The route")),
    responses((status = 200, body = RouteItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn update(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<RouteSpec>,
) -> Result<Json<RouteItem>, ApiError> {
    let state = state.scoped(&by).await?;
    Ok(Json(
        state
            .relay
            .objects()
            .update_route(&by, &name, spec)
            .await?
            .into(),
    ))
}

/// Deletes a route created here (admins).
#[utoipa::path(delete, path = "/api/v1/routes/{name}", tag = "routes",
    params(("name" = String, Path, description = "The route")),
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
    state.relay.objects().delete_route(&by, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activates a route (operators); stored, with the reason given, for every node.
#[utoipa::path(post, path = "/api/v1/routes/{name}/enable", tag = "routes",
    params(("name" = String, Path, description = "The route"), StateParams),
    responses((status = 204, description = "Enabled"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "The reason is too long"),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn enable(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<StateParams>,
) -> Result<StatusCode, ApiError> {
    set(state, &by, (ObjectKind::Route, &name), true, params).await
}

/// Deactivates a route (operators): new events skip it. Stored, with the reason given.
#[utoipa::path(post, path = "/api/v1/routes/{name}/disable", tag = "routes",
    params(("name" = String, Path, description = "The route"), StateParams),
    responses((status = 204, description = "Disabled"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "The reason is too long"),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn disable(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<StateParams>,
) -> Result<StatusCode, ApiError> {
    set(state, &by, (ObjectKind::Route, &name), false, params).await
}

/// Tries a route on a sample event: whether it matches, condition by condition, and what each
/// destination would be sent. Nothing is stored or delivered.
#[utoipa::path(post, path = "/api/v1/routes/{name}/test", tag = "routes",
    request_body = RouteTestRequest,
    params(("name" = String, Path, description = "The route")),
    responses((status = 200, body = RouteTestItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn test(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<RouteTestRequest>,
) -> Result<Json<RouteTestItem>, ApiError> {
    let state = state.scoped(&by).await?;
    let sample = RouteSample {
        source: request.source,
        event_type: request.event_type,
        headers: request.headers.into_iter().collect(),
        payload: request.payload,
    };
    Ok(Json(
        state
            .relay
            .objects()
            .test_route(&by, &name, &sample)?
            .into(),
    ))
}

/// The transformers routes may name, built-in ones included.
#[utoipa::path(get, path = "/api/v1/transformers", tag = "routes",
    responses((status = 200, body = Vec<String>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn transformers(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<String>>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(Area::Routes, Role::Viewer)?;
    Ok(Json(state.relay.objects().transformer_names()))
}
