//! Login, logout and who-am-I; API keys and users.

use crate::reply::Json;
use crate::reply::{IntoReply, Reply};
use crate::request::{Path, State};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use relay_core::control::admin::{AdminError, Role};
use relay_core::model::secret::Secret;

use super::dto::{KeyItem, LoginRequest, NewKeyRequest, NewUserRequest, UserItem, WhoAmI};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Auth, SESSION_COOKIE};
use crate::state::AdminState;

pub(super) fn cookie(state: &AdminState, value: &str, max_age_secs: u64) -> Option<HeaderValue> {
    let secure = if state.options.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// Logs a dashboard user in: sets the session cookie (HttpOnly, SameSite=Strict, Secure
/// behind TLS). Five failures in a row lock the username for an hour (429); twenty failures
/// from one client address within an hour lock that address out for an hour (429).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 400, body = ErrorBody, description = "The body is not JSON"), (status = 200, body = WhoAmI, description = "Logged in; the session cookie is set"),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "Locked after repeated failures")))]
pub(crate) async fn login(
    State(state): State<AdminState>,
    client: crate::request::ClientInfo,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Reply, ApiError> {
    let client = client.addr;
    let tenant = (request.tenant.as_deref()).map_or_else(
        relay_core::model::ids::TenantId::default,
        relay_core::model::ids::TenantId::new,
    );
    let password = Secret::new(request.password);
    let session = state
        .relay
        .access()
        .login_from(&tenant, &request.username, &password, client)
        .await?;
    let max_age = relay_core::control::admin::SESSION_TTL.as_secs();
    let body = WhoAmI {
        actor: format!("user:{}", session.user.username),
        role: session.user.role.as_str().to_owned(),
        tenant: session.user.tenant.to_string(),
    };
    let mut response = Json(body).into_reply();
    if let Some(value) = cookie(&state, session.token.expose(), max_age) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Ends the session of the cookie sent, and clears the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Logged out")))]
pub(crate) async fn logout(State(state): State<AdminState>, headers: HeaderMap) -> Reply {
    if let Some(token) = super::extract::session_cookie(&headers)
        && let Err(error) = state.relay.access().logout(token).await
    {
        return ApiError(error).into_reply();
    }
    let mut response = StatusCode::NO_CONTENT.into_reply();
    if let Some(value) = cookie(&state, "", 0) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The caller's identity and role.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn me(Auth(by): Auth) -> Json<WhoAmI> {
    Json(WhoAmI {
        actor: by.actor,
        role: by.role.as_str().to_owned(),
        tenant: by.tenant.to_string(),
    })
}

/// Lists API keys (admins).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "access",
    responses((status = 200, body = Vec<KeyItem>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list_keys(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<KeyItem>>, ApiError> {
    by.require(Role::Admin)?;
    let keys = state
        .relay
        .store()
        .api_keys(&by.tenant)
        .await
        .map_err(AdminError::from)?;
    Ok(Json(keys.into_iter().map(KeyItem::from).collect()))
}

/// Creates an API key (admins). The token is in this answer only.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "access", request_body = NewKeyRequest,
    responses((status = 400, body = ErrorBody, description = "The body is not JSON"), (status = 201, body = KeyItem), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create_key(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(request): ApiJson<NewKeyRequest>,
) -> Result<(StatusCode, Json<KeyItem>), ApiError> {
    by.require(Role::Admin)?;
    let role = Role::from(request.role);
    let created = state
        .relay
        .access()
        .create_api_key(&by, &request.name, role)
        .await?;
    let mut item = KeyItem::from(created.record);
    item.token = Some(created.token.expose().to_owned());
    Ok((StatusCode::CREATED, Json(item)))
}

/// Revokes an API key (admins).
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "access",
    params(("id" = String, Path, description = "key_…")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn revoke_key(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.relay.access().revoke_api_key(&by, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists dashboard users (admins).
#[utoipa::path(get, path = "/api/v1/users", tag = "access",
    responses((status = 200, body = Vec<UserItem>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list_users(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<UserItem>>, ApiError> {
    by.require(Role::Admin)?;
    let users = state
        .relay
        .store()
        .users(&by.tenant)
        .await
        .map_err(AdminError::from)?;
    Ok(Json(users.into_iter().map(UserItem::from).collect()))
}

/// Creates a dashboard user (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "access", request_body = NewUserRequest,
    responses((status = 400, body = ErrorBody, description = "The body is not JSON"), (status = 201, body = UserItem), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create_user(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(request): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<UserItem>), ApiError> {
    by.require(Role::Admin)?;
    let role = Role::from(request.role);
    let password = Secret::new(request.password);
    let user = state
        .relay
        .access()
        .create_user(&by, &request.username, &password, role)
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// Deletes a dashboard user and ends their sessions (admins).
#[utoipa::path(delete, path = "/api/v1/users/{username}", tag = "access",
    params(("username" = String, Path, description = "The login name")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn delete_user(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.relay.access().delete_user(&by, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}
