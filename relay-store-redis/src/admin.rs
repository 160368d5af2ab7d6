//! [`AdminStore`] for [`DedupCache`]: the admin side is the durable store's alone; Redis
//! caches nothing of it.

use async_trait::async_trait;
use relay_core::admin::{
    AdminStore, ApiKeyRecord, AuditEntry, AuditQuery, EventQuery, EventSummary, MetricMerge,
    MetricPoint, MetricQuery, SessionRecord, TenantRecord, UserRecord,
};
use relay_core::event::Delivery;
use relay_core::ids::{DeliveryId, TenantId};
use relay_core::manage::{ObjectKind, ObjectRecord};
use relay_core::store::{DeadLetterFilter, Store, StoreError};
use relay_core::time::Timestamp;

use crate::DedupCache;

#[async_trait]
impl<S: Store + ?Sized> AdminStore for DedupCache<S> {
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<bool, StoreError> {
        self.inner().insert_api_key(record).await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.inner().api_key(id).await
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.inner().api_keys(tenant).await
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.inner().revoke_api_key(tenant, id, at).await
    }

    async fn insert_user(&self, record: UserRecord) -> Result<bool, StoreError> {
        self.inner().insert_user(record).await
    }

    async fn user(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.inner().user(tenant, username).await
    }

    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        self.inner().users(tenant).await
    }

    async fn delete_user(&self, tenant: &TenantId, username: &str) -> Result<bool, StoreError> {
        self.inner().delete_user(tenant, username).await
    }

    async fn record_login_failure(
        &self,
        tenant: &TenantId,
        username: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.inner()
            .record_login_failure(tenant, username, lock_after, lock_until)
            .await
    }

    async fn record_login_success(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<(), StoreError> {
        self.inner().record_login_success(tenant, username).await
    }

    async fn insert_session(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.inner().insert_session(record).await
    }

    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        self.inner().session(token_hash).await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError> {
        self.inner().delete_session(token_hash).await
    }

    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.inner().append_audit(entry).await
    }

    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner().audit_entries(tenant, query, limit).await
    }

    async fn list_events(
        &self,
        tenant: &TenantId,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        self.inner().list_events(tenant, query, limit).await
    }

    async fn dead_letter_page(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.inner()
            .dead_letter_page(tenant, filter, after, limit)
            .await
    }

    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        self.inner().discard_dead_letters(tenant, filter, now).await
    }

    async fn record_metrics(
        &self,
        tenant: &TenantId,
        samples: &[MetricPoint],
        merge: MetricMerge,
    ) -> Result<(), StoreError> {
        self.inner().record_metrics(tenant, samples, merge).await
    }

    async fn metric_points(
        &self,
        tenant: &TenantId,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        self.inner().metric_points(tenant, query).await
    }

    async fn insert_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        self.inner().insert_object(tenant, record).await
    }

    async fn update_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        self.inner().update_object(tenant, record).await
    }

    async fn delete_object(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError> {
        self.inner().delete_object(tenant, kind, name).await
    }

    async fn objects(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        self.inner().objects(tenant).await
    }

    async fn insert_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        self.inner().insert_tenant(record).await
    }

    async fn update_tenant(&self, record: TenantRecord) -> Result<bool, StoreError> {
        self.inner().update_tenant(record).await
    }

    async fn delete_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError> {
        self.inner().delete_tenant(tenant).await
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.inner().tenants().await
    }
}
