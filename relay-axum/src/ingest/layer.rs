use relay_core::Relay;
use relay_core::ingest::IngestPrefix;
use tower::Layer;

use super::service::RelayService;
use relay_admin::tenant::{TenantFrom, TenantResolver};

/// A tower [`Layer`] that mounts Relay's ingest endpoint in front of a service:
/// `POST {prefix}/{source}` for the default tenant and `POST {prefix}/{tenant}/{source}` for
/// another one (see [`relay_core::control::tenancy`]), or only the first with a
/// [tenant resolver](RelayLayer::tenant_resolver).
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
    tenants: TenantFrom,
}

impl RelayLayer {
    /// The default path prefix.
    pub const DEFAULT_PREFIX: &'static str = IngestPrefix::DEFAULT;

    /// Ingests at `POST /webhooks/{source}`.
    pub fn new(relay: Relay) -> Self {
        Self {
            relay,
            prefix: IngestPrefix::default(),
            tenants: TenantFrom::Path,
        }
    }

    /// Ingests at `POST {prefix}/{source}` instead (see [`IngestPrefix::new`]).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = IngestPrefix::new(prefix);
        self
    }

    /// Lets the application name each request's tenant (from a subdomain, its own
    /// authentication…) instead of the path: ingest is then `POST {prefix}/{source}` only,
    /// in the tenant `resolve` returns (`None`: 404 `unknown_source`), and
    /// `POST {prefix}/{tenant}/{source}` is left to the application.
    ///
    /// ```
    /// use relay_axum::RelayLayer;
    /// use relay_core::model::ids::TenantId;
    ///
    /// let relay = relay_core::Relay::builder().build().unwrap();
    /// // acme.hooks.example.com → tenant "acme"
    /// let layer = RelayLayer::new(relay).tenant_resolver(|parts: &http::request::Parts| {
    ///     let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    ///     let (tenant, _) = host.split_once(".hooks.example.com")?;
    ///     Some(TenantId::new(tenant))
    /// });
    /// # drop(layer);
    /// ```
    pub fn tenant_resolver(
        mut self,
        resolve: impl Fn(&http::request::Parts) -> Option<relay_core::model::ids::TenantId>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.tenants = TenantFrom::Resolver(TenantResolver::new(resolve));
        self
    }
}

impl<S> Layer<S> for RelayLayer {
    type Service = RelayService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RelayService::new(
            inner,
            self.relay.clone(),
            self.prefix.clone(),
            self.tenants.clone(),
        )
    }
}
