//! The control capabilities of [`PgStore`] (objects, access, audit, metrics, tenants): every operation one prepared statement on a pooled
//! connection, always bound, never built from input.

mod access;
pub(crate) mod browse;
mod log;
mod objects;
mod portal;
mod presence;
mod sig_failures;
mod states;
mod tenants;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use relay_core::control::admin::{
    ApiKeyRecord, AuditEntry, AuditQuery, MetricMerge, MetricPoint, MetricQuery, PortalLinkRecord,
    SessionRecord, TenantRecord, UserRecord,
};
use relay_core::control::manage::{ObjectKind, ObjectRecord};
use relay_core::ingest::sig_failure::{SignatureFailure, SignatureFailureQuery};
use relay_core::model::ids::TenantId;
use relay_core::model::time::Timestamp;
use relay_core::store::{
    AccessStore, AuditLog, DestinationRecord, MetricStore, ObjectStore, StoreError, TenantStore,
};
use tokio_postgres::types::ToSql;

use crate::PgStore;
use crate::error::Db;

/// Runs the prepared statement `sql` and returns its rows.
async fn rows(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, StoreError> {
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(sql).await.db()?;
    client.query(&statement, params).await.db()
}

/// Runs the prepared statement `sql` and returns how many rows it changed.
async fn execute(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let client = pool.get().await.db()?;
    let statement = client.prepare_cached(sql).await.db()?;
    client.execute(&statement, params).await.db()
}

/// Retention: deletes up to `$2` sessions that expired before `$1`. Rows another node's
/// pruner holds are skipped, so pruners never wait on each other.
const PRUNE_SESSIONS: &str = "
WITH doomed AS (
    SELECT ctid FROM sessions WHERE expires_at < $1::int8 LIMIT $2::int8 FOR UPDATE SKIP LOCKED
)
DELETE FROM sessions USING doomed WHERE sessions.ctid = doomed.ctid";

/// Retention: deletes up to `$2` audit entries made before `$1`.
const PRUNE_AUDIT: &str = "
WITH doomed AS (
    SELECT ctid FROM audit_log WHERE at < $1::int8 LIMIT $2::int8 FOR UPDATE SKIP LOCKED
)
DELETE FROM audit_log USING doomed WHERE audit_log.ctid = doomed.ctid";

/// Retention: deletes up to `$2` metric points of minutes before `$1`.
const PRUNE_METRICS: &str = "
WITH doomed AS (
    SELECT ctid FROM metric_points WHERE minute < $1::int8 LIMIT $2::int8 FOR UPDATE SKIP LOCKED
)
DELETE FROM metric_points USING doomed WHERE metric_points.ctid = doomed.ctid";

/// Runs one of the retention statements: rows older than `before`, at most `batch`.
async fn prune(pool: &Pool, sql: &str, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    execute(pool, sql, &[&before.as_millis(), &batch]).await
}

#[async_trait]
impl ObjectStore for PgStore {
    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError> {
        crate::destinations::put(&self.inner.pool, tenant, &record).await
    }

    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        crate::destinations::list(&self.inner.pool, tenant).await
    }

    async fn insert_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        objects::insert(self.pool(), tenant, &record).await
    }

    async fn update_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        objects::update(self.pool(), tenant, &record).await
    }

    async fn delete_object(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        objects::delete(self.pool(), tenant, kind, name).await
    }

    async fn objects(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        objects::all(self.pool(), tenant).await
    }
}

#[async_trait]
impl AccessStore for PgStore {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<bool, StoreError> {
        access::insert_api_key(self.pool(), &record).await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        access::find_api_key(self.pool(), id).await
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        access::api_keys(self.pool(), tenant).await
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        access::revoke_api_key(self.pool(), tenant, id, at).await
    }

    async fn insert_user(&self, record: UserRecord) -> Result<bool, StoreError> {
        access::insert_user(self.pool(), &record).await
    }

    async fn user(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        access::find_user(self.pool(), tenant, username).await
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        access::users(self.pool(), tenant).await
    }

    async fn delete_user(&self, tenant: &TenantId, username: &str) -> Result<bool, StoreError> {
        access::delete_user(self.pool(), tenant, username).await
    }

    async fn record_login_failure(
        &self,
        tenant: &TenantId,
        username: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        access::record_login_failure(self.pool(), tenant, username, lock_after, lock_until).await
    }

    async fn record_login_success(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<(), StoreError> {
        access::record_login_success(self.pool(), tenant, username).await
    }

    async fn insert_session(&self, record: SessionRecord) -> Result<(), StoreError> {
        access::insert_session(self.pool(), &record).await
    }

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        access::find_session(self.pool(), token_hash).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        access::delete_session(self.pool(), token_hash).await
    }

    async fn prune_sessions(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        prune(self.pool(), PRUNE_SESSIONS, before, batch).await
    }

    async fn insert_portal_link(&self, record: PortalLinkRecord) -> Result<(), StoreError> {
        portal::insert(self.pool(), &record).await
    }

    async fn consume_portal_link(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PortalLinkRecord>, StoreError> {
        portal::consume(self.pool(), token_hash, now).await
    }

    async fn prune_portal_links(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        prune(self.pool(), portal::PRUNE, before, batch).await
    }
}

#[async_trait]
impl AuditLog for PgStore {
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        log::append_audit(self.pool(), &entry).await
    }

    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        log::audit_entries(self.pool(), tenant, query, limit).await
    }

    async fn prune_audit(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        prune(self.pool(), PRUNE_AUDIT, before, batch).await
    }

    async fn append_signature_failure(&self, failure: SignatureFailure) -> Result<(), StoreError> {
        sig_failures::append(self.pool(), &failure).await
    }

    async fn signature_failures(
        &self,
        tenant: &TenantId,
        query: &SignatureFailureQuery,
        limit: usize,
    ) -> Result<Vec<SignatureFailure>, StoreError> {
        sig_failures::list(self.pool(), tenant, query, limit).await
    }

    async fn prune_signature_failures(
        &self,
        before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        prune(self.pool(), sig_failures::PRUNE, before, batch).await
    }
}

#[async_trait]
impl MetricStore for PgStore {
    async fn record_metrics(
        &self,
        tenant: &TenantId,
        samples: &[MetricPoint],
        merge: MetricMerge,
    ) -> Result<(), StoreError> {
        if samples.is_empty() {
            return Ok(());
        }
        log::record_metrics(self.pool(), tenant, samples, merge).await
    }

    async fn metric_points(
        &self,
        tenant: &TenantId,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        log::metric_points(self.pool(), tenant, query).await
    }

    async fn prune_metrics(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        prune(self.pool(), PRUNE_METRICS, before, batch).await
    }
}

#[async_trait]
impl TenantStore for PgStore {
    async fn insert_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        tenants::insert(self.pool(), &record).await
    }

    async fn update_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        tenants::update(self.pool(), &record).await
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        tenants::delete(self.pool(), tenant).await
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        tenants::all(self.pool()).await
    }

    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<relay_core::store::QuotaOutcome, StoreError> {
        tenants::take_quota(&self.inner.pool, tenant, day, limit).await
    }
}
