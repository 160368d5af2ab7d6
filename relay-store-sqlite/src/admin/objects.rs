//! Sources, destinations and routes created through the admin API.

use relay_core::control::manage::{ObjectKind, ObjectRecord};
use relay_core::model::ids::TenantId;
use relay_core::store::StoreError;
use rusqlite::{Connection, Row, params};

use crate::rows::{corrupt, time};
use crate::writes::Db;

const COLUMNS: &str = "kind, name, spec, enabled, created_at, updated_at";

fn object(row: &Row<'_>) -> rusqlite::Result<ObjectRecord> {
    let kind: String = row.get(0)?;
    Ok(ObjectRecord {
        kind: kind
            .parse()
            .map_err(|e: relay_core::control::manage::UnknownKind| corrupt(0, e.to_string()))?,
        name: row.get(1)?,
        spec: row.get(2)?,
        enabled: row.get(3)?,
        created_at: time(row, 4)?,
        updated_at: time(row, 5)?,
    })
}

/// [`ObjectStore::insert_object`](relay_core::store::ObjectStore::insert_object).
pub(crate) fn insert(
    conn: &Connection,
    tenant: &TenantId,
    record: &ObjectRecord,
) -> Result<bool, StoreError> {
    let inserted = conn
        .prepare_cached(&format!(
            "INSERT INTO config_objects (tenant, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (tenant, kind, name) DO NOTHING"
        ))
        .db()?
        .execute(params![
            tenant.as_str(),
            record.kind.as_str(),
            record.name,
            record.spec,
            record.enabled,
            record.created_at.as_millis(),
            record.updated_at.as_millis(),
        ])
        .db()?;
    Ok(inserted == 1)
}

/// [`ObjectStore::update_object`](relay_core::store::ObjectStore::update_object).
pub(crate) fn update(
    conn: &Connection,
    tenant: &TenantId,
    record: &ObjectRecord,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE config_objects SET spec = ?4, enabled = ?5, updated_at = ?6
             WHERE tenant = ?1 AND kind = ?2 AND name = ?3",
        )
        .db()?
        .execute(params![
            tenant.as_str(),
            record.kind.as_str(),
            record.name,
            record.spec,
            record.enabled,
            record.updated_at.as_millis(),
        ])
        .db()?;
    Ok(changed == 1)
}

/// [`ObjectStore::delete_object`](relay_core::store::ObjectStore::delete_object).
pub(crate) fn delete(
    conn: &Connection,
    tenant: &TenantId,
    kind: ObjectKind,
    name: &str,
) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached("DELETE FROM config_objects WHERE tenant = ?1 AND kind = ?2 AND name = ?3")
        .db()?
        .execute(params![tenant.as_str(), kind.as_str(), name])
        .db()?;
    Ok(deleted == 1)
}

/// [`ObjectStore::objects`](relay_core::store::ObjectStore::objects).
pub(crate) fn all(conn: &Connection, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
    let mut records: Vec<ObjectRecord> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM config_objects WHERE tenant = ?1"
        ))
        .db()?
        .query_map([tenant.as_str()], object)
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()?;
    records.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(records)
}
