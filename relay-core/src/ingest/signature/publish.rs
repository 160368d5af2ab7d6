//! `publish`: a source of published events only, which no HTTP request reaches.

use super::{SignatureScheme, SignedRequest, VerifyError};
use crate::ingest::selector::Selector;
use crate::model::secret::SourceSecret;
use crate::model::time::Timestamp;

/// The scheme of a source that takes [published](crate::publish) events only: routes match
/// on the source's name, [`Publish::source`](crate::publish::Publish::source) names it, and
/// `POST /webhooks/{name}` answers 404 `unknown_source` (configuration: `scheme = "publish"`,
/// no secrets).
///
/// ```
/// use relay_core::ingest::{IngestOutcome, IngestRequest};
/// use relay_core::{PublishOnly, Relay, WebhookSource};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let relay = Relay::builder()
///     .source(WebhookSource::new("billing-events", PublishOnly))
///     .build()
///     .unwrap();
/// let request = IngestRequest::new("billing-events", Default::default(), "{}");
/// assert_eq!(relay.ingest(request).await, IngestOutcome::UnknownSource);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct PublishOnly;

impl SignatureScheme for PublishOnly {
    fn name(&self) -> &'static str {
        "publish"
    }

    fn needs_secrets(&self) -> bool {
        false
    }

    /// Never reached by ingest ([`accepts_requests`](Self::accepts_requests) is `false`);
    /// refuses anyway.
    fn verify(
        &self,
        _request: &SignedRequest<'_>,
        _secrets: &[SourceSecret],
        _now: Timestamp,
    ) -> Result<(), VerifyError> {
        Err(VerifyError::NoActiveSecret)
    }

    fn default_event_type(&self) -> Option<Selector> {
        None
    }

    fn default_idempotency_key(&self) -> Option<Selector> {
        None
    }

    fn accepts_requests(&self) -> bool {
        false
    }
}
