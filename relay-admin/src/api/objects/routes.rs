//! `/api/v1/routes`: list, read, create, update, delete, enable, disable, test; and the
//! transformers routes may name.

use relay_core::control::admin::{AdminError, Area, Principal, Role};
use relay_core::control::definition::RouteSpec;
use relay_core::control::manage::{ObjectKind, Objects, RouteSample, RouteView};

use super::dto::{RouteItem, RouteTestItem, RouteTestRequest};
use super::handlers::managed_handlers;
use super::managed::{Managed, ManagedObject};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Auth};
use crate::reply::Json;
use crate::request::{Path, State};
use crate::state::AdminState;

/// Routes: their store calls and JSON shapes.
pub(crate) struct Routes;

impl Managed for Routes {
    type Spec = RouteSpec;
    type Created = RouteView;
    type CreatedItem = RouteItem;

    async fn create(
        objects: Objects<'_>,
        by: &Principal,
        spec: RouteSpec,
    ) -> Result<RouteView, AdminError> {
        objects.create_route(by, spec).await
    }

    async fn created_item(_: &AdminState, created: RouteView) -> Result<RouteItem, ApiError> {
        Ok(created.into())
    }

    async fn delete(objects: Objects<'_>, by: &Principal, name: &str) -> Result<(), AdminError> {
        objects.delete_route(by, name).await
    }
}

impl ManagedObject for Routes {
    const KIND: ObjectKind = ObjectKind::Route;
    const AREA: Area = Area::Routes;
    type View = RouteView;
    type Item = RouteItem;

    fn views(objects: Objects<'_>) -> Vec<RouteView> {
        objects.route_views()
    }

    fn view(objects: Objects<'_>, name: &str) -> Result<RouteView, AdminError> {
        objects.route_view(name)
    }

    async fn update(
        objects: Objects<'_>,
        by: &Principal,
        name: &str,
        spec: RouteSpec,
    ) -> Result<RouteView, AdminError> {
        objects.update_route(by, name, spec).await
    }

    async fn item(_: &AdminState, view: RouteView) -> Result<RouteItem, ApiError> {
        Ok(view.into())
    }
}

managed_handlers! { Routes, "routes", "The route";
    /// Every route, in evaluation order.
    list -> RouteItem [];
    /// One route.
    read -> RouteItem [];
    /// Creates a route (admins); the source, destinations and transformer it names must exist.
    create(RouteSpec) -> RouteItem;
    /// Replaces a route created here (admins); `name` must be the path's.
    update(RouteSpec) -> RouteItem;
    /// Deletes a route created here (admins).
    delete;
    /// Activates a route (operators); stored, with the reason given, for every node.
    enable;
    /// Deactivates a route (operators): new events skip it. Stored, with the reason given.
    disable;
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
