//! The control capabilities of [`SqliteStore`] (objects, access, audit, metrics, tenants): writes through the writer thread (group commit),
//! reads on the read pool, like the rest of the store.

mod access;
pub(crate) mod browse;
mod log;
mod objects;
mod portal;
mod presence;
mod retention;
mod sig_failures;
mod states;
mod tenants;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
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

use crate::SqliteStore;

#[async_trait]
impl ObjectStore for SqliteStore {
    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.inner
            .writer
            .write(move |conn| crate::destinations::put(conn, &tenant, &record))
            .await
    }

    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| crate::destinations::list(conn, &tenant))
            .await
    }

    async fn insert_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| objects::insert(conn, &tenant, &record))
            .await
    }

    async fn update_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| objects::update(conn, &tenant, &record))
            .await
    }

    async fn delete_object(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        let (tenant, name) = (tenant.clone(), name.to_owned());
        self.write(move |conn| objects::delete(conn, &tenant, kind, &name))
            .await
    }

    async fn objects(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        let tenant = tenant.clone();
        self.read(move |conn| objects::all(conn, &tenant)).await
    }
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<bool, StoreError> {
        self.write(move |conn| access::insert_api_key(conn, &record))
            .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| access::find_api_key(conn, &id)).await
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let tenant = tenant.clone();
        self.read(move |conn| access::api_keys(conn, &tenant)).await
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), id.to_owned());
        self.write(move |conn| access::revoke_api_key(conn, &tenant, &id, at))
            .await
    }

    async fn insert_user(&self, record: UserRecord) -> Result<bool, StoreError> {
        self.write(move |conn| access::insert_user(conn, &record))
            .await
    }

    async fn user(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let (tenant, username) = (tenant.clone(), username.to_owned());
        self.read(move |conn| access::find_user(conn, &tenant, &username))
            .await
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        let tenant = tenant.clone();
        self.read(move |conn| access::users(conn, &tenant)).await
    }

    async fn delete_user(&self, tenant: &TenantId, username: &str) -> Result<bool, StoreError> {
        let (tenant, username) = (tenant.clone(), username.to_owned());
        self.write(move |conn| access::delete_user(conn, &tenant, &username))
            .await
    }

    async fn record_login_failure(
        &self,
        tenant: &TenantId,
        username: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        let (tenant, username) = (tenant.clone(), username.to_owned());
        self.write(move |conn| {
            access::record_login_failure(conn, &tenant, &username, lock_after, lock_until)
        })
        .await
    }

    async fn record_login_success(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<(), StoreError> {
        let (tenant, username) = (tenant.clone(), username.to_owned());
        self.write(move |conn| access::record_login_success(conn, &tenant, &username))
            .await
    }

    async fn insert_session(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.write(move |conn| access::insert_session(conn, &record))
            .await
    }

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        let token_hash = token_hash.to_vec();
        self.read(move |conn| access::find_session(conn, &token_hash))
            .await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        let token_hash = token_hash.to_vec();
        self.write(move |conn| access::delete_session(conn, &token_hash))
            .await
    }

    async fn prune_sessions(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        let found = self
            .read(move |conn| retention::expired_sessions(conn, before, batch))
            .await?;
        if found.is_empty() {
            return Ok(0);
        }
        self.write(move |conn| retention::delete_sessions(conn, &found, before))
            .await
    }

    async fn insert_portal_link(&self, record: PortalLinkRecord) -> Result<(), StoreError> {
        self.write(move |conn| portal::insert(conn, &record)).await
    }

    async fn consume_portal_link(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PortalLinkRecord>, StoreError> {
        let token_hash = token_hash.to_vec();
        self.write(move |conn| portal::consume(conn, &token_hash, now))
            .await
    }

    async fn prune_portal_links(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        self.write(move |conn| portal::prune(conn, before, batch))
            .await
    }
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.write(move |conn| log::append_audit(conn, &entry))
            .await
    }

    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |conn| log::audit_entries(conn, &tenant, &query, limit))
            .await
    }

    async fn prune_audit(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        let found = self
            .read(move |conn| retention::old_audit(conn, before, batch))
            .await?;
        if found.is_empty() {
            return Ok(0);
        }
        self.write(move |conn| retention::delete_audit(conn, &found, before))
            .await
    }

    async fn append_signature_failure(&self, failure: SignatureFailure) -> Result<(), StoreError> {
        self.write(move |conn| sig_failures::append(conn, &failure))
            .await
    }

    async fn signature_failures(
        &self,
        tenant: &TenantId,
        query: &SignatureFailureQuery,
        limit: usize,
    ) -> Result<Vec<SignatureFailure>, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |conn| sig_failures::list(conn, &tenant, &query, limit))
            .await
    }

    async fn prune_signature_failures(
        &self,
        before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let found = self
            .read(move |conn| sig_failures::old(conn, before, batch))
            .await?;
        if found.is_empty() {
            return Ok(0);
        }
        self.write(move |conn| sig_failures::delete(conn, &found, before))
            .await
    }
}

#[async_trait]
impl MetricStore for SqliteStore {
    async fn record_metrics(
        &self,
        tenant: &TenantId,
        samples: &[MetricPoint],
        merge: MetricMerge,
    ) -> Result<(), StoreError> {
        if samples.is_empty() {
            return Ok(());
        }
        let (tenant, samples) = (tenant.clone(), samples.to_vec());
        self.write(move |conn| log::record_metrics(conn, &tenant, &samples, merge))
            .await
    }

    async fn metric_points(
        &self,
        tenant: &TenantId,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        let (tenant, query) = (tenant.clone(), query.clone());
        self.read(move |conn| log::metric_points(conn, &tenant, &query))
            .await
    }

    async fn prune_metrics(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        let found = self
            .read(move |conn| retention::old_points(conn, before, batch))
            .await?;
        if found.is_empty() {
            return Ok(0);
        }
        self.write(move |conn| retention::delete_points(conn, &found))
            .await
    }
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn insert_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        self.write(move |conn| tenants::insert(conn, &record)).await
    }

    async fn update_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        self.write(move |conn| tenants::update(conn, &record)).await
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| tenants::delete(conn, &tenant)).await
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.read(tenants::all).await
    }

    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<relay_core::store::QuotaOutcome, StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| tenants::take_quota(conn, &tenant, day, limit))
            .await
    }
}
