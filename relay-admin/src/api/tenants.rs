//! The tenant registry (platform admins: admins of the `default` tenant; anyone else gets
//! 404) and the first API key of a tenant.

use crate::reply::Json;
use crate::request::{Path, State};
use http::StatusCode;
use relay_core::control::admin::{Role, TenantLimits, TenantRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{KeyItem, NewKeyRequest, time};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Auth};
use crate::state::AdminState;

/// A tenant's limits; each one left out is unlimited.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    /// Accepted ingest requests per second over all the tenant's sources (token bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub rate_per_second: Option<u32>,
    /// The token bucket's size (default: `rate_per_second`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub burst: Option<u32>,
    /// Accepted events per UTC day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 1_000_000_000_000_u64)]
    pub daily_quota: Option<u64>,
    /// Sources the tenant may create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub max_sources: Option<u32>,
    /// Routes the tenant may create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub max_routes: Option<u32>,
}

impl From<LimitsBody> for TenantLimits {
    fn from(b: LimitsBody) -> Self {
        Self {
            rate_per_second: b.rate_per_second,
            burst: b.burst,
            daily_quota: b.daily_quota,
            max_sources: b.max_sources,
            max_routes: b.max_routes,
        }
    }
}

impl From<TenantLimits> for LimitsBody {
    fn from(l: TenantLimits) -> Self {
        Self {
            rate_per_second: l.rate_per_second,
            burst: l.burst,
            daily_quota: l.daily_quota,
            max_sources: l.max_sources,
            max_routes: l.max_routes,
        }
    }
}

/// Limits from a JSON object only (serde would also take an array of the fields in order).
fn limits_object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<LimitsBody, D::Error> {
    use serde::de::Error as _;
    let value = serde_json::Value::deserialize(d)?;
    if !value.is_object() {
        return Err(D::Error::custom("expected an object"));
    }
    serde_json::from_value(value).map_err(D::Error::custom)
}

/// `POST /tenants`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenantRequest {
    /// The tenant's name, as in `POST /webhooks/{tenant}/{source}`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub name: String,
    /// Its limits (none: unlimited).
    #[serde(default, deserialize_with = "limits_object")]
    pub limits: LimitsBody,
}

/// `PUT /tenants/{name}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantUpdate {
    /// The new limits (replacing the old ones whole).
    #[serde(default, deserialize_with = "limits_object")]
    pub limits: LimitsBody,
}

/// A tenant.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantItem {
    /// The name.
    pub name: String,
    /// Its limits.
    pub limits: LimitsBody,
    /// When made (RFC 3339).
    pub created_at: String,
    /// When its limits last changed (RFC 3339).
    pub updated_at: String,
}

impl From<TenantRecord> for TenantItem {
    fn from(t: TenantRecord) -> Self {
        Self {
            name: t.tenant.to_string(),
            limits: t.limits.into(),
            created_at: time(t.created_at),
            updated_at: time(t.updated_at),
        }
    }
}

/// Lists the tenants (platform admins), `default` among them.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants",
    responses((status = 200, body = Vec<TenantItem>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "Not a principal of the default tenant")),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<TenantItem>>, ApiError> {
    let tenants = state.relay.tenants().list(&by).await?;
    Ok(Json(tenants.into_iter().map(TenantItem::from).collect()))
}

/// Creates a tenant (platform admins).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenantRequest,
    responses((status = 201, body = TenantItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(request): ApiJson<NewTenantRequest>,
) -> Result<(StatusCode, Json<TenantItem>), ApiError> {
    let record = (state.relay)
        .tenants()
        .create(&by, &request.name, request.limits.into())
        .await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// One tenant (platform admins).
#[utoipa::path(get, path = "/api/v1/tenants/{name}", tag = "tenants",
    params(("name" = String, Path, description = "The tenant")),
    responses((status = 200, body = TenantItem), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn read(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<Json<TenantItem>, ApiError> {
    Ok(Json(state.relay.tenants().get(&by, &name).await?.into()))
}

/// Replaces a tenant's limits (platform admins).
#[utoipa::path(put, path = "/api/v1/tenants/{name}", tag = "tenants", request_body = TenantUpdate,
    params(("name" = String, Path, description = "The tenant")),
    responses((status = 200, body = TenantItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn update(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<TenantUpdate>,
) -> Result<Json<TenantItem>, ApiError> {
    let record = (state.relay)
        .tenants()
        .update(&by, &name, request.limits.into())
        .await?;
    Ok(Json(record.into()))
}

/// Deletes a tenant (platform admins). Refused with 409 for `default` and while the tenant
/// has sources, destinations, routes, unrevoked API keys or users.
#[utoipa::path(delete, path = "/api/v1/tenants/{name}", tag = "tenants",
    params(("name" = String, Path, description = "The tenant")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn delete(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.relay.tenants().delete(&by, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Creates an API key in the tenant (platform admins): how a tenant gets its first admin.
/// The token is in this answer only.
#[utoipa::path(post, path = "/api/v1/tenants/{name}/api-keys", tag = "tenants", request_body = NewKeyRequest,
    params(("name" = String, Path, description = "The tenant")),
    responses((status = 201, body = KeyItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create_key(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    ApiJson(request): ApiJson<NewKeyRequest>,
) -> Result<(StatusCode, Json<KeyItem>), ApiError> {
    let created = (state.relay)
        .tenants()
        .create_api_key(&by, &name, &request.name, Role::from(request.role))
        .await?;
    let mut item = KeyItem::from(created.record);
    item.token = Some(created.token.expose().to_owned());
    Ok((StatusCode::CREATED, Json(item)))
}
