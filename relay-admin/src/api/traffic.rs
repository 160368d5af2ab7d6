//! Events, dead letters, replay, redrive and discard.

use crate::reply::Json;
use crate::request::{Path, State};
use relay_core::control::admin::{
    AdminError, Area, AuditEntry, AuditQuery, EventQuery, EventState, Principal, Role,
    redacted_headers,
};
use relay_core::model::event::{Attempt, AttemptOutcome, Delivery};
use relay_core::model::ids::{DeliveryId, EventId};
use relay_core::model::payload::Payload;
use relay_core::store::DeadLetterFilter;

use super::attempt_view::attempt_items;
use super::dto::{
    CountResult, DeadLetterParams, DeadLetterSelection, DeliveryItem, EventDetailItem, EventItem,
    EventParams, HeaderItem, Page, ReplayRequest, ReplayResult, StateParam, parse_time,
};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiQuery, Auth};
use super::waiting::why_waiting;
use crate::state::AdminState;

const DEFAULT_PAGE: usize = 50;

fn time_param(
    field: &str,
    value: Option<&String>,
) -> Result<Option<relay_core::model::time::Timestamp>, AdminError> {
    value
        .map(|text| {
            parse_time(text).ok_or_else(|| AdminError::invalid(field, "not an RFC 3339 time"))
        })
        .transpose()
}

fn id_param<T: std::str::FromStr>(
    field: &str,
    value: Option<&String>,
) -> Result<Option<T>, AdminError> {
    value
        .map(|text| {
            text.parse()
                .map_err(|_| AdminError::invalid(field, "not a valid id"))
        })
        .transpose()
}

fn limit(value: Option<usize>) -> Result<usize, AdminError> {
    match value {
        None => Ok(DEFAULT_PAGE),
        Some(n @ 1..=200) => Ok(n),
        Some(_) => Err(AdminError::invalid("limit", "between 1 and 200")),
    }
}

fn event_state(value: Option<StateParam>) -> Option<EventState> {
    value.map(StateParam::into_state)
}

/// `status`: an HTTP status, 100 to 599.
fn status_param(status: Option<u16>) -> Result<Option<u16>, ApiError> {
    match status {
        Some(code) if !(100..=599).contains(&code) => Err(ApiError(AdminError::invalid(
            "status",
            "an HTTP status, 100 to 599",
        ))),
        other => Ok(other),
    }
}

/// Lists events, newest first: by source, type (a glob such as `order.*`), state, time,
/// destination, response status, and `q`, which finds an event by its id, one of its
/// deliveries' ids (exact or a prefix) or its idempotency key (a fragment).
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventParams),
    responses((status = 200, body = Page<EventItem>), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list_events(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiQuery(params): ApiQuery<EventParams>,
) -> Result<Json<Page<EventItem>>, ApiError> {
    let limit = limit(params.limit)?;
    let query = EventQuery {
        source: params.source,
        event_type: params.event_type.filter(|t| !t.is_empty()),
        state: event_state(params.state),
        since: time_param("since", params.since.as_ref())?,
        until: time_param("until", params.until.as_ref())?,
        key_contains: None,
        before: id_param::<EventId>("cursor", params.cursor.as_ref())?,
        text: (params.q.as_deref().map(str::trim))
            .filter(|q| !q.is_empty())
            .map(str::to_owned),
        destination: params.destination.filter(|d| !d.is_empty()),
        response_status: status_param(params.status)?,
    };
    let items = state.relay.events().list_events(&by, &query, limit).await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: items.into_iter().map(EventItem::from).collect(),
        next_cursor,
    }))
}

