//! The audit log, per-minute metrics, and the configured sources, destinations and routes.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use relay_core::admin::{AdminError, AuditQuery, MetricQuery, MetricScope, Role, summarize};
use relay_core::destination::Target;
use relay_core::ids::{AuditId, TenantId};
use relay_core::time::Timestamp;

use super::AdminState;
use super::dto::{
    AuditItem, AuditParams, DestinationItem, MetricParams, MetricsReport, Page, PointItem,
    RouteItem, ScopeParam, SourceItem, parse_time,
};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Auth};

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Page<AuditItem>), (status = 401, body = ErrorBody),
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
    let points = state.relay.metric_points(&by, &query).await?;
    let summary = summarize(&points);
    Ok(Json(MetricsReport {
        points: points.into_iter().map(PointItem::from).collect(),
        totals: summary.totals,
        success_rate: summary.success_rate,
        latency_p50_ms: summary.latency_p50_ms,
        latency_p95_ms: summary.latency_p95_ms,
        latency_p99_ms: summary.latency_p99_ms,
    }))
}

/// The configured sources.
#[utoipa::path(get, path = "/api/v1/sources", tag = "configuration",
    responses((status = 200, body = Vec<SourceItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn sources(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<SourceItem>>, ApiError> {
    by.require(Role::Viewer)?;
    let catalog = state.relay.catalog();
    let items = catalog
        .sources()
        .into_iter()
        .map(|s| SourceItem {
            name: s.name().to_owned(),
            ingest_path: format!("{}/{}", state.options.ingest_prefix, s.name()),
            max_body_bytes: s.max_body_bytes(),
            rate_limit_per_minute: s.rate_limit().map(|l| l.per_minute),
            dedup_window_secs: s.dedup_window().as_secs(),
        })
        .collect();
    Ok(Json(items))
}

/// The configured destinations with their health.
#[utoipa::path(get, path = "/api/v1/destinations", tag = "configuration",
    responses((status = 200, body = Vec<DestinationItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn destinations(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<DestinationItem>>, ApiError> {
    by.require(Role::Viewer)?;
    let catalog = state.relay.catalog();
    let mut items = Vec::new();
    for d in catalog.destinations() {
        let circuit = state
            .relay
            .store()
            .circuit(&by.tenant, d.name())
            .await
            .map_err(AdminError::from)?;
        items.push(DestinationItem {
            name: d.name().to_owned(),
            url: match d.target() {
                Target::Http { url, .. } => Some(url.to_string()),
                _ => None,
            },
            disabled: state.relay.is_destination_disabled(d.name()),
            circuit: circuit
                .map_or("closed", |c| c.state.phase.as_str())
                .to_owned(),
        });
    }
    Ok(Json(items))
}

/// The configured routes.
#[utoipa::path(get, path = "/api/v1/routes", tag = "configuration",
    responses((status = 200, body = Vec<RouteItem>), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn routes(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<Vec<RouteItem>>, ApiError> {
    by.require(Role::Viewer)?;
    let catalog = state.relay.catalog();
    let items = catalog
        .routes()
        .routes()
        .iter()
        .map(|r| RouteItem {
            name: r.name().to_owned(),
            source: r.source().map(str::to_owned),
            destinations: r.destinations().to_vec(),
            transformer: r.transformer().map(str::to_owned),
            priority: r.priority(),
            active: r.is_active(),
        })
        .collect();
    Ok(Json(items))
}

async fn set_enabled(
    state: &AdminState,
    by: &relay_core::admin::Principal,
    name: &str,
    enabled: bool,
) -> Result<StatusCode, ApiError> {
    by.require(Role::Operator)?;
    if by.tenant != TenantId::default() || state.relay.catalog().destination(name).is_none() {
        return Err(AdminError::NotFound.into());
    }
    if enabled {
        state.relay.enable_destination(name);
    } else {
        state.relay.disable_destination(name);
    }
    let action = if enabled { "enable" } else { "disable" };
    state
        .relay
        .audit(by, action, "destination", name, Vec::new())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resumes deliveries to a destination.
#[utoipa::path(post, path = "/api/v1/destinations/{name}/enable", tag = "configuration",
    params(("name" = String, Path, description = "The destination")),
    responses((status = 204, description = "Enabled"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn enable_destination(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &by, &name, true).await
}

/// Pauses deliveries to a destination (they wait; nothing is dropped).
#[utoipa::path(post, path = "/api/v1/destinations/{name}/disable", tag = "configuration",
    params(("name" = String, Path, description = "The destination")),
    responses((status = 204, description = "Disabled"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn disable_destination(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &by, &name, false).await
}
