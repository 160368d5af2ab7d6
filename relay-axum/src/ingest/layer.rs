use std::sync::Arc;

use relay_core::Relay;
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
    prefix: Arc<str>,
}

impl RelayLayer {
    /// The default path prefix.
    pub const DEFAULT_PREFIX: &'static str = "/webhooks";

    /// Ingests at `POST /webhooks/{source}`.
    pub fn new(relay: Relay) -> Self {
        Self {
            relay,
            prefix: Arc::from(Self::DEFAULT_PREFIX),
        }
    }

    /// Ingests at `POST {prefix}/{source}` instead (a trailing `/` is ignored).
    pub fn prefix(mut self, prefix: &str) -> Self {
        let trimmed = prefix.trim_end_matches('/');
        let with_slash = if trimmed.starts_with('/') {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
        };
        self.prefix = Arc::from(with_slash);
        self
    }
}

impl<S> Layer<S> for RelayLayer {
    type Service = RelayService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RelayService::new(inner, self.relay.clone(), self.prefix.clone())
    }
}
