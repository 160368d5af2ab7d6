//! The records of refused signatures: appended, listed newest first, pruned by age.

use deadpool_postgres::Pool;
use relay_core::ingest::sig_failure::{
    SignatureFailure, SignatureFailureQuery, SignatureFailureReason,
};
use relay_core::model::ids::{SigFailureId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::StoreError;
use tokio_postgres::Row;
use uuid::Uuid;

use super::{execute, rows};
use crate::error::PgStoreError;
use crate::rows::{client, get};

const APPEND: &str = "INSERT INTO signature_failures
         (id, tenant, source, reason, header, client, at, request_id)
     VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::int8, $8::text)";

const LIST: &str = "SELECT id, tenant, source, reason, header, client, at, request_id
     FROM signature_failures
     WHERE tenant = $1::text AND ($2::text IS NULL OR source = $2::text)
         AND ($3::int8 IS NULL OR at >= $3::int8) AND ($4::uuid IS NULL OR id < $4::uuid)
     ORDER BY id DESC LIMIT $5::int8";

/// Retention: deletes up to `$2` records made before `$1`.
pub(super) const PRUNE: &str = "
WITH doomed AS (
    SELECT ctid FROM signature_failures WHERE at < $1::int8 LIMIT $2::int8
    FOR UPDATE SKIP LOCKED
)
DELETE FROM signature_failures USING doomed WHERE signature_failures.ctid = doomed.ctid";

fn failure(row: &Row) -> Result<SignatureFailure, PgStoreError> {
    let reason: String = get(row, 3)?;
    Ok(SignatureFailure {
        id: SigFailureId::from_bytes(get::<Uuid>(row, 0)?.into_bytes()),
        tenant: TenantId::new(get::<String>(row, 1)?),
        source: get(row, 2)?,
        reason: SignatureFailureReason::parse(&reason)
            .ok_or_else(|| PgStoreError::Corrupt(format!("unknown reason {reason:?}")))?,
        header: get(row, 4)?,
        client: client(row, 5)?,
        at: Timestamp::from_millis(get(row, 6)?),
        request_id: get(row, 7)?,
    })
}

pub(super) async fn append(pool: &Pool, failure: &SignatureFailure) -> Result<(), StoreError> {
    execute(
        pool,
        APPEND,
        &[
            &failure.id.as_uuid(),
            &failure.tenant.as_str(),
            &failure.source,
            &failure.reason.as_str(),
            &failure.header,
            &failure.client.map(|ip| ip.to_string()),
            &failure.at.as_millis(),
            &failure.request_id,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn list(
    pool: &Pool,
    tenant: &TenantId,
    query: &SignatureFailureQuery,
    limit: usize,
) -> Result<Vec<SignatureFailure>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let found = rows(
        pool,
        LIST,
        &[
            &tenant.as_str(),
            &query.source,
            &query.since.map(|t| t.as_millis()),
            &query.before.map(|b| b.as_uuid()),
            &limit,
        ],
    )
    .await?;
    Ok(found.iter().map(failure).collect::<Result<_, _>>()?)
}
