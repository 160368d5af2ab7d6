//! `/api/v1/sources`: list, read, create, update, delete, enable, disable, rotate a secret.

use std::time::Duration;

use crate::reply::Json;
use crate::request::{Path, State};
use http::StatusCode;
use relay_core::control::admin::{Area, Role};
use relay_core::control::definition::SourceSpec;
use relay_core::control::manage::ObjectKind;

use super::dto::{CreatedSourceItem, RotateRequest, RotatedItem, SourceItem};
use super::state::{StateParams, set};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, ApiQuery, Auth};
use crate::state::AdminState;

/// The default overlap of a rotation: a day.
const DEFAULT_OVERLAP: Duration = Duration::from_secs(86_400);

/// The source as listed; its `ingest_path` names the tenant when it is not the default one
/// (`{prefix}/{tenant}/{source}`), since `{prefix}/{source}` resolves in the default tenant.
fn item(state: &AdminState, view: relay_core::control::manage::SourceView) -> SourceItem {
    let tenant = state.relay.tenant_id();
    if *tenant == relay_core::model::ids::TenantId::default() {
        SourceItem::new(view, &state.options.ingest_prefix)
    } else {
        SourceItem::new(view, &format!("{}/{tenant}", state.options.ingest_prefix))
    }
}

/// Every source, configured or created here.
#[utoipa::path(get, path = "/api/v1/sources", tag = "sources",
    responses((status = 200, body = Vec<SourceItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<SourceItem>>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(Area::Sources, Role::Viewer)?;
    let views = state.relay.objects().source_views();
    Ok(Json(views.into_iter().map(|v| item(&state, v)).collect()))
}

/// One source.
#[utoipa::path(get, path = "/api/v1/sources/{name}", tag = "sources",
    params(("name" = String, Path, description = "The source")),
    responses((status = 200, body = SourceItem), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn read(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<Json<SourceItem>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(Area::Sources, Role::Viewer)?;
    Ok(Json(item(
        &state,
        state.relay.objects().source_view(&name)?,
    )))
}

/// Creates a source (admins). Without `secrets` one is generated; the secrets are in this
/// answer only.
#[utoipa::path(post, path = "/api/v1/sources", tag = "sources", request_body = SourceSpec,
    responses((status = 201, body = CreatedSourceItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(spec): ApiJson<SourceSpec>,
) -> Result<(StatusCode, Json<CreatedSourceItem>), ApiError> {
    let state = state.scoped(&by).await?;
    let created = state.relay.objects().create_source(&by, spec).await?;
    let body = CreatedSourceItem {
        source: item(&state, created.source),
        secrets: created.secrets,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Replaces a source created here (admins); `name` must be the path's. Without `secrets`
/// the current ones are kept.
#[utoipa::path(put, path = "/api/v1/sources/{name}", tag = "sources", request_body = SourceSpec,
    params(("name" = String, Path, description = "The source")),
    responses((status = 200, body = SourceItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn update(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(spec): ApiJson<SourceSpec>,
) -> Result<Json<SourceItem>, ApiError> {
    let state = state.scoped(&by).await?;
    let view = state
        .relay
        .objects()
        .update_source(&by, &name, spec)
        .await?;
    Ok(Json(item(&state, view)))
}

/// Deletes a source created here (admins); 409 while a route names it.
#[utoipa::path(delete, path = "/api/v1/sources/{name}", tag = "sources",
    params(("name" = String, Path, description = "The source")),
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
    state.relay.objects().delete_source(&by, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a source (operators); stored, with the reason given, for every node.
#[utoipa::path(post, path = "/api/v1/sources/{name}/enable", tag = "sources",
    params(("name" = String, Path, description = "The source"), StateParams),
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
    set(state, &by, (ObjectKind::Source, &name), true, params).await
}

/// Disables a source (operators): ingest answers 404 until it is enabled. Stored, with the
/// reason given, for every node and across restarts and reloads.
#[utoipa::path(post, path = "/api/v1/sources/{name}/disable", tag = "sources",
    params(("name" = String, Path, description = "The source"), StateParams),
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
    set(state, &by, (ObjectKind::Source, &name), false, params).await
}

/// Adds a secret to a source created here (admins); the current ones keep verifying for
/// `overlap_secs`. The new secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/sources/{name}/rotate-secret", tag = "sources",
    request_body = RotateRequest,
    params(("name" = String, Path, description = "The source")),
    responses((status = 200, body = RotatedItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn rotate_secret(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<RotateRequest>,
) -> Result<Json<RotatedItem>, ApiError> {
    let state = state.scoped(&by).await?;
    let overlap = request
        .overlap_secs
        .map_or(DEFAULT_OVERLAP, Duration::from_secs);
    let rotated = (state.relay)
        .objects()
        .rotate_source_secret(&by, &name, overlap, request.secret)
        .await?;
    Ok(Json(RotatedItem {
        secret: rotated.secret,
        source: item(&state, rotated.source),
    }))
}
