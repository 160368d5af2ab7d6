//! The audit log and the metric series: items and query parameters.

use relay_core::control::admin::{AuditEntry, MetricPoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::common::{ScopeParam, time};

/// An audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditItem {
    /// `aud_…`.
    pub id: String,
    /// When (RFC 3339).
    pub at: String,
    /// `key:<id>`, `user:<name>` or `system`.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// The kind of object.
    pub object_kind: String,
    /// The object's name or id.
    pub object_id: String,
    /// Field-level changes; secrets appear only as `[redacted]`.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<relay_core::control::admin::FieldChange>,
    /// The client address the change came from (behind a trusted proxy, the one it reports);
    /// `null` for the system's own entries and entries made before addresses were kept.
    pub client: Option<String>,
}

impl From<AuditEntry> for AuditItem {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id.to_string(),
            at: time(e.at),
            actor: e.actor,
            action: e.action,
            object_kind: e.object_kind,
            object_id: e.object_id,
            changes: e.changes,
            client: e.client.map(|ip| ip.to_string()),
        }
    }
}

/// Query of `GET /audit`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only about this kind of object.
    pub object_kind: Option<String>,
    /// Only about this object.
    pub object_id: Option<String>,
    /// Only this action (`replay`, `discard`, `create`, …). Dead-letter replays audited as
    /// `redrive` by older versions are stored as `replay` since the upgrade.
    pub action: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^aud_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Page size (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// Query of `GET /metrics/points`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MetricParams {
    /// From (RFC 3339; default: an hour ago).
    #[param(format = DateTime)]
    pub from: Option<String>,
    /// To (RFC 3339; default: now).
    #[param(format = DateTime)]
    pub to: Option<String>,
    /// Only this scope.
    #[param(inline)]
    pub scope: Option<ScopeParam>,
    /// A source or destination name.
    pub name: Option<String>,
}

/// One per-minute metric value.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointItem {
    /// The minute (RFC 3339).
    pub minute: String,
    /// `gateway`, `source` or `destination`.
    pub scope: String,
    /// The source or destination (empty for the gateway).
    pub name: String,
    /// e.g. `received`, `delivered`, `latency_le_100`.
    pub metric: String,
    /// The value.
    pub value: i64,
}

impl From<MetricPoint> for PointItem {
    fn from(p: MetricPoint) -> Self {
        Self {
            minute: time(p.minute),
            scope: p.scope.as_str().to_owned(),
            name: p.name,
            metric: p.metric,
            value: p.value,
        }
    }
}

/// Per-minute points and their summary.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricsReport {
    /// The points, by minute.
    pub points: Vec<PointItem>,
    /// Totals per metric.
    #[schema(value_type = Object)]
    pub totals: std::collections::BTreeMap<String, i64>,
    /// delivered ÷ (delivered + dead letters not replayed): `dead_lettered` minus
    /// `dead_letters_replayed` counts the failures, so the rate recovers once the dead letters
    /// were replayed and delivered. Absent when nothing finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
    /// Median delivery latency (event received → delivered), ms: the upper bound of its
    /// histogram bucket. Absent when nothing was delivered, or when the median is beyond the
    /// largest bucket (then `latency_p50_over_ms` is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p50_ms: Option<u64>,
    /// Set (to 60000) when the median delivery latency is beyond the largest bounded bucket:
    /// the latency is more than this many ms, with no upper bound known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p50_over_ms: Option<u64>,
    /// 95th percentile delivery latency (received → delivered), ms; as `latency_p50_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p95_ms: Option<u64>,
    /// Set (to 60000) when the 95th percentile is beyond the largest bounded bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p95_over_ms: Option<u64>,
    /// 99th percentile delivery latency (received → delivered), ms; as `latency_p50_ms`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p99_ms: Option<u64>,
    /// Set (to 60000) when the 99th percentile is beyond the largest bounded bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p99_over_ms: Option<u64>,
    /// Deliveries pending or in flight, as of the latest minute with a `queue_depth` point
    /// (a gauge, not in `totals`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_depth: Option<i64>,
}
