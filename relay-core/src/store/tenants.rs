//! [`TenantStore`]: the tenant registry and per-tenant daily quotas.

use async_trait::async_trait;

use super::{QuotaOutcome, StoreError};
use crate::control::admin::TenantRecord;
use crate::model::ids::TenantId;

/// The platform's tenant registry (scoped by no tenant) and each tenant's daily quota.
#[async_trait]
pub trait TenantStore: Send + Sync + std::fmt::Debug {
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

    /// Atomically takes one unit of `tenant`'s quota for `day` ([`quota_day`](super::quota_day)): when fewer
    /// than `limit` are taken on that day, counts one more and returns
    /// [`QuotaOutcome::Taken`]; otherwise changes nothing and returns
    /// [`QuotaOutcome::Exhausted`]. Concurrent callers (on any node) never take more than
    /// `limit` in total; a new day starts from zero.
    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<QuotaOutcome, StoreError>;
}
