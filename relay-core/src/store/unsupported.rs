//! [`Unsupported`]: the part that stands in for a capability a backend does not provide.

use async_trait::async_trait;

use super::*;
use crate::control::admin::{
    ApiKeyRecord, AuditEntry, AuditQuery, EventQuery, EventSummary, MetricMerge, MetricPoint,
    MetricQuery, SessionRecord, TenantRecord, UserRecord,
};
use crate::control::manage::{ObjectKind, ObjectRecord};
use crate::model::event::{Attempt, Delivery, Event};
use crate::model::ids::{DeliveryId, EventId, TenantId};
use crate::model::time::Timestamp;

/// Answers every operation of the control capabilities ([`EventLog`], [`ObjectStore`],
/// [`AccessStore`], [`AuditLog`], [`MetricStore`], [`TenantStore`]) with
/// [`StoreError::Unsupported`] naming the capability. [`Stores::pipeline`] fills the
/// capabilities a minimal backend lacks with it.
///
/// ```
/// use relay_core::model::ids::TenantId;
/// use relay_core::control::admin::AuditQuery;
/// use relay_core::store::{AuditLog, StoreError, Unsupported};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let answer = Unsupported.audit_entries(&TenantId::default(), &AuditQuery::default(), 10).await;
/// assert!(matches!(answer, Err(StoreError::Unsupported("the audit log"))));
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Unsupported;

#[async_trait]
impl EventLog for Unsupported {
    async fn event(&self, _tenant: &TenantId, _id: EventId) -> Result<Option<Event>, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }

    async fn deliveries(
        &self,
        _tenant: &TenantId,
        _event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }

    async fn delivery(
        &self,
        _tenant: &TenantId,
        _id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }

    async fn attempts(
        &self,
        _tenant: &TenantId,
        _delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }

    async fn dead_letters(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }

    async fn list_events(
        &self,
        _tenant: &TenantId,
        _query: &EventQuery,
        _limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }

    async fn dead_letter_page(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _after: Option<DeliveryId>,
        _limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }

    async fn prune(
        &self,
        _cutoff: Timestamp,
        _now: Timestamp,
        _batch: usize,
    ) -> Result<u64, StoreError> {
        Err(StoreError::Unsupported("the event log"))
    }
}

#[async_trait]
impl ObjectStore for Unsupported {
    async fn put_destination(
        &self,
        _tenant: &TenantId,
        _record: DestinationRecord,
    ) -> Result<(), StoreError> {
        Err(StoreError::Unsupported("managed objects"))
    }

    async fn destination_records(
        &self,
        _tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        Err(StoreError::Unsupported("managed objects"))
    }

    async fn insert_object(
        &self,
        _tenant: &TenantId,
        _record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported("managed objects"))
    }

    async fn update_object(
        &self,
        _tenant: &TenantId,
        _record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported("managed objects"))
    }

    async fn delete_object(
        &self,
        _tenant: &TenantId,
        _kind: ObjectKind,
        _name: &str,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported("managed objects"))
    }

    async fn objects(&self, _tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        Err(StoreError::Unsupported("managed objects"))
    }
}

#[async_trait]
impl AccessStore for Unsupported {
    async fn insert_api_key(&self, _record: ApiKeyRecord) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn api_key(&self, _id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn api_keys(&self, _tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn revoke_api_key(
        &self,
        _tenant: &TenantId,
        _id: &str,
        _at: Timestamp,
    ) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn insert_user(&self, _record: UserRecord) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn user(
        &self,
        _tenant: &TenantId,
        _username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn users(&self, _tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn delete_user(&self, _tenant: &TenantId, _username: &str) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn record_login_failure(
        &self,
        _tenant: &TenantId,
        _username: &str,
        _lock_after: u32,
        _lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn record_login_success(
        &self,
        _tenant: &TenantId,
        _username: &str,
    ) -> Result<(), StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn insert_session(&self, _record: SessionRecord) -> Result<(), StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn session(&self, _token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }

    async fn delete_session(&self, _token_hash: &[u8]) -> Result<(), StoreError> {
        Err(StoreError::Unsupported(
            "access (API keys, users, sessions)",
        ))
    }
}

#[async_trait]
impl AuditLog for Unsupported {
    async fn append_audit(&self, _entry: AuditEntry) -> Result<(), StoreError> {
        Err(StoreError::Unsupported("the audit log"))
    }

    async fn audit_entries(
        &self,
        _tenant: &TenantId,
        _query: &AuditQuery,
        _limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Err(StoreError::Unsupported("the audit log"))
    }
}

#[async_trait]
impl MetricStore for Unsupported {
    async fn record_metrics(
        &self,
        _tenant: &TenantId,
        _samples: &[MetricPoint],
        _merge: MetricMerge,
    ) -> Result<(), StoreError> {
        Err(StoreError::Unsupported("metric points"))
    }

    async fn metric_points(
        &self,
        _tenant: &TenantId,
        _query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        Err(StoreError::Unsupported("metric points"))
    }
}

#[async_trait]
impl TenantStore for Unsupported {
    async fn insert_tenant(&self, _record: TenantRecord) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported("tenants"))
    }

    async fn update_tenant(&self, _record: TenantRecord) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported("tenants"))
    }

    async fn delete_tenant(&self, _tenant: &TenantId) -> Result<bool, StoreError> {
        Err(StoreError::Unsupported("tenants"))
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        Err(StoreError::Unsupported("tenants"))
    }

    async fn take_quota(
        &self,
        _tenant: &TenantId,
        _day: i64,
        _limit: u64,
    ) -> Result<QuotaOutcome, StoreError> {
        Err(StoreError::Unsupported("tenants"))
    }
}
