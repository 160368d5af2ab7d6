//! `/api/v1/sources`: list, read, create, update, delete, enable, disable, rotate a secret.

use std::time::Duration;

use relay_core::control::admin::{AdminError, Area, Principal};
use relay_core::control::definition::SourceSpec;
use relay_core::control::manage::{CreatedSource, ObjectKind, Objects, SourceView};

use super::dto::{CreatedSourceItem, RotateRequest, RotatedItem, SourceItem};
use super::handlers::managed_handlers;
use super::managed::{Managed, ManagedObject};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{ApiJson, Auth};
use crate::reply::Json;
use crate::request::{Path, State};
use crate::state::AdminState;

/// The default overlap of a rotation: a day.
const DEFAULT_OVERLAP: Duration = Duration::from_secs(86_400);

/// The source as listed; its `ingest_path` names the tenant when it is not the default one
/// (`{prefix}/{tenant}/{source}`), since `{prefix}/{source}` resolves in the default tenant.
fn item(state: &AdminState, view: SourceView) -> SourceItem {
    let tenant = state.relay.tenant_id();
    if *tenant == relay_core::model::ids::TenantId::default() {
        SourceItem::new(view, &state.options.ingest_prefix)
    } else {
        SourceItem::new(view, &format!("{}/{tenant}", state.options.ingest_prefix))
    }
}

/// Sources: their store calls and JSON shapes.
pub(crate) struct Sources;

impl Managed for Sources {
    type Spec = SourceSpec;
    type Created = CreatedSource;
    type CreatedItem = CreatedSourceItem;

    async fn create(
        objects: Objects<'_>,
        by: &Principal,
        spec: SourceSpec,
    ) -> Result<CreatedSource, AdminError> {
        objects.create_source(by, spec).await
    }

    async fn created_item(
        state: &AdminState,
        created: CreatedSource,
    ) -> Result<CreatedSourceItem, ApiError> {
        Ok(CreatedSourceItem {
            source: item(state, created.source),
            secrets: created.secrets,
        })
    }

    async fn delete(objects: Objects<'_>, by: &Principal, name: &str) -> Result<(), AdminError> {
        objects.delete_source(by, name).await
    }
}

impl ManagedObject for Sources {
    const KIND: ObjectKind = ObjectKind::Source;
    const AREA: Area = Area::Sources;
    type View = SourceView;
    type Item = SourceItem;

    fn views(objects: Objects<'_>) -> Vec<SourceView> {
        objects.source_views()
    }

    fn view(objects: Objects<'_>, name: &str) -> Result<SourceView, AdminError> {
        objects.source_view(name)
    }

    async fn update(
        objects: Objects<'_>,
        by: &Principal,
        name: &str,
        spec: SourceSpec,
    ) -> Result<SourceView, AdminError> {
        objects.update_source(by, name, spec).await
    }

    async fn item(state: &AdminState, view: SourceView) -> Result<SourceItem, ApiError> {
        Ok(item(state, view))
    }
}

managed_handlers! { Sources, "sources", "The source";
    /// Every source, configured or created here.
    list -> SourceItem [];
    /// One source.
    read -> SourceItem [];
    /// Creates a source (admins). Without `secrets` one is generated; the secrets are in this
    /// answer only.
    create(SourceSpec) -> CreatedSourceItem;
    /// Replaces a source created here (admins); `name` must be the path's. Without `secrets`
    /// the current ones are kept.
    update(SourceSpec) -> SourceItem;
    /// Deletes a source created here (admins); 409 while a route names it.
    delete;
    /// Enables a source (operators); stored, with the reason given, for every node.
    enable;
    /// Disables a source (operators): ingest answers 404 until it is enabled. Stored, with the
    /// reason given, for every node and across restarts and reloads.
    disable;
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
