//! The create, list, read, update, delete, enable and disable flow of the objects the admin
//! API manages, written once. Each kind (sources, destinations, routes, subscriptions) says
//! only what differs: its store calls and its JSON shapes ([`Managed`], [`ManagedObject`]);
//! its handlers and their OpenAPI annotations come from
//! [`managed_handlers!`](super::handlers::managed_handlers).

use std::future::Future;

use http::StatusCode;
use relay_core::control::admin::{AdminError, Area, Principal, Role};
use relay_core::control::manage::{ObjectKind, Objects};
use serde::Serialize;

use super::state::{StateParams, set};
use crate::api::error::ApiError;
use crate::api::extract::{ApiJson, ApiQuery, Auth};
use crate::reply::Json;
use crate::request::{Path, State};
use crate::state::AdminState;

/// An object the admin API creates and deletes by name. The store calls check the caller's
/// role, validate and audit (see [`relay_core::control::manage`]).
pub(crate) trait Managed: Send + Sync + 'static {
    /// The request body of `create`.
    type Spec: Send;
    /// What the store answers a creation with.
    type Created: Send;
    /// The answer to a creation (with the secrets shown this once, where there are any).
    type CreatedItem: Serialize + Send;

    /// Creates the object `spec` describes.
    fn create(
        objects: Objects<'_>,
        by: &Principal,
        spec: Self::Spec,
    ) -> impl Future<Output = Result<Self::Created, AdminError>> + Send;

    /// The answer to a creation.
    fn created_item(
        state: &AdminState,
        created: Self::Created,
    ) -> impl Future<Output = Result<Self::CreatedItem, ApiError>> + Send;

    /// Deletes the object `name`.
    fn delete(
        objects: Objects<'_>,
        by: &Principal,
        name: &str,
    ) -> impl Future<Output = Result<(), AdminError>> + Send;
}

/// An object that is also listed, read, replaced, enabled and disabled: a source, a
/// destination or a route.
pub(crate) trait ManagedObject: Managed {
    /// Its kind, whose stored state `enable` and `disable` set.
    const KIND: ObjectKind;
    /// The area in which reading it takes the viewer role.
    const AREA: Area;
    /// The object as the store shows it.
    type View: Send;
    /// The object as listed and read.
    type Item: Serialize + Send;

    /// Every object of the kind.
    fn views(objects: Objects<'_>) -> Vec<Self::View>;

    /// The object `name` (404 when there is none).
    fn view(objects: Objects<'_>, name: &str) -> Result<Self::View, AdminError>;

    /// Replaces the object `name` with `spec`.
    fn update(
        objects: Objects<'_>,
        by: &Principal,
        name: &str,
        spec: Self::Spec,
    ) -> impl Future<Output = Result<Self::View, AdminError>> + Send;

    /// The object as listed and read.
    fn item(
        state: &AdminState,
        view: Self::View,
    ) -> impl Future<Output = Result<Self::Item, ApiError>> + Send;
}

/// Every object of kind `K` (viewers of its area).
pub(crate) async fn list<K: ManagedObject>(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<K::Item>>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(K::AREA, Role::Viewer)?;
    let mut items = Vec::new();
    for view in K::views(state.relay.objects()) {
        items.push(K::item(&state, view).await?);
    }
    Ok(Json(items))
}

/// The object `name` of kind `K` (viewers of its area).
pub(crate) async fn read<K: ManagedObject>(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<Json<K::Item>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(K::AREA, Role::Viewer)?;
    let view = K::view(state.relay.objects(), &name)?;
    Ok(Json(K::item(&state, view).await?))
}

/// Creates an object of kind `K`: 201.
pub(crate) async fn create<K: Managed>(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(spec): ApiJson<K::Spec>,
) -> Result<(StatusCode, Json<K::CreatedItem>), ApiError> {
    let state = state.scoped(&by).await?;
    let created = K::create(state.relay.objects(), &by, spec).await?;
    Ok((
        StatusCode::CREATED,
        Json(K::created_item(&state, created).await?),
    ))
}

/// Replaces the object `name` of kind `K`.
pub(crate) async fn update<K: ManagedObject>(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<K::Spec>,
) -> Result<Json<K::Item>, ApiError> {
    let state = state.scoped(&by).await?;
    let view = K::update(state.relay.objects(), &by, &name, spec).await?;
    Ok(Json(K::item(&state, view).await?))
}

/// Deletes the object `name` of kind `K`: 204.
pub(crate) async fn delete<K: Managed>(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let state = state.scoped(&by).await?;
    K::delete(state.relay.objects(), &by, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables (`enabled`) or disables the object `name` of kind `K` with the query's reason: 204.
pub(crate) async fn set_enabled<K: ManagedObject>(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiQuery(params): ApiQuery<StateParams>,
    enabled: bool,
) -> Result<StatusCode, ApiError> {
    set(state, &by, (K::KIND, &name), enabled, params).await
}
