//! `POST /api/v1/events/replay`: every stored event matching a selection sent again, a page
//! at a time (`relay replay` drives it).

use relay_core::control::admin::{AdminError, ReplayPage, ReplaySelection};
use relay_core::model::ids::EventId;
use relay_core::route::Glob;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{StateParam, parse_time};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Auth};
use crate::reply::Json;
use crate::request::State;
use crate::state::AdminState;

/// Which events to send again, and how. Every field is optional; `{}` replays every event.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReplayRequest {
    /// Only events from this source.
    pub source: Option<String>,
    /// Only events whose type matches this glob (`order.*`) or equals it.
    #[schema(min_length = 1)]
    pub event_type: Option<String>,
    /// Only events in this state.
    pub state: Option<StateParam>,
    /// Only events received at or after this time (RFC 3339).
    #[schema(format = DateTime)]
    pub since: Option<String>,
    /// Only events received before this time (RFC 3339).
    #[schema(format = DateTime)]
    pub until: Option<String>,
    /// Send only to this destination (events whose routes do not match it now are skipped).
    pub destination: Option<String>,
    /// Also send to destinations that already delivered the event. Without it the replay is
    /// idempotent: running it again schedules nothing already scheduled or delivered.
    #[serde(default)]
    pub force: bool,
    /// Count what would be sent; schedule nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The previous page's `next_cursor`.
    #[schema(pattern = "^evt_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Events examined in this page (1 to 200, default 100). A whole number written as a
    /// float (`100.0`) is the same number, as JSON Schema counts it.
    #[schema(minimum = 1, maximum = 200)]
    #[serde(default, deserialize_with = "whole_number")]
    pub limit: Option<usize>,
}

/// What one page of a bulk replay did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReplayResult {
    /// Events read in this page.
    pub examined: usize,
    /// Of those, events matching the whole selection.
    pub matched: usize,
    /// Deliveries scheduled (with `dry_run`: that would be).
    pub scheduled: usize,
    /// Deliveries skipped: their destination already has the event, or it is in flight.
    pub skipped: usize,
    /// Send this as `cursor` for the next page; `null` when this was the last one.
    pub next_cursor: Option<String>,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

const DEFAULT_LIMIT: usize = 100;

/// A JSON number that is a whole number (`98` or `98.0`), as a `usize`.
fn whole_number<'de, D: serde::Deserializer<'de>>(from: D) -> Result<Option<usize>, D::Error> {
    use serde::de::Error as _;
    let Some(number) = Option::<serde_json::Number>::deserialize(from)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        let float = number.as_f64()?;
        // Exact for every value a page size can take; larger ones are refused below anyway.
        (float.fract() == 0.0 && (0.0..=1e15).contains(&float)).then_some(float as u64)
    });
    whole
        .and_then(|n| usize::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("{number} is not a whole number")))
}

fn time(
    field: &str,
    value: Option<&str>,
) -> Result<Option<relay_core::model::time::Timestamp>, AdminError> {
    value
        .map(|text| {
            parse_time(text).ok_or_else(|| AdminError::invalid(field, "not an RFC 3339 time"))
        })
        .transpose()
}

fn selection(body: &BulkReplayRequest) -> Result<ReplaySelection, AdminError> {
    if body.event_type.as_deref() == Some("") {
        return Err(AdminError::invalid("event_type", "must not be empty"));
    }
    Ok(ReplaySelection {
        source: body.source.clone(),
        event_type: body.event_type.clone().map(Glob::new),
        state: body.state.map(StateParam::into_state),
        since: time("since", body.since.as_deref())?,
        until: time("until", body.until.as_deref())?,
        destination: body.destination.clone(),
    })
}

/// Replays one page of the stored events matching the selection, newest first; call again
/// with `next_cursor` until it is `null`. Audited per page that scheduled anything.
#[utoipa::path(post, path = "/api/v1/events/replay", tag = "events",
    request_body = BulkReplayRequest,
    responses((status = 200, body = BulkReplayResult),
        (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn replay_matching(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiJson(body): ApiJson<BulkReplayRequest>,
) -> Result<Json<BulkReplayResult>, ApiError> {
    let selection = selection(&body)?;
    let cursor = (body.cursor.as_deref())
        .map(|text| {
            text.parse::<EventId>()
                .map_err(|_| AdminError::invalid("cursor", "not a valid id"))
        })
        .transpose()?;
    let page = ReplayPage {
        cursor,
        limit: body.limit.unwrap_or(DEFAULT_LIMIT),
        force: body.force,
        dry_run: body.dry_run,
    };
    let report = state
        .relay
        .events()
        .replay_matching(&by, &selection, page)
        .await?;
    Ok(Json(BulkReplayResult {
        examined: report.examined,
        matched: report.matched,
        scheduled: report.scheduled,
        skipped: report.skipped,
        next_cursor: report.next_cursor.map(|id| id.to_string()),
        dry_run: body.dry_run,
    }))
}

#[cfg(test)]
mod tests {
    use super::BulkReplayRequest;

    fn limit(body: &str) -> Result<Option<usize>, serde_json::Error> {
        serde_json::from_str::<BulkReplayRequest>(body).map(|request| request.limit)
    }

    #[test]
    fn a_limit_is_any_whole_number_and_nothing_else() {
        assert_eq!(limit("{}").ok(), Some(None));
        assert_eq!(limit(r#"{"limit": 98}"#).ok(), Some(Some(98)));
        assert_eq!(limit(r#"{"limit": 98.0}"#).ok(), Some(Some(98)));
        for refused in [r#"{"limit": 1.5}"#, r#"{"limit": -1}"#, r#"{"limit": "5"}"#] {
            assert!(limit(refused).is_err(), "{refused}");
        }
    }
}
