//! Sources, destinations and routes created through the admin API.

use deadpool_postgres::Pool;
use relay_core::control::manage::{ObjectKind, ObjectRecord};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use tokio_postgres::Row;

use super::{execute, rows};
use crate::error::PgStoreError;
use crate::rows::get;

const INSERT: &str = "INSERT INTO config_objects
         (tenant, kind, name, spec, enabled, created_at, updated_at)
     VALUES ($1::text, $2::text, $3::text, $4::text, $5::bool, $6::int8, $7::int8)
     ON CONFLICT (tenant, kind, name) DO NOTHING";

const UPDATE: &str = "UPDATE config_objects SET spec = $4::text, enabled = $5::bool,
         updated_at = $6::int8
     WHERE tenant = $1::text AND kind = $2::text AND name = $3::text";

const DELETE: &str =
    "DELETE FROM config_objects WHERE tenant = $1::text AND kind = $2::text AND name = $3::text";

const ALL: &str = "SELECT kind, name, spec, enabled, created_at, updated_at
     FROM config_objects WHERE tenant = $1::text";

fn object(row: &Row) -> Result<ObjectRecord, PgStoreError> {
    let kind: String = get(row, 0)?;
    Ok(ObjectRecord {
        kind: kind
            .parse()
            .map_err(|e: relay_core::control::manage::UnknownKind| {
                PgStoreError::Corrupt(e.to_string())
            })?,
        name: get(row, 1)?,
        spec: get(row, 2)?,
        enabled: get(row, 3)?,
        created_at: Timestamp::from_millis(get(row, 4)?),
        updated_at: Timestamp::from_millis(get(row, 5)?),
    })
}

pub(crate) async fn insert(
    pool: &Pool,
    tenant: &TenantId,
    record: &ObjectRecord,
) -> Result<bool, StoreError> {
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
        &tenant.as_str(),
        &record.kind.as_str(),
        &record.name,
        &record.spec,
        &record.enabled,
        &record.created_at.as_millis(),
        &record.updated_at.as_millis(),
    ];
    Ok(execute(pool, INSERT, &params).await? == 1)
}

pub(crate) async fn update(
    pool: &Pool,
    tenant: &TenantId,
    record: &ObjectRecord,
) -> Result<bool, StoreError> {
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
        &tenant.as_str(),
        &record.kind.as_str(),
        &record.name,
        &record.spec,
        &record.enabled,
        &record.updated_at.as_millis(),
    ];
    Ok(execute(pool, UPDATE, &params).await? == 1)
}

pub(crate) async fn delete(
    pool: &Pool,
    tenant: &TenantId,
    kind: ObjectKind,
    name: &str,
) -> Result<bool, StoreError> {
    Ok(execute(pool, DELETE, &[&tenant.as_str(), &kind.as_str(), &name]).await? == 1)
}

pub(crate) async fn all(pool: &Pool, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
    let found = rows(pool, ALL, &[&tenant.as_str()]).await?;
    let mut records = found.iter().map(object).collect::<Result<Vec<_>, _>>()?;
    records.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(records)
}
