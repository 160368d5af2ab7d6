//! [`PublishSource`]: a source that takes published events only (`scheme = "publish"`).

use std::time::Duration;

use http::HeaderMap;

use crate::ingest::limit::RateLimit;
use crate::ingest::signature::VerifyError;
use crate::ingest::source::{Identity, Source, UNKNOWN_EVENT_TYPE, WebhookSource};
use crate::model::payload::Payload;
use crate::model::time::Timestamp;

/// A source of published events only: routes match on its name, [`Relay::publish`]
/// (crate::Relay::publish) names it with [`Publish::source`](super::Publish::source), and
/// `POST /webhooks/{name}` answers 404 `unknown_source`.
///
/// ```
/// use relay_core::Relay;
/// use relay_core::publish::PublishSource;
/// use relay_core::ingest::{IngestOutcome, IngestRequest};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let relay = Relay::builder().source(PublishSource::new("billing-events")).build().unwrap();
/// let request = IngestRequest::new("billing-events", Default::default(), "{}");
/// assert_eq!(relay.ingest(request).await, IngestOutcome::UnknownSource);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PublishSource {
    name: String,
    dedup_window: Duration,
}

impl PublishSource {
    /// A publish source named `name`, deduplicating idempotency keys for 24 hours.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            dedup_window: WebhookSource::DEFAULT_DEDUP_WINDOW,
        }
    }

    /// Sets how long an idempotency key keeps deduplicating.
    pub fn dedup_window(mut self, window: Duration) -> Self {
        self.dedup_window = window;
        self
    }
}

impl Source for PublishSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn scheme_name(&self) -> Option<&str> {
        Some("publish")
    }

    fn max_body_bytes(&self) -> usize {
        0
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        None
    }

    fn dedup_window(&self) -> Duration {
        self.dedup_window
    }

    /// Never reached by ingest ([`Source::accepts_requests`] is `false`); refuses anyway.
    fn verify(&self, _: &HeaderMap, _: &[u8], _: Timestamp) -> Result<(), VerifyError> {
        Err(VerifyError::NoActiveSecret)
    }

    fn identify(&self, _: &HeaderMap, _: &[u8], _: &Payload) -> Identity {
        Identity {
            event_type: UNKNOWN_EVENT_TYPE.to_owned(),
            idempotency_key: String::new(),
        }
    }

    fn accepts_requests(&self) -> bool {
        false
    }
}
