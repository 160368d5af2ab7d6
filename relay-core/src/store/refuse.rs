//! [`Refuse`]: a part that answers every operation with an error, e.g. for a capability a
//! backend does not provide ([`Refuse::UNSUPPORTED`]).

use std::time::Duration;

use async_trait::async_trait;

use super::*;
use crate::control::admin::{
    ApiKeyRecord, EventQuery, EventSummary, MetricMerge, MetricPoint, MetricQuery, SessionRecord,
    TenantRecord, UserRecord,
};
use crate::control::manage::{ObjectKind, ObjectRecord};
use crate::deliver::circuit::{CircuitState, VersionedCircuit};
use crate::model::event::{Attempt, Delivery, Event};
use crate::model::ids::{DeliveryId, EventId, NodeId, TenantId};
use crate::model::time::Timestamp;

/// Answers every operation of every capability with the error it makes from the
/// capability's name (`"the audit log"`, `"access (API keys, users, sessions)"`, …).
/// [`Stores::pipeline`] fills the capabilities a minimal backend lacks with
/// [`Refuse::UNSUPPORTED`]; a test may stand in a database that is down with one that
/// answers [`StoreError::Unavailable`].
///
/// ```
/// use relay_core::control::admin::AuditQuery;
/// use relay_core::model::ids::TenantId;
/// use relay_core::store::{AuditLog, Refuse, StoreError};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let answer = Refuse::UNSUPPORTED.audit_entries(&TenantId::default(), &AuditQuery::default(), 10).await;
/// assert!(matches!(answer, Err(StoreError::Unsupported("the audit log"))));
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Refuse {
    pub(super) error: fn(&'static str) -> StoreError,
}

impl Refuse {
    /// Answers [`StoreError::Unsupported`] naming the capability.
    pub const UNSUPPORTED: Self = Self::new(StoreError::Unsupported);

    /// Answers `error(capability)` to every operation.
    pub const fn new(error: fn(&'static str) -> StoreError) -> Self {
        Self { error }
    }
}

#[async_trait]
impl EventIngest for Refuse {
    async fn insert_event(&self, _new: NewEvent) -> Result<InsertOutcome, StoreError> {
        Err((self.error)("event ingest"))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Err((self.error)("event ingest"))
    }
}

#[async_trait]
impl DeliveryQueue for Refuse {
    async fn lease_due_as(
        &self,
        _holder: Option<&NodeId>,
        _agents: &[crate::store::HeldAgent],
        _now: Timestamp,
        _limit: usize,
        _lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        Err((self.error)("the delivery queue"))
    }

    async fn reclaim(&self, _holder: &NodeId, _now: Timestamp) -> Result<u64, StoreError> {
        Err((self.error)("the delivery queue"))
    }

    async fn complete_attempt(&self, _completion: AttemptCompletion) -> Result<(), StoreError> {
        Err((self.error)("the delivery queue"))
    }

    async fn release(&self, _lease: &Lease, _due_at: Timestamp) -> Result<(), StoreError> {
        Err((self.error)("the delivery queue"))
    }

    async fn schedule(
        &self,
        _tenant: &TenantId,
        _event: EventId,
        _plan: Vec<NewDelivery>,
        _force: bool,
        _now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        Err((self.error)("the delivery queue"))
    }

    async fn redrive(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _now: Timestamp,
    ) -> Result<u64, StoreError> {
        Err((self.error)("the delivery queue"))
    }

    async fn discard_dead_letters(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _now: Timestamp,
    ) -> Result<u64, StoreError> {
        Err((self.error)("the delivery queue"))
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        Err((self.error)("the delivery queue"))
    }
}

#[async_trait]
impl EventLog for Refuse {
    async fn event(&self, _tenant: &TenantId, _id: EventId) -> Result<Option<Event>, StoreError> {
        Err((self.error)("the event log"))
    }

    async fn deliveries(
        &self,
        _tenant: &TenantId,
        _event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err((self.error)("the event log"))
    }

    async fn delivery(
        &self,
        _tenant: &TenantId,
        _id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        Err((self.error)("the event log"))
    }

    async fn attempts(
        &self,
        _tenant: &TenantId,
        _delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        Err((self.error)("the event log"))
    }

    async fn dead_letters(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err((self.error)("the event log"))
    }

    async fn list_events(
        &self,
        _tenant: &TenantId,
        _query: &EventQuery,
        _limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError> {
        Err((self.error)("the event log"))
    }

    async fn dead_letter_page(
        &self,
        _tenant: &TenantId,
        _filter: &DeadLetterFilter,
        _after: Option<DeliveryId>,
        _limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Err((self.error)("the event log"))
    }

    async fn prune(
        &self,
        _cutoff: Timestamp,
        _now: Timestamp,
        _batch: usize,
    ) -> Result<u64, StoreError> {
        Err((self.error)("the event log"))
    }
}

#[async_trait]
impl CircuitStore for Refuse {
    async fn circuit(
        &self,
        _tenant: &TenantId,
        _destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        Err((self.error)("circuit state"))
    }

    async fn swap_circuit(
        &self,
        _tenant: &TenantId,
        _destination: &str,
        _expected: Option<u64>,
        _state: CircuitState,
    ) -> Result<bool, StoreError> {
        Err((self.error)("circuit state"))
    }
}

#[async_trait]
impl ObjectStore for Refuse {
    async fn put_destination(
        &self,
        _tenant: &TenantId,
        _record: DestinationRecord,
    ) -> Result<(), StoreError> {
        Err((self.error)("managed objects"))
    }

    async fn destination_records(
        &self,
        _tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        Err((self.error)("managed objects"))
    }

    async fn insert_object(
        &self,
        _tenant: &TenantId,
        _record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        Err((self.error)("managed objects"))
    }

    async fn update_object(
        &self,
        _tenant: &TenantId,
        _record: ObjectRecord,
    ) -> Result<bool, StoreError> {
        Err((self.error)("managed objects"))
    }

    async fn delete_object(
        &self,
        _tenant: &TenantId,
        _kind: ObjectKind,
        _name: &str,
    ) -> Result<bool, StoreError> {
        Err((self.error)("managed objects"))
    }

    async fn objects(&self, _tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError> {
        Err((self.error)("managed objects"))
    }
}

#[async_trait]
impl AccessStore for Refuse {
    async fn insert_api_key(&self, _record: ApiKeyRecord) -> Result<bool, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn api_key(&self, _id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn api_keys(&self, _tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn revoke_api_key(
        &self,
        _tenant: &TenantId,
        _id: &str,
        _at: Timestamp,
    ) -> Result<bool, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn insert_user(&self, _record: UserRecord) -> Result<bool, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn user(
        &self,
        _tenant: &TenantId,
        _username: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn users(&self, _tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn delete_user(&self, _tenant: &TenantId, _username: &str) -> Result<bool, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn record_login_failure(
        &self,
        _tenant: &TenantId,
        _username: &str,
        _lock_after: u32,
        _lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn record_login_success(
        &self,
        _tenant: &TenantId,
        _username: &str,
    ) -> Result<(), StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn insert_session(&self, _record: SessionRecord) -> Result<(), StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn session(&self, _token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn delete_session(&self, _token_hash: &[u8]) -> Result<(), StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }

    async fn prune_sessions(&self, _before: Timestamp, _batch: usize) -> Result<u64, StoreError> {
        Err((self.error)("access (API keys, users, sessions)"))
    }
}

#[async_trait]
impl MetricStore for Refuse {
    async fn record_metrics(
        &self,
        _tenant: &TenantId,
        _samples: &[MetricPoint],
        _merge: MetricMerge,
    ) -> Result<(), StoreError> {
        Err((self.error)("metric points"))
    }

    async fn metric_points(
        &self,
        _tenant: &TenantId,
        _query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError> {
        Err((self.error)("metric points"))
    }

    async fn prune_metrics(&self, _before: Timestamp, _batch: usize) -> Result<u64, StoreError> {
        Err((self.error)("metric points"))
    }
}

#[async_trait]
impl TenantStore for Refuse {
    async fn insert_tenant(&self, _record: TenantRecord) -> Result<bool, StoreError> {
        Err((self.error)("tenants"))
    }

    async fn update_tenant(&self, _record: TenantRecord) -> Result<bool, StoreError> {
        Err((self.error)("tenants"))
    }

    async fn delete_tenant(&self, _tenant: &TenantId) -> Result<bool, StoreError> {
        Err((self.error)("tenants"))
    }

    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        Err((self.error)("tenants"))
    }

    async fn take_quota(
        &self,
        _tenant: &TenantId,
        _day: i64,
        _limit: u64,
    ) -> Result<QuotaOutcome, StoreError> {
        Err((self.error)("tenants"))
    }
}
