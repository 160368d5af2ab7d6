//! `none`: a source that verifies nothing (forms, internal callers).

use super::{SignatureScheme, SignedRequest, VerifyError};
use crate::ingest::selector::Selector;
use crate::model::secret::SourceSecret;
use crate::model::time::Timestamp;

/// No signature: every request verifies. For trusted networks and tests only. Event type from
/// `X-Event-Type`, idempotency key from `Idempotency-Key`.
///
/// ```
/// use relay_core::ingest::signature::{NoSignature, SignatureScheme, SignedRequest};
/// use relay_core::model::time::Timestamp;
///
/// let headers = http::HeaderMap::new();
/// let request = SignedRequest { headers: &headers, body: b"anything" };
/// assert_eq!(NoSignature.verify(&request, &[], Timestamp::now()), Ok(()));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSignature;

impl SignatureScheme for NoSignature {
    fn name(&self) -> &'static str {
        "none"
    }

    fn needs_secrets(&self) -> bool {
        false
    }

    fn verify(
        &self,
        _request: &SignedRequest<'_>,
        _secrets: &[SourceSecret],
        _now: Timestamp,
    ) -> Result<(), VerifyError> {
        Ok(())
    }

    fn default_event_type(&self) -> Option<Selector> {
        Some(Selector::header("x-event-type"))
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        Some(Selector::header("idempotency-key"))
    }
}
