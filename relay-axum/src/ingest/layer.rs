use relay_core::Relay;
use relay_core::ingest::IngestPrefix;
use tower::Layer;

use super::service::RelayService;

/// A tower [`Layer`] that mounts Relay's ingest endpoint in front of a service.
///
/// ```
/// use relay_axum::RelayLayer;
/// let relay = relay_core::Relay::builder().build().unwrap();
/// let layer = RelayLayer::new(relay).prefix("/hooks"); // POST /hooks/{source}
/// ```
#[derive(Debug, Clone)]
pub struct RelayLayer {
    relay: Relay,
    prefix: IngestPrefix,
}

impl RelayLayer {
    /// The default path prefix.
    pub const DEFAULT_PREFIX: &'static str = IngestPrefix::DEFAULT;

    /// Ingests at `POST /webhooks/{source}`.
    pub fn new(relay: Relay) -> Self {
        Self {
            relay,
            prefix: IngestPrefix::default(),
        }
    }

    /// Ingests at `POST {prefix}/{source}` instead (see [`IngestPrefix::new`]).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = IngestPrefix::new(prefix);
        self
    }
}

impl<S> Layer<S> for RelayLayer {
    type Service = RelayService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RelayService::new(inner, self.relay.clone(), self.prefix.clone())
    }
}
