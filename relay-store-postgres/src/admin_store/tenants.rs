//! The tenant registry.

use deadpool_postgres::Pool;
use relay_core::control::admin::{TenantLimits, TenantRecord};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::{QuotaOutcome, StoreError};
use tokio_postgres::types::ToSql;

use super::{execute, rows};
use crate::rows::get;

const INSERT: &str = "INSERT INTO tenants (name, limits, created_at, updated_at)
     VALUES ($1::text, $2::text, $3::int8, $4::int8) ON CONFLICT (name) DO NOTHING";

const UPDATE: &str =
    "UPDATE tenants SET limits = $2::text, updated_at = $3::int8 WHERE name = $1::text";

const DELETE: &str = "DELETE FROM tenants WHERE name = $1::text";

const ALL: &str = "SELECT name, limits, created_at, updated_at FROM tenants ORDER BY name";

pub(crate) async fn insert(pool: &Pool, record: &TenantRecord) -> Result<bool, StoreError> {
    let params: [&(dyn ToSql + Sync); 4] = [
        &record.tenant.as_str(),
        &record.limits.to_json(),
        &record.created_at.as_millis(),
        &record.updated_at.as_millis(),
    ];
    Ok(execute(pool, INSERT, &params).await? == 1)
}

pub(crate) async fn update(pool: &Pool, record: &TenantRecord) -> Result<bool, StoreError> {
    let params: [&(dyn ToSql + Sync); 3] = [
        &record.tenant.as_str(),
        &record.limits.to_json(),
        &record.updated_at.as_millis(),
    ];
    Ok(execute(pool, UPDATE, &params).await? == 1)
}

pub(crate) async fn delete(pool: &Pool, tenant: &TenantId) -> Result<bool, StoreError> {
    Ok(execute(pool, DELETE, &[&tenant.as_str()]).await? == 1)
}

pub(crate) async fn all(pool: &Pool) -> Result<Vec<TenantRecord>, StoreError> {
    let found = rows(pool, ALL, &[]).await?;
    found
        .iter()
        .map(|row| {
            let name: String = get(row, 0)?;
            let limits: String = get(row, 1)?;
            Ok(TenantRecord {
                tenant: TenantId::new(name),
                limits: TenantLimits::from_json(&limits)?,
                created_at: Timestamp::from_millis(get(row, 2)?),
                updated_at: Timestamp::from_millis(get(row, 3)?),
            })
        })
        .collect()
}

const TAKE_QUOTA: &str = "INSERT INTO tenant_quota AS q (tenant, day, used)
     SELECT $1::text, $2::int8, 1 WHERE $3::int8 > 0
     ON CONFLICT (tenant, day) DO UPDATE SET used = q.used + 1 WHERE q.used < $3::int8
     RETURNING used";

/// [`TenantStore::take_quota`](relay_core::store::TenantStore::take_quota): one statement, atomic
/// under concurrent callers on every node.
pub(crate) async fn take_quota(
    pool: &Pool,
    tenant: &TenantId,
    day: i64,
    limit: u64,
) -> Result<QuotaOutcome, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let found = rows(pool, TAKE_QUOTA, &[&tenant.as_str(), &day, &limit]).await?;
    Ok(match found.first() {
        Some(row) => {
            let used: i64 = get(row, 0)?;
            QuotaOutcome::Taken {
                used: u64::try_from(used).unwrap_or(0),
            }
        }
        None => QuotaOutcome::Exhausted,
    })
}
