//! Agent identities of the key's tenant: create (the token shown once), list with their status (read from the
//! stored presence, so every node answers the same), revoke, rotate, delete.

use crate::reply::Json;
use crate::request::{Path, State};
use http::StatusCode;
use relay_core::control::agent::{AgentCredential, AgentView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Auth};
use crate::state::AdminState;

/// `POST /agents`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgentRequest {
    /// The agent's name, which destinations of kind `agent` name.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,128}$")]
    pub name: String,
}

/// An agent (its token only in the answers to creation and rotation).
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentItem {
    /// Its name.
    pub name: String,
    /// Whether its credential is revoked.
    pub revoked: bool,
    /// Whether it is connected to any node (the same answer from every node).
    pub online: bool,
    /// The node it is connected to, or was last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// When that connection was made (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_at: Option<String>,
    /// When a node last heard from it (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// The version it reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where it forwards: `URL` (every destination without its own) and `DESTINATION=URL`.
    pub targets: Vec<String>,
    /// Its default URL, while it is connected (any node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_target: Option<String>,
    /// When created (RFC 3339).
    pub created_at: String,
    /// When its credential last changed (RFC 3339).
    pub updated_at: String,
    /// The bearer token (`rag_…`) for `relay agent --token`: shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<AgentView> for AgentItem {
    fn from(view: AgentView) -> Self {
        Self {
            name: view.name,
            revoked: view.revoked,
            online: view.online,
            node: view.node,
            connected_at: view.connected_at.map(super::dto::time),
            last_seen: view.last_seen.map(super::dto::time),
            version: view.version,
            targets: view.targets,
            connected_target: view.connected_target,
            created_at: super::dto::time(view.created_at),
            updated_at: super::dto::time(view.updated_at),
            token: None,
        }
    }
}

fn with_token(created: AgentCredential) -> AgentItem {
    AgentItem {
        token: Some(created.token.expose().to_owned()),
        ..AgentItem::from(created.agent)
    }
}

/// The agents (viewer), each with its status: online, node, last seen, version, targets.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = Vec<AgentItem>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<AgentItem>>, ApiError> {
    let state = state.scoped(&by).await?;
    let agents = state.relay.agents().list(&by).await?;
    Ok(Json(agents.into_iter().map(AgentItem::from).collect()))
}

/// Creates an agent (admin); the answer holds its token, shown this once.
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = NewAgentRequest,
    responses((status = 201, body = AgentItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "An agent of that name exists"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(request): ApiJson<NewAgentRequest>,
) -> Result<(StatusCode, Json<AgentItem>), ApiError> {
    let state = state.scoped(&by).await?;
    let created = state.relay.agents().create(&by, &request.name).await?;
    Ok((StatusCode::CREATED, Json(with_token(created))))
}

/// Revokes an agent's credential (admin): refused from now on, its connection closed.
#[utoipa::path(post, path = "/api/v1/agents/{name}/revoke", tag = "agents",
    params(("name" = String, Path, description = "The agent")),
    responses((status = 200, body = AgentItem), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn revoke(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<Json<AgentItem>, ApiError> {
    let state = state.scoped(&by).await?;
    Ok(Json(state.relay.agents().revoke(&by, &name).await?.into()))
}

/// Gives an agent a new token (admin), shown this once; the old one is refused from now on.
#[utoipa::path(post, path = "/api/v1/agents/{name}/rotate", tag = "agents",
    params(("name" = String, Path, description = "The agent")),
    responses((status = 200, body = AgentItem), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn rotate(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<Json<AgentItem>, ApiError> {
    let state = state.scoped(&by).await?;
    Ok(Json(with_token(
        state.relay.agents().rotate(&by, &name).await?,
    )))
}

/// Deletes an agent (admin); its connection is closed.
#[utoipa::path(delete, path = "/api/v1/agents/{name}", tag = "agents",
    params(("name" = String, Path, description = "The agent")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn delete(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let state = state.scoped(&by).await?;
    state.relay.agents().delete(&by, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
