//! [`AuditLog`]: the append-only audit log.

use async_trait::async_trait;

use super::StoreError;
use crate::control::admin::{AuditEntry, AuditQuery};
use crate::ingest::sig_failure::{SignatureFailure, SignatureFailureQuery};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

/// The append-only audit log: entries are added, never changed; only retention deletes them
/// ([`AuditLog::prune_audit`]). Beside it, the records of refused signatures, append-only
/// and pruned the same way.
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

    /// Appends the record of a refused signature (the caller keeps their number bounded).
    async fn append_signature_failure(&self, failure: SignatureFailure) -> Result<(), StoreError>;

    /// The tenant's refused signatures matching `query`, newest first, at most `limit`.
    async fn signature_failures(
        &self,
        tenant: &TenantId,
        query: &SignatureFailureQuery,
        limit: usize,
    ) -> Result<Vec<SignatureFailure>, StoreError>;

    /// Retention: deletes at most `batch` signature-failure records, of every tenant, made
    /// before `before`; returns how many went (fewer than `batch`: none is left).
    async fn prune_signature_failures(
        &self,
        before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError>;
}
