//! [`AdminStore`]: what the admin API needs from a backend, beside [`Store`](crate::store::Store).

use async_trait::async_trait;

use super::TenantRecord;
use super::records::{
    ApiKeyRecord, AuditEntry, AuditQuery, EventQuery, EventSummary, MetricMerge, MetricPoint,
    MetricQuery, SessionRecord, UserRecord,
};
use crate::event::Delivery;
use crate::ids::{DeliveryId, TenantId};
use crate::manage::{ObjectKind, ObjectRecord};
use crate::store::{DeadLetterFilter, StoreError};
use crate::time::Timestamp;

/// API keys, users, sessions, the append-only audit log, per-minute metric points, and
/// browsing of events and dead letters. Every backend implements it next to
/// [`Store`](crate::store::Store) and passes the same conformance cases.
///
/// Lookups by credential (`api_key`, `session`) are the only operations without a tenant:
/// the credential decides the tenant.
#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Saves a new API key. Ids are unique across tenants: returns `false` (and writes
    /// nothing) when the id exists.
    async fn insert_api_key(&self, record: ApiKeyRecord) -> Result<bool, StoreError>;

    /// The key with this id, of any tenant, revoked or not.
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// The tenant's keys, oldest first.
    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Marks the tenant's key revoked at `at`; `false` when there is no such unrevoked key.
    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Saves a new user; `false` (and nothing written) when the username exists in the tenant.
    async fn insert_user(&self, record: UserRecord) -> Result<bool, StoreError>;

    /// One user.
    async fn user(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<Option<UserRecord>, StoreError>;

    /// The tenant's users, by name.
    async fn users(&self, tenant: &TenantId) -> Result<Vec<UserRecord>, StoreError>;

    /// Deletes a user and their sessions; `false` when there was none.
    async fn delete_user(&self, tenant: &TenantId, username: &str) -> Result<bool, StoreError>;

    /// Atomically counts a failed login: increments the user's consecutive failures and, when
    /// they reach `lock_after`, sets `locked_until` to `lock_until` (and restarts the count).
    /// Returns the updated user, or `None` when there is no such user.
    async fn record_login_failure(
        &self,
        tenant: &TenantId,
        username: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<Option<UserRecord>, StoreError>;

    /// Resets the user's failure count and lock after a successful login.
    async fn record_login_success(
        &self,
        tenant: &TenantId,
        username: &str,
    ) -> Result<(), StoreError>;

    /// Saves a session.
    async fn insert_session(&self, record: SessionRecord) -> Result<(), StoreError>;

    /// The session with this token digest, if it exists (expired or not).
    async fn session(&self, token_hash: &[u8]) -> Result<Option<SessionRecord>, StoreError>;

    /// Ends a session.
    async fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError>;

    /// Appends an audit entry. There is no way to change or delete one.
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError>;

    /// The tenant's audit entries matching `query`, newest first, at most `limit`.
    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// The tenant's events matching `query`, newest first, at most `limit`.
    async fn list_events(
        &self,
        tenant: &TenantId,
        query: &EventQuery,
        limit: usize,
    ) -> Result<Vec<EventSummary>, StoreError>;

    /// Dead-lettered deliveries matching `filter` with ids greater than `after`, by id
    /// (oldest first), at most `limit`.
    async fn dead_letter_page(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        after: Option<DeliveryId>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Moves dead-lettered deliveries matching `filter` to `discarded` (final: never
    /// attempted again, not redriven). Returns how many moved.
    async fn discard_dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Merges per-minute samples into the stored points of the same
    /// `(tenant, minute, scope, name, metric)`: added or kept at the maximum per `merge`.
    async fn record_metrics(
        &self,
        tenant: &TenantId,
        samples: &[MetricPoint],
        merge: MetricMerge,
    ) -> Result<(), StoreError>;

    /// The tenant's stored points matching `query`, by minute.
    async fn metric_points(
        &self,
        tenant: &TenantId,
        query: &MetricQuery,
    ) -> Result<Vec<MetricPoint>, StoreError>;

    /// Saves a new source, destination or route. Returns `false` (and writes nothing) when the
    /// tenant has one of that kind and name.
    async fn insert_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError>;

    /// Replaces the tenant's object of that kind and name (its `created_at` is kept). Returns
    /// `false` (and writes nothing) when there is none.
    async fn update_object(
        &self,
        tenant: &TenantId,
        record: ObjectRecord,
    ) -> Result<bool, StoreError>;

    /// Deletes the tenant's object of that kind and name; whether there was one.
    async fn delete_object(
        &self,
        tenant: &TenantId,
        kind: ObjectKind,
        name: &str,
    ) -> Result<bool, StoreError>;

    /// The tenant's objects, by kind (sources, destinations, routes) then name.
    async fn objects(&self, tenant: &TenantId) -> Result<Vec<ObjectRecord>, StoreError>;

    /// Saves a new tenant in the registry; `false` (and nothing written) when one of that
    /// name exists. The registry is the platform's, so these four operations are the only
    /// ones scoped by no tenant besides the credential lookups.
    async fn insert_tenant(&self, record: TenantRecord) -> Result<bool, StoreError>;

    /// Replaces a tenant's limits and `updated_at` (its `created_at` is kept); `false` when
    /// there is no such tenant.
    async fn update_tenant(&self, record: TenantRecord) -> Result<bool, StoreError>;

    /// Removes a tenant from the registry (its rows elsewhere are left alone); whether there
    /// was one.
    async fn delete_tenant(&self, tenant: &TenantId) -> Result<bool, StoreError>;

    /// Every stored tenant, by name.
    async fn tenants(&self) -> Result<Vec<TenantRecord>, StoreError>;
}
