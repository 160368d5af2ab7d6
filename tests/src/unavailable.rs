//! [`UnavailableStore`]: every operation of every capability fails like a database that is
//! down.

use std::time::Duration;

use async_trait::async_trait;
use relay_core::control::admin::{
    ApiKeyRecord, AuditEntry, AuditQuery, EventQuery, EventSummary, MetricMerge, MetricPoint,
    MetricQuery, SessionRecord, TenantRecord, UserRecord,
};
use relay_core::control::manage::{ObjectKind, ObjectRecord};
use relay_core::deliver::circuit::{CircuitState, VersionedCircuit};
use relay_core::model::event::{Attempt, Delivery, Event};
use relay_core::model::ids::{DeliveryId, EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::store::*;

/// A store whose commits always fail (a database that is down), for the 503 row of the contract.
#[derive(Debug, Default)]
pub struct UnavailableStore;

fn down() -> StoreError {
    StoreError::unavailable(std::io::Error::other("database is down"))
}

#[async_trait]
impl EventIngest for UnavailableStore {
    async fn insert_event(&self, _new: NewEvent) -> Result<InsertOutcome, StoreError> {
        Err(down())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Err(down())
    }
}

#[async_trait]
impl DeliveryQueue for UnavailableStore {
    async fn lease_due(
        &self,
        _now: Timestamp,
        _limit: usize,
        _lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        Err(down())
    }

    async fn complete_attempt(&self, _completion: AttemptCompletion) -> Result<(), StoreError> {
        Err(down())
    }

    async fn release(&self, _lease: &Lease, _due_at: Timestamp) -> Result<(), StoreError> {
        Err(down())
    }

    async fn schedule(
        &self,
        _tenant: &TenantId,
        _event: EventId,
        _plan: Vec<NewDelivery>,
        _force: bool,
        _now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        Err(down())
    }

    async fn redrive(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _now: Timestamp,
    ) -> Result<u64, StoreError> {
        Err(down())
    }

    async fn discard_dead_letters(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _now: Timestamp,
    ) -> Result<u64, StoreError> {
        Err(down())
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        Err(down())
    }
}

#[async_trait]
impl EventLog for UnavailableStore {
    async fn event(&self, _tenant: &TenantId, _id: EventId) -> Result<Option<Event>, StoreError> {
        Err(down())
    }

    async fn deliveries(
        &self,
        _tenant: &TenantId,
        _event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err(down())
    }

    async fn delivery(
        &self,
        _tenant: &TenantId,
        _id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        Err(down())
    }

    async fn attempts(
        &self,
        _tenant: &TenantId,
        _delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        Err(down())
    }

    async fn dead_letters(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err(down())
    }

    async fn list_events(
        &self,
        _tenant: &TenantId,
        _query: &EventQuery,
        _limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        Err(down())
    }

    async fn dead_letter_page(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _after: Option<DeliveryId>,
        _limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err(down())
    }

    async fn prune(
        &self,
        _cutoff: Timestamp,
        _now: Timestamp,
        _batch: usize,
    ) -> Result<u64, StoreError> {
        Err(down())
    }
}

#[async_trait]
impl CircuitStore for UnavailableStore {
    async fn circuit(
        &self,
        _tenant: &TenantId,
        _destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        Err(down())
    }

    async fn swap_circuit(
        &self,
        _tenant: &TenantId,
        _destination: &str,
        _expected: Option<u64>,
        _state: CircuitState,
    ) -> Result<bool, StoreError> {
        Err(down())
    }
}

#[async_trait]
impl ObjectStore for UnavailableStore {
    async fn put_destination(
        &self,
        _tenant: &TenantId,
        _record: DestinationRecord,
    ) -> Result<(), StoreError> {
        Err(down())
    }

    async fn destination_records(
        &self,
        _tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        Err(down())
    }

    async fn insert_object(
        &self,
        _tenant: &TenantId,
        _record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn update_object(
        &self,
        _tenant: &TenantId,
        _record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn delete_object(
        &self,
        _tenant: &TenantId,
        _kind: ObjectKind,
        _name: &str,
    ) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn objects(&self, _tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        Err(down())
    }
}

#[async_trait]
impl AccessStore for UnavailableStore {
    async fn insert_api_key(&self, _record: ApiKeyRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn api_key(&self, _id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Err(down())
    }

    async fn api_keys(&self, _tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Err(down())
    }

    async fn revoke_api_key(
        &self,
        _tenant: &TenantId,
        _id: &str,
        _at: Timestamp,
    ) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn insert_user(&self, _record: UserRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn user(
        &self,
        _tenant: &TenantId,
        _username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(down())
    }

    async fn users(&self, _tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        Err(down())
    }

    async fn delete_user(&self, _tenant: &TenantId, _username: &str) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn record_login_failure(
        &self,
        _tenant: &TenantId,
        _username: &str,
        _lock_after: u32,
        _lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err(down())
    }

    async fn record_login_success(
        &self,
        _tenant: &TenantId,
        _username: &str,
    ) -> Result<(), StoreError> {
        Err(down())
    }

    async fn insert_session(&self, _record: SessionRecord) -> Result<(), StoreError> {
        Err(down())
    }

    async fn session(&self, _token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Err(down())
    }

    async fn delete_session(&self, _token_hash: &[u8]) -> Result<(), StoreError> {
        Err(down())
    }
}

#[async_trait]
impl AuditLog for UnavailableStore {
    async fn append_audit(&self, _entry: AuditEntry) -> Result<(), StoreError> {
        Err(down())
    }

    async fn audit_entries(
        &self,
        _tenant: &TenantId,
        _query: &AuditQuery,
        _limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Err(down())
    }
}

#[async_trait]
impl MetricStore for UnavailableStore {
    async fn record_metrics(
        &self,
        _tenant: &TenantId,
        _samples: &[MetricPoint],
        _merge: MetricMerge,
    ) -> Result<(), StoreError> {
        Err(down())
    }

    async fn metric_points(
        &self,
        _tenant: &TenantId,
        _query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        Err(down())
    }
}

#[async_trait]
impl TenantStore for UnavailableStore {
    async fn insert_tenant(&self, _record: TenantRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn update_tenant(&self, _record: TenantRecord) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn delete_tenant(&self, _tenant: &TenantId) -> Result<bool, StoreError> {
        Err(down())
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        Err(down())
    }

    async fn take_quota(
        &self,
        _tenant: &TenantId,
        _day: i64,
        _limit: u64,
    ) -> Result<QuotaOutcome, StoreError> {
        Err(down())
    }
}
