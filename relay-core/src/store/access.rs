//! [`AccessStore`]: access: API keys, dashboard users and their sessions, portal links.

use async_trait::async_trait;

use super::StoreError;
use crate::control::admin::{ApiKeyRecord, PortalLinkRecord, SessionRecord, UserRecord};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

/// API keys, users and sessions. Lookups by credential (`api_key`, `session`) are the only
/// operations without a tenant: the credential decides the tenant.
#[async_trait]
pub trait AccessStore: Send + Sync + std::fmt::Debug {
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

    /// Retention: deletes at most `batch` sessions, of every tenant, that expired before
    /// `expired_before`; returns how many went (fewer than `batch`: none is left).
    async fn prune_sessions(
        &self,
        expired_before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError>;

    /// Saves a new consumer-portal link (only its token's digest). A backend without portal
    /// links answers [`StoreError::Unsupported`] (the default).
    async fn insert_portal_link(&self, record: PortalLinkRecord) -> Result<(), StoreError> {
        let _ = record;
        Err(StoreError::Unsupported("portal links"))
    }

    /// Atomically consumes the portal link with this token digest: when it exists, is unused
    /// and has not expired at `now`, marks it used at `now` and returns it; otherwise changes
    /// nothing and returns `None`. Of concurrent calls for one link (on any node sharing the
    /// store) at most one gets it. A backend without portal links answers
    /// [`StoreError::Unsupported`] (the default).
    async fn consume_portal_link(
        &self,
        token_hash: &[u8],
        now: Timestamp,
    ) -> Result<Option<PortalLinkRecord>, StoreError> {
        let _ = (token_hash, now);
        Err(StoreError::Unsupported("portal links"))
    }

    /// Retention: deletes at most `batch` portal links, of every tenant, that expired before
    /// `expired_before` (used or not); returns how many went. The default (a backend without
    /// portal links) has none to delete.
    async fn prune_portal_links(
        &self,
        expired_before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let _ = (expired_before, batch);
        Ok(0)
    }
}
