//! The append-only audit log and per-minute metric points.

use relay_core::control::admin::{
    AuditEntry, AuditQuery, MetricMerge, MetricPoint, MetricQuery, MetricScope,
};
use relay_core::model::ids::{AuditId, TenantId};
use relay_core::store::StoreError;
use rusqlite::{Connection, Row, params};

use crate::rows::{client, corrupt, id16, time};
use crate::writes::Db;

const AUDIT_COLUMNS: &str =
    "id, tenant, at, actor, action, object_kind, object_id, changes, client";

fn audit_entry(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let changes: String = row.get(7)?;
    Ok(AuditEntry {
        id: AuditId::from_bytes(id16(row, 0)?),
        tenant: TenantId::new(row.get::<_, String>(1)?),
        at: time(row, 2)?,
        actor: row.get(3)?,
        action: row.get(4)?,
        object_kind: row.get(5)?,
        object_id: row.get(6)?,
        changes: serde_json::from_str(&changes).map_err(|e| corrupt(7, e.to_string()))?,
        client: client(row, 8)?,
    })
}

/// [`AuditLog::append_audit`](relay_core::store::AuditLog::append_audit): an INSERT;
/// nothing in this crate updates or deletes an audit row (but migration 15, which renamed the
/// action `redrive` to `replay` once).
pub(crate) fn append_audit(conn: &Connection, entry: &AuditEntry) -> Result<(), StoreError> {
    let changes = serde_json::to_string(&entry.changes)
        .map_err(|e| StoreError::Corrupt(format!("audit changes: {e}")))?;
    conn.prepare_cached(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    ))
    .db()?
    .execute(params![
        entry.id.as_bytes(),
        entry.tenant.as_str(),
        entry.at.as_millis(),
        entry.actor,
        entry.action,
        entry.object_kind,
        entry.object_id,
        changes,
        entry.client.map(|ip| ip.to_string()),
    ])
    .db()?;
    Ok(())
}

/// [`AuditLog::audit_entries`](relay_core::store::AuditLog::audit_entries).
pub(crate) fn audit_entries(
    conn: &Connection,
    tenant: &TenantId,
    query: &AuditQuery,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.prepare_cached(&format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log
         WHERE tenant = ?1 AND (?2 IS NULL OR object_kind = ?2)
             AND (?3 IS NULL OR object_id = ?3) AND (?4 IS NULL OR id < ?4)
             AND (?6 IS NULL OR action = ?6)
         ORDER BY id DESC LIMIT ?5"
    ))
    .db()?
    .query_map(
        params![
            tenant.as_str(),
            query.object_kind,
            query.object_id,
            query.before.map(|b| b.as_bytes().to_vec()),
            limit,
            query.action,
        ],
        audit_entry,
    )
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

/// [`MetricStore::record_metrics`](relay_core::store::MetricStore::record_metrics): one
/// upsert per sample, all in the caller's transaction.
pub(crate) fn record_metrics(
    conn: &Connection,
    tenant: &TenantId,
    samples: &[MetricPoint],
    merge: MetricMerge,
) -> Result<(), StoreError> {
    let merged = match merge {
        MetricMerge::Add => "value + excluded.value",
        MetricMerge::Max => "max(value, excluded.value)",
    };
    let mut upsert = conn
        .prepare_cached(&format!(
            "INSERT INTO metric_points (tenant, minute, scope, name, metric, value)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (tenant, minute, scope, name, metric) DO UPDATE SET value = {merged}"
        ))
        .db()?;
    for sample in samples {
        upsert
            .execute(params![
                tenant.as_str(),
                sample.minute.as_millis(),
                sample.scope.as_str(),
                sample.name,
                sample.metric,
                sample.value,
            ])
            .db()?;
    }
    Ok(())
}

fn metric_point(row: &Row<'_>) -> rusqlite::Result<MetricPoint> {
    let scope: String = row.get(1)?;
    Ok(MetricPoint {
        minute: time(row, 0)?,
        scope: MetricScope::parse(&scope)
            .ok_or_else(|| corrupt(1, format!("metric scope {scope:?}")))?,
        name: row.get(2)?,
        metric: row.get(3)?,
        value: row.get(4)?,
    })
}

/// [`MetricStore::metric_points`](relay_core::store::MetricStore::metric_points).
pub(crate) fn metric_points(
    conn: &Connection,
    tenant: &TenantId,
    query: &MetricQuery,
) -> Result<Vec<MetricPoint>, StoreError> {
    conn.prepare_cached(
        "SELECT minute, scope, name, metric, value FROM metric_points
         WHERE tenant = ?1 AND minute >= ?2 AND minute < ?3
             AND (?4 IS NULL OR scope = ?4) AND (?5 IS NULL OR name = ?5)
         ORDER BY minute, scope, name, metric",
    )
    .db()?
    .query_map(
        params![
            tenant.as_str(),
            query.from.as_millis(),
            query.to.as_millis(),
            query.scope.map(MetricScope::as_str),
            query.name,
        ],
        metric_point,
    )
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}
