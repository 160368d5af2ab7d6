//! Consumer-portal links: stored by their token's digest, consumed once with one
//! conditional `UPDATE … RETURNING` (atomic, also across processes sharing the file).

use relay_core::control::admin::PortalLinkRecord;
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::rows::time;
use crate::writes::Db;

const COLUMNS: &str = "token_hash, id, tenant, created_by, created_at, expires_at, used_at";

fn link(row: &Row<'_>) -> rusqlite::Result<PortalLinkRecord> {
    Ok(PortalLinkRecord {
        token_hash: row.get(0)?,
        id: row.get(1)?,
        tenant: TenantId::new(row.get::<_, String>(2)?),
        created_by: row.get(3)?,
        created_at: time(row, 4)?,
        expires_at: time(row, 5)?,
        used_at: (row.get::<_, Option<i64>>(6)?).map(Timestamp::from_millis),
    })
}

/// [`AccessStore::insert_portal_link`](relay_core::store::AccessStore::insert_portal_link).
pub(crate) fn insert(conn: &Connection, record: &PortalLinkRecord) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO portal_links ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    ))
    .db()?
    .execute(params![
        record.token_hash,
        record.id,
        record.tenant.as_str(),
        record.created_by,
        record.created_at.as_millis(),
        record.expires_at.as_millis(),
        record.used_at.map(Timestamp::as_millis),
    ])
    .db()?;
    Ok(())
}

/// [`AccessStore::consume_portal_link`](relay_core::store::AccessStore::consume_portal_link).
pub(crate) fn consume(
    conn: &Connection,
    token_hash: &[u8],
    now: Timestamp,
) -> Result<Option<PortalLinkRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "UPDATE portal_links SET used_at = ?2
         WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2
         RETURNING {COLUMNS}"
    ))
    .db()?
    .query_row(params![token_hash, now.as_millis()], link)
    .optional()
    .db()
}

/// [`AccessStore::prune_portal_links`](relay_core::store::AccessStore::prune_portal_links):
/// at most `batch` links that expired before `before` go.
pub(crate) fn prune(conn: &Connection, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    let gone = conn
        .prepare_cached(
            "DELETE FROM portal_links WHERE token_hash IN
             (SELECT token_hash FROM portal_links WHERE expires_at < ?1 LIMIT ?2)",
        )
        .db()?
        .execute(params![before.as_millis(), limit])
        .db()?;
    Ok(gone as u64)
}
