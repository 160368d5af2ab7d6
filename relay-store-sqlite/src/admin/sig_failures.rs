//! The records of refused signatures: appended, listed newest first, pruned by age (found on
//! the read pool, deleted by key on the writer, like the audit log's).

use relay_core::ingest::sig_failure::{
    SignatureFailure, SignatureFailureQuery, SignatureFailureReason,
};
use relay_core::model::ids::{SigFailureId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use rusqlite::{Connection, Row, params};

use crate::rows::{client, corrupt, id16, time};
use crate::writes::Db;

const COLUMNS: &str = "id, tenant, source, reason, header, client, at, request_id";

fn failure(row: &Row<'_>) -> rusqlite::Result<SignatureFailure> {
    let reason: String = row.get(3)?;
    Ok(SignatureFailure {
        id: SigFailureId::from_bytes(id16(row, 0)?),
        tenant: TenantId::new(row.get::<_, String>(1)?),
        source: row.get(2)?,
        reason: SignatureFailureReason::parse(&reason)
            .ok_or_else(|| corrupt(3, format!("unknown reason {reason:?}")))?,
        header: row.get(4)?,
        client: client(row, 5)?,
        at: time(row, 6)?,
        request_id: row.get(7)?,
    })
}

/// [`AuditLog::append_signature_failure`](relay_core::store::AuditLog::append_signature_failure).
pub(crate) fn append(conn: &Connection, failure: &SignatureFailure) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO signature_failures ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))
    .db()?
    .execute(params![
        failure.id.as_bytes(),
        failure.tenant.as_str(),
        failure.source,
        failure.reason.as_str(),
        failure.header,
        failure.client.map(|ip| ip.to_string()),
        failure.at.as_millis(),
        failure.request_id,
    ])
    .db()?;
    Ok(())
}

/// [`AuditLog::signature_failures`](relay_core::store::AuditLog::signature_failures).
pub(crate) fn list(
    conn: &Connection,
    tenant: &TenantId,
    query: &SignatureFailureQuery,
    limit: usize,
) -> Result<Vec<SignatureFailure>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM signature_failures
         WHERE tenant = ?1 AND (?2 IS NULL OR source = ?2)
             AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR id < ?4)
         ORDER BY id DESC LIMIT ?5"
    ))
    .db()?
    .query_map(
        params![
            tenant.as_str(),
            query.source,
            query.since.map(|t| t.as_millis()),
            query.before.map(|b| b.as_bytes().to_vec()),
            limit,
        ],
        failure,
    )
    .db()?
    .collect::<rusqlite::Result<_>>()
    .db()
}

/// The ids of at most `batch` records made before `before`.
pub(crate) fn old(
    conn: &Connection,
    before: Timestamp,
    batch: usize,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    conn.prepare_cached("SELECT id FROM signature_failures WHERE at < ?1 LIMIT ?2")
        .db()?
        .query_map(params![before.as_millis(), batch], |row| row.get(0))
        .db()?
        .collect::<rusqlite::Result<_>>()
        .db()
}

/// Deletes these records (those made before `before`); returns how many went.
pub(crate) fn delete(
    conn: &Connection,
    ids: &[Vec<u8>],
    before: Timestamp,
) -> Result<u64, StoreError> {
    let mut delete = conn
        .prepare_cached("DELETE FROM signature_failures WHERE id = ?1 AND at < ?2")
        .db()?;
    let mut gone = 0;
    for id in ids {
        gone += delete.execute(params![id, before.as_millis()]).db()? as u64;
    }
    Ok(gone)
}
