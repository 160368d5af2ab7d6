//! `/api/v1/destinations`: list (with health), read, create, update, delete, enable, disable.

use crate::reply::Json;
use crate::request::{Path, State};
use http::StatusCode;
use relay_core::control::admin::{AdminError, Area, Role};
use relay_core::control::definition::DestinationSpec;
use relay_core::control::manage::{DestinationView, ObjectKind};

use relay_core::model::time::Timestamp;

use super::circuit::CircuitItem;
use super::dto::{CreatedDestinationItem, DestinationItem};
use super::state::{StateParams, set};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AdminState;

pub(super) async fn item(
    state: &AdminState,
    view: DestinationView,
) -> Result<DestinationItem, ApiError> {
    let circuit = (state.relay.store())
        .circuit(state.relay.tenant_id(), &view.name)
        .await
        .map_err(AdminError::from)?;
    Ok(DestinationItem::new(
        view,
        CircuitItem::new(circuit, Timestamp::now()),
    ))
}

/// Every destination, configured or created here, with its health.
#[utoipa::path(get, path = "/api/v1/destinations", tag = "destinations",
    responses((status = 200, body = Vec<DestinationItem>), (status = 401, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<DestinationItem>>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(Area::Destinations, Role::Viewer)?;
    let mut items = Vec::new();
    for view in state.relay.objects().destination_views() {
        items.push(item(&state, view).await?);
    }
    Ok(Json(items))
}

/// One destination.
#[utoipa::path(get, path = "/api/v1/destinations/{name}", tag = "destinations",
    params(("name" = String, Path, description = "The destination")),
    responses((status = 200, body = DestinationItem), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn read(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<Json<DestinationItem>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(Area::Destinations, Role::Viewer)?;
    let view = state.relay.objects().destination_view(&name)?;
    Ok(Json(item(&state, view).await?))
}

/// Creates an HTTP destination (admins). Without `signing_secret` one is generated; it is in
/// this answer only.
#[utoipa::path(post, path = "/api/v1/destinations", tag = "destinations",
    request_body = DestinationSpec,
    responses((status = 201, body = CreatedDestinationItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(spec): ApiJson<DestinationSpec>,
) -> Result<(StatusCode, Json<CreatedDestinationItem>), ApiError> {
    let state = state.scoped(&by).await?;
    let created = state.relay.objects().create_destination(&by, spec).await?;
    let body = CreatedDestinationItem {
        destination: item(&state, created.destination).await?,
        signing_secret: created.signing_secret,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Replaces a destination created here (admins); `name` must be the path's. A credential
/// left out is kept, an empty one removed.
#[utoipa::path(put, path = "/api/v1/destinations/{name}", tag = "destinations",
    request_body = DestinationSpec,
    params(("name" = String, Path, description = "The destination")),
    responses((status = 200, body = DestinationItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn update(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<DestinationSpec>,
) -> Result<Json<DestinationItem>, ApiError> {
    let state = state.scoped(&by).await?;
    let view = state
        .relay
        .objects()
        .update_destination(&by, &name, spec)
        .await?;
    Ok(Json(item(&state, view).await?))
}

/// Deletes a destination created here (admins); 409 while a route names it.
#[utoipa::path(delete, path = "/api/v1/destinations/{name}", tag = "destinations",
    params(("name" = String, Path, description = "The destination")),
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
    state.relay.objects().delete_destination(&by, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resumes deliveries to a destination (operators): its held backlog is due at once.
#[utoipa::path(post, path = "/api/v1/destinations/{name}/enable", tag = "destinations",
    params(("name" = String, Path, description = "The destination"), StateParams),
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
    set(state, &by, (ObjectKind::Destination, &name), true, params).await
}

/// Pauses deliveries to a destination (operators): they wait (not leased); nothing is
/// dropped. Stored, with the reason given, for every node and across restarts and reloads.
#[utoipa::path(post, path = "/api/v1/destinations/{name}/disable", tag = "destinations",
    params(("name" = String, Path, description = "The destination"), StateParams),
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
    set(state, &by, (ObjectKind::Destination, &name), false, params).await
}
