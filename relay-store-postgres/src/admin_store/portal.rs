//! Consumer-portal links: stored by their token's digest, consumed once with one
//! conditional `UPDATE … RETURNING` (row-locked, so of two nodes at most one gets the link).

use deadpool_postgres::Pool;
use relay_core::control::admin::PortalLinkRecord;
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use tokio_postgres::Row;

use super::{execute, rows};
use crate::error::PgStoreError;
use crate::rows::get;

const INSERT: &str = "INSERT INTO portal_links
         (token_hash, id, tenant, created_by, created_at, expires_at, used_at)
     VALUES ($1::bytea, $2::text, $3::text, $4::text, $5::int8, $6::int8, $7::int8)";

const CONSUME: &str = "UPDATE portal_links SET used_at = $2::int8
     WHERE token_hash = $1::bytea AND used_at IS NULL AND expires_at > $2::int8
     RETURNING token_hash, id, tenant, created_by, created_at, expires_at, used_at";

/// Retention: deletes up to `$2` links that expired before `$1`, skipping rows another
/// node's pruner holds.
pub(super) const PRUNE: &str = "
WITH doomed AS (
    SELECT ctid FROM portal_links WHERE expires_at < $1::int8 LIMIT $2::int8 FOR UPDATE SKIP LOCKED
)
DELETE FROM portal_links USING doomed WHERE portal_links.ctid = doomed.ctid";

fn link(row: &Row) -> Result<PortalLinkRecord, PgStoreError> {
    Ok(PortalLinkRecord {
        token_hash: get(row, 0)?,
        id: get(row, 1)?,
        tenant: TenantId::new(get::<String>(row, 2)?),
        created_by: get(row, 3)?,
        created_at: Timestamp::from_millis(get(row, 4)?),
        expires_at: Timestamp::from_millis(get(row, 5)?),
        used_at: get::<Option<i64>>(row, 6)?.map(Timestamp::from_millis),
    })
}

/// [`AccessStore::insert_portal_link`](relay_core::store::AccessStore::insert_portal_link).
pub(super) async fn insert(pool: &Pool, record: &PortalLinkRecord) -> Result<(), StoreError> {
    execute(
        pool,
        INSERT,
        &[
            &record.token_hash,
            &record.id,
            &record.tenant.as_str(),
            &record.created_by,
            &record.created_at.as_millis(),
            &record.expires_at.as_millis(),
            &record.used_at.map(Timestamp::as_millis),
        ],
    )
    .await?;
    Ok(())
}

/// [`AccessStore::consume_portal_link`](relay_core::store::AccessStore::consume_portal_link).
pub(super) async fn consume(
    pool: &Pool,
    token_hash: &[u8],
    now: Timestamp,
) -> Result<Option<PortalLinkRecord>, StoreError> {
    let found = rows(pool, CONSUME, &[&token_hash, &now.as_millis()]).await?;
    Ok(found.first().map(link).transpose()?)
}
