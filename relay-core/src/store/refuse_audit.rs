//! The audit log of [`Refuse`]: every operation answers the error it makes of `"the audit
//! log"`.

use async_trait::async_trait;

use super::{AuditLog, Refuse, StoreError};
use crate::control::admin::{AuditEntry, AuditQuery};
use crate::ingest::sig_failure::{SignatureFailure, SignatureFailureQuery};
use crate::model::ids::TenantId;
use crate::model::time::Timestamp;

#[async_trait]
impl AuditLog for Refuse {
    async fn append_audit(&self, _entry: AuditEntry) -> Result<(), StoreError> {
        Err((self.error)("the audit log"))
    }

    async fn audit_entries(
        &self,
        _tenant: &TenantId,
        _query: &AuditQuery,
        _limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        Err((self.error)("the audit log"))
    }

    async fn prune_audit(&self, _before: Timestamp, _batch: usize) -> Result<u64, StoreError> {
        Err((self.error)("the audit log"))
    }

    async fn append_signature_failure(&self, _failure: SignatureFailure) -> Result<(), StoreError> {
        Err((self.error)("the audit log"))
    }

    async fn signature_failures(
        &self,
        _tenant: &TenantId,
        _query: &SignatureFailureQuery,
        _limit: usize,
    ) -> Result<Vec<SignatureFailure>, StoreError> {
        Err((self.error)("the audit log"))
    }

    async fn prune_signature_failures(
        &self,
        _before: Timestamp,
        _batch: usize,
    ) -> Result<u64, StoreError> {
        Err((self.error)("the audit log"))
    }
}
