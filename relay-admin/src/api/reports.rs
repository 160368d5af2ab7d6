//! The audit log and per-minute metrics.

use std::time::Duration;

use crate::reply::Json;
use crate::request::State;
use relay_core::control::admin::{
    AdminError, AuditQuery, MetricQuery, MetricScope, Percentile, Role, summarize,
};
use relay_core::model::ids::AuditId;
use relay_core::model::time::Timestamp;

use super::dto::{
    AuditItem, AuditParams, MetricParams, MetricsReport, Page, PointItem, ScopeParam, parse_time,
};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Auth};
use crate::state::AdminState;

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Page<AuditItem>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A consumer-portal session"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn audit_log(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<Page<AuditItem>>, ApiError> {
    by.require(Role::Viewer)?;
    let limit = match params.limit {
        None => 50,
        Some(n @ 1..=200) => n,
        Some(_) => return Err(AdminError::invalid("limit", "between 1 and 200").into()),
    };
    let before = params
        .cursor
        .map(|c| c.parse::<AuditId>())
        .transpose()
        .map_err(|_| AdminError::invalid("cursor", "not a valid cursor"))?;
    let query = AuditQuery {
        object_kind: params.object_kind,
        object_id: params.object_id,
        action: params.action,
        before,
    };
    let items = state
        .relay
        .store()
        .audit_entries(&by.tenant, &query, limit)
        .await
        .map_err(AdminError::from)?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|e| e.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: items.into_iter().map(AuditItem::from).collect(),
        next_cursor,
    }))
}

/// Per-minute metric points and their summary (totals, success rate, latency percentiles).
#[utoipa::path(get, path = "/api/v1/metrics/points", tag = "metrics", params(MetricParams),
    responses((status = 200, body = MetricsReport), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A consumer-portal session"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn metric_points(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiQuery(params): ApiQuery<MetricParams>,
) -> Result<Json<MetricsReport>, ApiError> {
    let time = |field: &str, value: Option<String>, default: Timestamp| match value {
        None => Ok(default),
        Some(text) => {
            parse_time(&text).ok_or_else(|| AdminError::invalid(field, "not an RFC 3339 time"))
        }
    };
    let now = Timestamp::now();
    let hour_ago = Timestamp::from_millis(now.as_millis() - 3_600_000);
    let scope = params.scope.map(|s| match s {
        ScopeParam::Gateway => MetricScope::Gateway,
        ScopeParam::Source => MetricScope::Source,
        ScopeParam::Destination => MetricScope::Destination,
    });
    let query = MetricQuery {
        from: time("from", params.from, hour_ago)?,
        to: time("to", params.to, now.plus(Duration::from_secs(60)))?,
        scope,
        name: params.name,
    };
    let points = state.relay.metrics().points(&by, &query).await?;
    let summary = summarize(&points);
    Ok(Json(MetricsReport {
        points: points.into_iter().map(PointItem::from).collect(),
        totals: summary.totals,
        success_rate: summary.success_rate,
        latency_p50_ms: summary.latency_p50.and_then(Percentile::at_most_ms),
        latency_p50_over_ms: summary.latency_p50.and_then(Percentile::over_ms),
        latency_p95_ms: summary.latency_p95.and_then(Percentile::at_most_ms),
        latency_p95_over_ms: summary.latency_p95.and_then(Percentile::over_ms),
        latency_p99_ms: summary.latency_p99.and_then(Percentile::at_most_ms),
        latency_p99_over_ms: summary.latency_p99.and_then(Percentile::over_ms),
        queue_depth: summary.queue_depth,
    }))
}
