//! Saved HTTP destinations; their credentials arrive sealed and are stored as such.

use deadpool_postgres::Pool;
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::{DestinationRecord, StoreError};

use crate::error::{Db, PgStoreError};
use crate::rows::get;

const UPSERT: &str = "INSERT INTO destinations
         (tenant, name, url, signing_secret, auth_header, settings, updated_at)
     VALUES ($1::text, $2::text, $3::text, $4::bytea, $5::bytea, $6::text, $7::int8)
     ON CONFLICT (tenant, name) DO UPDATE SET
         url = excluded.url, signing_secret = excluded.signing_secret,
         auth_header = excluded.auth_header, settings = excluded.settings,
         updated_at = excluded.updated_at";

const LIST: &str = "SELECT name, url, signing_secret, auth_header, settings, updated_at
     FROM destinations WHERE tenant = $1::text ORDER BY name COLLATE \"C\"";

/// [`ObjectStore::put_destination`](relay_core::store::ObjectStore::put_destination): one upsert.
pub(crate) async fn put(
    pool: &Pool,
    tenant: &TenantId,
    record: &DestinationRecord,
) -> Result<(), StoreError> {
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(UPSERT).await.db()?;
    client
        .execute(
            &statement,
            &[
                &tenant.as_str(),
                &record.name,
                &record.url,
                &record.signing_secret,
                &record.auth_header,
                &record.settings,
                &record.updated_at.as_millis(),
            ],
        )
        .await
        .db()?;
    Ok(())
}

/// [`ObjectStore::destination_records`](relay_core::store::ObjectStore::destination_records).
pub(crate) async fn list(
    pool: &Pool,
    tenant: &TenantId,
) -> Result<Vec<DestinationRecord>, StoreError> {
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(LIST).await.db()?;
    let rows = client.query(&statement, &[&tenant.as_str()]).await.db()?;
    let records = rows
        .iter()
        .map(|row| {
            Ok(DestinationRecord {
                name: get(row, 0)?,
                url: get(row, 1)?,
                signing_secret: get(row, 2)?,
                auth_header: get(row, 3)?,
                settings: get(row, 4)?,
                updated_at: Timestamp::from_millis(get(row, 5)?),
            })
        })
        .collect::<Result<_, PgStoreError>>()?;
    Ok(records)
}
