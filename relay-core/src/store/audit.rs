//! [`AuditLog`]: the append-only audit log.

use async_trait::async_trait;

use super::StoreError;
use crate::control::admin::{AuditEntry, AuditQuery};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

/// The append-only audit log: entries are added, never changed; only retention deletes them
/// ([`AuditLog::prune_audit`]).
#[async_trait]
pub trait AuditLog: Send + Sync + std::fmt::Debug {
    /// Appends an audit entry. There is no way to change or delete one.
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError>;

    /// The tenant's audit entries matching `query`, newest first, at most `limit`.
    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError>;

    /// Retention: deletes at most `batch` entries, of every tenant, made before `before`;
    /// returns how many went (fewer than `batch`: none is left).
    async fn prune_audit(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError>;
}
