//! The append-only audit log and per-minute metric points.

use deadpool_postgres::Pool;
use relay_core::control::admin::{
    AuditEntry, AuditQuery, MetricMerge, MetricPoint, MetricQuery, MetricScope,
};
use relay_core::model::ids::{AuditId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{execute, rows};
use crate::error::PgStoreError;
use crate::rows::{client, get};

/// The only statement that writes the audit log: nothing in this crate updates or deletes
/// an audit row (but migration 14, which renamed the action `redrive` to `replay` once).
const APPEND: &str = "INSERT INTO audit_log
         (id, tenant, at, actor, action, object_kind, object_id, changes, client)
     VALUES ($1::uuid, $2::text, $3::int8, $4::text, $5::text, $6::text, $7::text, $8::text,
         $9::text)";

const ENTRIES: &str = "SELECT id, tenant, at, actor, action, object_kind, object_id, changes,
         client
     FROM audit_log
     WHERE tenant = $1::text AND ($2::text IS NULL OR object_kind = $2::text)
         AND ($3::text IS NULL OR object_id = $3::text) AND ($4::uuid IS NULL OR id < $4::uuid)
         AND ($6::text IS NULL OR action = $6::text)
     ORDER BY id DESC LIMIT $5::int8";

/// Merges a batch in one statement: samples of one key within the batch are combined first
/// (an upsert may touch a row once), rows are written in key order (so concurrent batches
/// lock in the same order), and each is added to or kept at the maximum of the stored value.
const ADD: &str = "INSERT INTO metric_points (tenant, minute, scope, name, metric, value)
     SELECT $1::text, minute, scope, name, metric, sum(value)::int8
     FROM UNNEST($2::int8[], $3::text[], $4::text[], $5::text[], $6::int8[])
         AS s (minute, scope, name, metric, value)
     GROUP BY minute, scope, name, metric ORDER BY minute, scope, name, metric
     ON CONFLICT (tenant, minute, scope, name, metric)
     DO UPDATE SET value = metric_points.value + excluded.value";

const MAX: &str = "INSERT INTO metric_points (tenant, minute, scope, name, metric, value)
     SELECT $1::text, minute, scope, name, metric, max(value)
     FROM UNNEST($2::int8[], $3::text[], $4::text[], $5::text[], $6::int8[])
         AS s (minute, scope, name, metric, value)
     GROUP BY minute, scope, name, metric ORDER BY minute, scope, name, metric
     ON CONFLICT (tenant, minute, scope, name, metric)
     DO UPDATE SET value = GREATEST(metric_points.value, excluded.value)";

const POINTS: &str = "SELECT minute, scope, name, metric, value FROM metric_points
     WHERE tenant = $1::text AND minute >= $2::int8 AND minute < $3::int8
         AND ($4::text IS NULL OR scope = $4::text) AND ($5::text IS NULL OR name = $5::text)
     ORDER BY minute, scope, name COLLATE \"C\", metric COLLATE \"C\"";

fn entry(row: &Row) -> Result<AuditEntry, PgStoreError> {
    let changes: String = get(row, 7)?;
    Ok(AuditEntry {
        id: AuditId::from_bytes(get::<Uuid>(row, 0)?.into_bytes()),
        tenant: TenantId::new(get::<String>(row, 1)?),
        at: Timestamp::from_millis(get(row, 2)?),
        actor: get(row, 3)?,
        action: get(row, 4)?,
        object_kind: get(row, 5)?,
        object_id: get(row, 6)?,
        changes: serde_json::from_str(&changes)
            .map_err(|e| PgStoreError::Corrupt(format!("audit changes: {e}")))?,
        client: client(row, 8)?,
    })
}

pub(crate) async fn append_audit(pool: &Pool, entry: &AuditEntry) -> Result<(), StoreError> {
    let changes = serde_json::to_string(&entry.changes)
        .map_err(|e| StoreError::Corrupt(format!("audit changes: {e}")))?;
    execute(
        pool,
        APPEND,
        &[
            &entry.id.as_uuid(),
            &entry.tenant.as_str(),
            &entry.at.as_millis(),
            &entry.actor,
            &entry.action,
            &entry.object_kind,
            &entry.object_id,
            &changes,
            &entry.client.map(|ip| ip.to_string()),
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn audit_entries(
    pool: &Pool,
    tenant: &TenantId,
    query: &AuditQuery,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let found = rows(
        pool,
        ENTRIES,
        &[
            &tenant.as_str(),
            &query.object_kind,
            &query.object_id,
            &query.before.map(|b| b.as_uuid()),
            &limit,
            &query.action,
        ],
    )
    .await?;
    Ok(found.iter().map(entry).collect::<Result<_, _>>()?)
}

pub(crate) async fn record_metrics(
    pool: &Pool,
    tenant: &TenantId,
    samples: &[MetricPoint],
    merge: MetricMerge,
) -> Result<(), StoreError> {
    let minutes: Vec<i64> = samples.iter().map(|s| s.minute.as_millis()).collect();
    let scopes: Vec<&str> = samples.iter().map(|s| s.scope.as_str()).collect();
    let names: Vec<&str> = samples.iter().map(|s| s.name.as_str()).collect();
    let metrics: Vec<&str> = samples.iter().map(|s| s.metric.as_str()).collect();
    let values: Vec<i64> = samples.iter().map(|s| s.value).collect();
    let sql = match merge {
        MetricMerge::Add => ADD,
        MetricMerge::Max => MAX,
    };
    execute(
        pool,
        sql,
        &[
            &tenant.as_str(),
            &minutes,
            &scopes,
            &names,
            &metrics,
            &values,
        ],
    )
    .await?;
    Ok(())
}

fn point(row: &Row) -> Result<MetricPoint, PgStoreError> {
    let scope: String = get(row, 1)?;
    Ok(MetricPoint {
        minute: Timestamp::from_millis(get(row, 0)?),
        scope: MetricScope::parse(&scope)
            .ok_or_else(|| PgStoreError::Corrupt(format!("metric scope {scope:?}")))?,
        name: get(row, 2)?,
        metric: get(row, 3)?,
        value: get(row, 4)?,
    })
}

pub(crate) async fn metric_points(
    pool: &Pool,
    tenant: &TenantId,
    query: &MetricQuery,
) -> Result<Vec<MetricPoint>, StoreError> {
    let found = rows(
        pool,
        POINTS,
        &[
            &tenant.as_str(),
            &query.from.as_millis(),
            &query.to.as_millis(),
            &query.scope.map(MetricScope::as_str),
            &query.name,
        ],
    )
    .await?;
    Ok(found.iter().map(point).collect::<Result<_, _>>()?)
}
