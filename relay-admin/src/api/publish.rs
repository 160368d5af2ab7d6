//! `POST /api/v1/events`: publishing an application's own event (see
//! [`relay_core::publish`]); `GET /api/v1/event-types`: the event types it may carry.

use crate::reply::Json;
use crate::request::State;
use http::StatusCode;
use relay_core::control::admin::Role;
use relay_core::publish::{EventType, Publish, Published};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Auth};
use crate::state::AdminState;

/// `POST /events`: an event to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// The event type routes match on, e.g. `invoice.paid`.
    #[schema(min_length = 1, max_length = 256)]
    pub event_type: String,
    /// The JSON body every delivery carries.
    pub payload: serde_json::Value,
    /// Deduplicates within the source's dedup window (the original id is answered).
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Send to exactly these destinations (no routing). Without: routes decide.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub destinations: Option<Vec<String>>,
    /// The source it comes from (default `app`).
    #[serde(default)]
    pub source: Option<String>,
}

/// A committed publish.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishResult {
    /// `accepted` (202) or `duplicate` (200).
    pub status: &'static str,
    /// The event's id (the original's for a duplicate).
    pub event_id: String,
}

/// Publishes an event: routed like an ingested event from `source`, or sent to exactly
/// `destinations`; answered once the event and its deliveries are committed.
#[utoipa::path(post, path = "/api/v1/events", tag = "publishing", request_body = PublishRequest,
    responses((status = 202, body = PublishResult, description = "Accepted"),
        (status = 200, body = PublishResult, description = "A repeated idempotency key"),
        (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn publish(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(request): ApiJson<PublishRequest>,
) -> Result<(StatusCode, Json<PublishResult>), ApiError> {
    let mut publish = Publish::new(request.event_type, request.payload);
    if let Some(key) = request.idempotency_key {
        publish = publish.idempotency_key(key);
    }
    if let Some(destinations) = request.destinations {
        publish = publish.destinations(destinations);
    }
    if let Some(source) = request.source {
        publish = publish.source(source);
    }
    let published = state.relay.events().publish(&by, publish).await?;
    let (status, word) = match published {
        Published::Duplicate { .. } => (StatusCode::OK, "duplicate"),
        _ => (StatusCode::ACCEPTED, "accepted"),
    };
    Ok((
        status,
        Json(PublishResult {
            status: word,
            event_id: published.event_id().to_string(),
        }),
    ))
}

/// An event type.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeItem {
    /// The type, e.g. `invoice.paid`.
    pub name: String,
    /// What it means.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema (2020-12) its payloads must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<serde_json::Value>,
}

impl From<&EventType> for EventTypeItem {
    fn from(event_type: &EventType) -> Self {
        Self {
            name: event_type.name().to_owned(),
            description: event_type.description_text().map(str::to_owned),
            schema: event_type.schema_json().cloned(),
        }
    }
}

/// The event types, by name.
#[utoipa::path(get, path = "/api/v1/event-types", tag = "publishing",
    responses((status = 200, body = Vec<EventTypeItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn event_types(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<EventTypeItem>>, ApiError> {
    let state = state.scoped(&by).await?;
    by.require_in(relay_core::control::admin::Area::Traffic, Role::Viewer)?;
    let catalog = state.relay.catalog();
    Ok(Json(
        catalog
            .event_types()
            .into_iter()
            .map(EventTypeItem::from)
            .collect(),
    ))
}
