//! Saved HTTP destinations; their credentials arrive sealed and are stored as such.

use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::{DestinationRecord, StoreError};
use rusqlite::{Connection, params};

use crate::writes::Db;

/// [`ObjectStore::put_destination`](relay_core::store::ObjectStore::put_destination).
pub(crate) fn put(
    conn: &Connection,
    tenant: &TenantId,
    record: &DestinationRecord,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO destinations
             (tenant, name, url, signing_secret, auth_header, settings, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (tenant, name) DO UPDATE SET
             url = excluded.url, signing_secret = excluded.signing_secret,
             auth_header = excluded.auth_header, settings = excluded.settings,
             updated_at = excluded.updated_at",
    )
    .db()?
    .execute(params![
        tenant.as_str(),
        record.name,
        record.url,
        record.signing_secret,
        record.auth_header,
        record.settings,
        record.updated_at.as_millis(),
    ])
    .db()?;
    Ok(())
}

/// [`ObjectStore::destination_records`](relay_core::store::ObjectStore::destination_records).
pub(crate) fn list(
    conn: &Connection,
    tenant: &TenantId,
) -> Result<Vec<DestinationRecord>, StoreError> {
    let mut statement = conn
        .prepare_cached(
            "SELECT name, url, signing_secret, auth_header, settings, updated_at
             FROM destinations WHERE tenant = ?1 ORDER BY name",
        )
        .db()?;
    let rows = statement
        .query_map(params![tenant.as_str()], |row| {
            Ok(DestinationRecord {
                name: row.get(0)?,
                url: row.get(1)?,
                signing_secret: row.get(2)?,
                auth_header: row.get(3)?,
                settings: row.get(4)?,
                updated_at: Timestamp::from_millis(row.get(5)?),
            })
        })
        .db()?;
    rows.collect::<rusqlite::Result<Vec<_>>>().db()
}