/// One event with its payload, headers (signatures redacted), deliveries and attempts.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "evt_…")),
    responses((status = 200, body = EventDetailItem), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn event_detail(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(id): Path<String>,
) -> Result<Json<EventDetailItem>, ApiError> {
    let id: EventId = id.parse().map_err(|_| AdminError::NotFound)?;
    let detail = state.relay.events().event_detail(&by, id).await?;
    let event = detail.event;
    let (payload, body_text) = match Payload::parse(&event.headers, &event.body).json() {
        Some(json) => (Some(json.clone()), None),
        None => (
            None,
            Some(String::from_utf8_lossy(&event.body).into_owned()),
        ),
    };
    let headers = redacted_headers(&event.headers)
        .into_iter()
        .map(|(name, value)| HeaderItem { name, value })
        .collect();
    let mut counts = relay_core::control::admin::DeliveryCounts::default();
    let replays = replay_entries(&state, &by, &detail.deliveries, id).await?;
    let scoped = state.scoped(&by).await?;
    let mut deliveries = Vec::with_capacity(detail.deliveries.len());
    for (delivery, attempts) in detail.deliveries {
        counts.add(delivery.status);
        let log = attempt_items(&delivery, attempts, &replays);
        let waiting = why_waiting(&scoped, &by, &delivery).await;
        let mut item = DeliveryItem::from(delivery);
        item.attempt_log = Some(log);
        item.waiting = waiting;
        deliveries.push(item);
    }
    let summary = relay_core::control::admin::EventSummary {
        id: event.id,
        source: event.source,
        event_type: event.event_type,
        idempotency_key: event.idempotency_key,
        received_at: event.received_at,
        status: event.status,
        deliveries: counts,
    };
    Ok(Json(EventDetailItem {
        event: summary.into(),
        headers,
        payload,
        body_text,
        deliveries,
    }))
}

/// The audit entries of replays (of the event, of dead letters, in bulk) that may have sent
/// one of `deliveries` (of event `id`) again, newest first; read only when an attempt
/// followed a final outcome.
async fn replay_entries(
    state: &AdminState,
    by: &Principal,
    deliveries: &[(Delivery, Vec<Attempt>)],
    id: EventId,
) -> Result<Vec<AuditEntry>, ApiError> {
    let replayed = deliveries.iter().any(|(_, attempts)| {
        (attempts.windows(2)).any(|w| w[0].outcome != AttemptOutcome::Retrying)
    });
    if !replayed {
        return Ok(Vec::new());
    }
    let queries = [
        ("event", Some(id.to_string())),
        ("dead_letters", None),
        ("events", None),
    ];
    let mut entries = Vec::new();
    for (kind, object_id) in queries {
        let query = AuditQuery {
            object_kind: Some(kind.to_owned()),
            object_id,
            action: Some("replay".to_owned()),
            before: None,
        };
        let found = (state.relay.store())
            .audit_entries(&by.tenant, &query, 200)
            .await
            .map_err(AdminError::from)?;
        entries.extend(found);
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    Ok(entries)
}

/// Replays an event to the destinations its routes match now; destinations that already
/// have it are skipped unless `force`.
#[utoipa::path(post, path = "/api/v1/events/{id}/replay", tag = "events",
    params(("id" = String, Path, description = "evt_…")), request_body = ReplayRequest,
    responses((status = 400, body = ErrorBody, description = "The body is not JSON"), (status = 200, body = ReplayResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn replay_event(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ReplayRequest>,
) -> Result<Json<ReplayResult>, ApiError> {
    by.require_in(Area::Traffic, Role::Operator)?;
    let id: EventId = id.parse().map_err(|_| AdminError::NotFound)?;
    let report = state
        .relay
        .events()
        .replay_event(&by, id, request.force)
        .await?;
    Ok(Json(ReplayResult {
        scheduled: report.scheduled.iter().map(ToString::to_string).collect(),
        skipped: report.skipped,
    }))
}

/// Lists dead letters by delivery id (oldest first), each with its event's source and type.
#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "dead letters",
    params(DeadLetterParams),
    responses((status = 200, body = Page<DeliveryItem>), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list_dead_letters(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiQuery(params): ApiQuery<DeadLetterParams>,
) -> Result<Json<Page<DeliveryItem>>, ApiError> {
    let limit = limit(params.limit)?;
    let filter = DeadLetterFilter {
        destination: params.destination,
        source: params.source,
        event_id: id_param("event_id", params.event_id.as_ref())?,
        since: time_param("since", params.since.as_ref())?,
    };
    let after = id_param::<DeliveryId>("cursor", params.cursor.as_ref())?;
    let items = state
        .relay
        .events()
        .list_dead_letters(&by, &filter, after, limit)
        .await?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|d| d.id.to_string()))
        .flatten();
    let mut events = std::collections::HashMap::new();
    let mut listed = Vec::with_capacity(items.len());
    for delivery in items {
        let kind = match events.get(&delivery.event_id) {
            Some(kind) => Option::clone(kind),
            None => {
                let event = (state.relay.store())
                    .event(&by.tenant, delivery.event_id)
                    .await
                    .map_err(AdminError::from)?;
                let kind = event.map(|e| (e.source, e.event_type));
                events.insert(delivery.event_id, kind.clone());
                kind
            }
        };
        let mut item = DeliveryItem::from(delivery);
        (item.source, item.event_type) = kind.unzip();
        listed.push(item);
    }
    Ok(Json(Page {
        items: listed,
        next_cursor,
    }))
}

fn selection(body: DeadLetterSelection) -> Result<DeadLetterFilter, AdminError> {
    Ok(DeadLetterFilter {
        destination: body.destination,
        source: body.source,
        event_id: id_param("event_id", body.event_id.as_ref())?,
        since: time_param("since", body.since.as_ref())?,
    })
}

/// Replays every dead letter matching the selection (idempotent: a second call replays
/// none of the same ones again).
#[utoipa::path(post, path = "/api/v1/dead-letters/replay", tag = "dead letters",
    request_body = DeadLetterSelection,
    responses((status = 400, body = ErrorBody, description = "The body is not JSON"), (status = 200, body = CountResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn replay_dead_letters(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(body): ApiJson<DeadLetterSelection>,
) -> Result<Json<CountResult>, ApiError> {
    by.require_in(Area::Traffic, Role::Operator)?;
    let count = state.relay.events().redrive(&by, &selection(body)?).await?;
    Ok(Json(CountResult { count }))
}

/// Discards every dead letter matching the selection.
#[utoipa::path(post, path = "/api/v1/dead-letters/discard", tag = "dead letters",
    request_body = DeadLetterSelection,
    responses((status = 400, body = ErrorBody, description = "The body is not JSON"), (status = 200, body = CountResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn discard_dead_letters(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(body): ApiJson<DeadLetterSelection>,
) -> Result<Json<CountResult>, ApiError> {
    by.require_in(Area::Traffic, Role::Operator)?;
    let count = state.relay.events().discard(&by, &selection(body)?).await?;
    Ok(Json(CountResult { count }))
}

async fn one_dead_letter(
    state: &AdminState,
    by: &relay_core::control::admin::Principal,
    id: &str,
) -> Result<DeadLetterFilter, ApiError> {
    by.require_in(Area::Traffic, Role::Operator)?;
    let id: DeliveryId = id.parse().map_err(|_| AdminError::NotFound)?;
    Ok(state.relay.events().dead_letter_filter(by, id).await?.0)
}

/// Replays one dead letter (0 when it is no longer dead-lettered).
#[utoipa::path(post, path = "/api/v1/dead-letters/{id}/replay", tag = "dead letters",
    params(("id" = String, Path, description = "msg_…")),
    responses((status = 200, body = CountResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn replay_dead_letter(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(id): Path<String>,
) -> Result<Json<CountResult>, ApiError> {
    let filter = one_dead_letter(&state, &by, &id).await?;
    let count = state.relay.events().redrive(&by, &filter).await?;
    Ok(Json(CountResult { count }))
}

/// Discards one dead letter (0 when it is no longer dead-lettered).
#[utoipa::path(post, path = "/api/v1/dead-letters/{id}/discard", tag = "dead letters",
    params(("id" = String, Path, description = "msg_…")),
    responses((status = 200, body = CountResult), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn discard_dead_letter(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(id): Path<String>,
) -> Result<Json<CountResult>, ApiError> {
    let filter = one_dead_letter(&state, &by, &id).await?;
    let count = state.relay.events().discard(&by, &filter).await?;
    Ok(Json(CountResult { count }))
}
