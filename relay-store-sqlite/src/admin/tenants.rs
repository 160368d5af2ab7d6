//! The tenant registry.

use relay_core::control::admin::{TenantLimits, TenantRecord};
use relay_core::model::ids::TenantId;
use relay_core::store::{QuotaOutcome, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

use crate::rows::time;
use crate::writes::Db;

/// [`TenantStore::insert_tenant`](relay_core::store::TenantStore::insert_tenant).
pub(crate) fn insert(conn: &Connection, record: &TenantRecord) -> Result<bool, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO tenants (name, limits, created_at, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO NOTHING",
        )
        .db()?
        .execute(params![
            record.tenant.as_str(),
            record.limits.to_json(),
            record.created_at.as_millis(),
            record.updated_at.as_millis(),
        ])
        .db()?;
    Ok(inserted == 1)
}

/// [`TenantStore::update_tenant`](relay_core::store::TenantStore::update_tenant).
pub(crate) fn update(conn: &Connection, record: &TenantRecord) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached("UPDATE tenants SET limits = ?2, updated_at = ?3 WHERE name = ?1")
        .db()?
        .execute(params![
            record.tenant.as_str(),
            record.limits.to_json(),
            record.updated_at.as_millis(),
        ])
        .db()?;
    Ok(changed == 1)
}

/// [`TenantStore::delete_tenant`](relay_core::store::TenantStore::delete_tenant).
pub(crate) fn delete(conn: &Connection, tenant: &TenantId) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached("DELETE FROM tenants WHERE name = ?1")
        .db()?
        .execute([tenant.as_str()])
        .db()?;
    Ok(deleted == 1)
}

/// [`TenantStore::tenants`](relay_core::store::TenantStore::tenants).
pub(crate) fn all(conn: &Connection) -> Result<Vec<TenantRecord>, StoreError> {
    let rows: Vec<(String, String, _, _)> = conn
        .prepare_cached("SELECT name, limits, created_at, updated_at FROM tenants ORDER BY name")
        .db()?
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, time(row, 2)?, time(row, 3)?))
        })
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    rows.into_iter()
        .map(|(name, limits, created_at, updated_at)| {
            Ok(TenantRecord {
                tenant: TenantId::new(name),
                limits: TenantLimits::from_json(&limits)?,
                created_at,
                updated_at,
            })
        })
        .collect()
}

/// [`TenantStore::take_quota`](relay_core::store::TenantStore::take_quota): one statement, so the check
/// and the increment are one atomic step.
pub(crate) fn take_quota(
    conn: &Connection,
    tenant: &TenantId,
    day: i64,
    limit: u64,
) -> Result<QuotaOutcome, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let used: Option<i64> = conn
        .prepare_cached(
            "INSERT INTO tenant_quota (tenant, day, used) SELECT ?1, ?2, 1 WHERE ?3 > 0
             ON CONFLICT (tenant, day) DO UPDATE SET used = used + 1 WHERE used < ?3
             RETURNING used",
        )
        .db()?
        .query_row(params![tenant.as_str(), day, limit], |row| row.get(0))
        .optional()
        .db()?;
    Ok(match used {
        Some(used) => QuotaOutcome::Taken {
            used: u64::try_from(used).unwrap_or(0),
        },
        None => QuotaOutcome::Exhausted,
    })
}
