//! [`AdminStore`] for [`UnavailableStore`]: every operation fails like a database that is
//! down.

use relay_core::admin::{
    AdminStore, ApiKeyRecord, AuditEntry, AuditQuery, EventQuery, EventSummary, MetricMerge,
    MetricPoint, MetricQuery, SessionRecord, TenantRecord, UserRecord,
};
use relay_core::event::Delivery;
use relay_core::ids::{DeliveryId, TenantId};
use relay_core::manage::{ObjectKind, ObjectRecord};
use relay_core::store::{DeadLetterFilter, StoreError};
use relay_core::time::Timestamp;

use super::{UnavailableStore, down};

#[async_trait::async_trait]
impl AdminStore for UnavailableStore {
    async fn insert_api_key(&self, _: ApiKeyRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn api_key(&self, _: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Err(down())
    }

    async fn api_keys(&self, _: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Err(down())
    }

    async fn revoke_api_key(
        &self,
        _: &TenantId,
        _: &str,
        _: Timestamp,
    ) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn insert_user(&self, _: UserRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn user(&self, _: &TenantId, _: &str) -> Result<Option<UserRecord>, StoreError> {
        Err(down())
    }

    async fn users(&self, _: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        Err(down())
    }

    async fn delete_user(&self, _: &TenantId, _: &str) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn record_login_failure(
        &self,
        _: &TenantId,
        _: &str,
        _: u32,
        _: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(down())
    }

    async fn record_login_success(&self, _: &TenantId, _: &str) -> Result<(), StoreError> {
        Err(down())
    }

    async fn insert_session(&self, _: SessionRecord) -> Result<(), StoreError> {
        Err(down())
    }

    async fn session(&self, _: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Err(down())
    }

    async fn delete_session(&self, _: &[u8]) -> Result<(), StoreError> {
        Err(down())
    }

    async fn append_audit(&self, _: AuditEntry) -> Result<(), StoreError> {
        Err(down())
    }

    async fn audit_entries(
        &self,
        _: &TenantId,
        _: &AuditQuery,
        _: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Err(down())
    }

    async fn list_events(
        &self,
        _: &TenantId,
        _: &EventQuery,
        _: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        Err(down())
    }

    async fn dead_letter_page(
        &self,
        _: &TenantId,
        _: &DeadLetterFilter,
        _: Option<DeliveryId>,
        _: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err(down())
    }

    async fn discard_dead_letters(
        &self,
        _: &TenantId,
        _: &DeadLetterFilter,
        _: Timestamp,
    ) -> Result<u64, StoreError> {
        Err(down())
    }

    async fn record_metrics(
        &self,
        _: &TenantId,
        _: &[MetricPoint],
        _: MetricMerge,
    ) -> Result<(), StoreError> {
        Err(down())
    }

    async fn metric_points(
        &self,
        _: &TenantId,
        _: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        Err(down())
    }

    async fn insert_object(&self, _: &TenantId, _: ObjectRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn update_object(&self, _: &TenantId, _: ObjectRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn delete_object(
        &self,
        _: &TenantId,
        _: ObjectKind,
        _: &str,
    ) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn objects(&self, _: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        Err(down())
    }

    async fn insert_tenant(&self, _: TenantRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn update_tenant(&self, _: TenantRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn delete_tenant(&self, _: &TenantId) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        Err(down())
    }
}
