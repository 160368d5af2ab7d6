//! The audit log of [`Stores`], answered by its audit part.

use async_trait::async_trait;

use super::Stores;
use crate::control::admin::{AuditEntry, AuditQuery};
use crate::ingest::sig_failure::{SignatureFailure, SignatureFailureQuery};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;
use crate::store::{AuditLog, StoreError};

#[async_trait]
impl AuditLog for Stores {
    async fn append_audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.audit.append_audit(entry).await
    }

    async fn audit_entries(
        &self,
        tenant: &TenantId,
        query: &AuditQuery,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        self.audit.audit_entries(tenant, query, limit).await
    }

    async fn prune_audit(&self, before: Timestamp, batch: usize) -> Result<u64, StoreError> {
        self.audit.prune_audit(before, batch).await
    }

    async fn append_signature_failure(&self, failure: SignatureFailure) -> Result<(), StoreError> {
        self.audit.append_signature_failure(failure).await
    }

    async fn signature_failures(
        &self,
        tenant: &TenantId,
        query: &SignatureFailureQuery,
        limit: usize,
    ) -> Result<Vec<SignatureFailure>, StoreError> {
        self.audit.signature_failures(tenant, query, limit).await
    }

    async fn prune_signature_failures(
        &self,
        before: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        self.audit.prune_signature_failures(before, batch).await
    }
}
