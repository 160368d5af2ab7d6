//! Storing the record of a refused signature from the ingest pipeline.

use super::cap::Admission;
use super::{SignatureFailure, SignatureFailureReason};
use crate::ingest::Inbound;
use crate::ingest::signature::VerifyError;
use crate::model::ids::SigFailureId;
use crate::model::time::Timestamp;
use crate::observe::{Observer as _, SignatureFailureSeen};
use crate::relay::Relay;

impl Relay {
    /// Stores the record of a refused signature, unless the source's records of this minute
    /// are used up; tells the observers either way. A store error is logged, never answered
    /// (the sender gets its 401 as always).
    pub(in crate::ingest) async fn record_sig_failure(
        &self,
        request: &Inbound<'_>,
        source: &str,
        error: &VerifyError,
        now: Timestamp,
    ) {
        let (reason, header) = SignatureFailureReason::of(error);
        let (per_minute, cap) = self.sig_failure_cap();
        let mut recorded = cap.admit(request.tenant, source, now, per_minute) == Admission::Record;
        if recorded {
            let failure = SignatureFailure {
                id: SigFailureId::new(),
                tenant: request.tenant.clone(),
                source: source.to_owned(),
                reason,
                header: header.map(str::to_owned),
                client: request.client,
                at: now,
                request_id: request.request_id.as_str().to_owned(),
            };
            if let Err(error) = self.store().append_signature_failure(failure).await {
                tracing::warn!(%error, source, "could not store a refused signature's record");
                recorded = false;
            }
        }
        self.observers()
            .on_signature_failure(&SignatureFailureSeen {
                tenant: request.tenant,
                source,
                reason,
                recorded,
            });
    }
}
