//! How an adapter's ingest decides a request's tenant: from the path, or from the
//! application's [`TenantResolver`].

use std::fmt;
use std::sync::Arc;

use relay_core::model::ids::TenantId;

type Resolve = dyn Fn(&http::request::Parts) -> Option<TenantId> + Send + Sync;

/// The embedding application's way of naming the tenant of an ingest request (from a
/// subdomain, a header its own proxy sets, its own authentication…), used instead of a path
/// segment (`relay_axum::RelayLayer::tenant_resolver`, `relay_actix::RelayMiddleware::tenant_resolver`).
#[derive(Clone)]
pub struct TenantResolver(Arc<Resolve>);

impl TenantResolver {
    /// A resolver from a closure; `None` means the request names no tenant (404
    /// `unknown_source`).
    pub fn new(
        resolve: impl Fn(&http::request::Parts) -> Option<TenantId> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(resolve))
    }

    /// The tenant of a request.
    pub fn resolve(&self, parts: &http::request::Parts) -> Option<TenantId> {
        (self.0)(parts)
    }
}

impl fmt::Debug for TenantResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TenantResolver(..)")
    }
}

/// Where an ingest request's tenant comes from.
#[derive(Debug, Clone, Default)]
pub enum TenantFrom {
    /// `{prefix}/{source}` is the default tenant's, `{prefix}/{tenant}/{source}` the tenant's.
    #[default]
    Path,
    /// Only `{prefix}/{source}`; the resolver names the tenant.
    Resolver(TenantResolver),
}

impl TenantFrom {
    /// The tenant segment (if any) and the source of an ingest request, or `None` when the
    /// request is the application's.
    pub fn target<'a>(
        &self,
        prefix: &relay_core::ingest::IngestPrefix,
        method: &str,
        path: &'a str,
    ) -> Option<(Option<&'a str>, &'a str)> {
        match self {
            Self::Path => prefix.target_of(method, path),
            Self::Resolver(_) => prefix.source_of(method, path).map(|s| (None, s)),
        }
    }

    /// The tenant of a request whose path named `segment`.
    pub fn tenant(&self, segment: Option<&str>, parts: &http::request::Parts) -> Option<TenantId> {
        match (self, segment) {
            (Self::Path, None) => Some(TenantId::default()),
            (Self::Path, Some(tenant)) => Some(TenantId::new(tenant)),
            (Self::Resolver(resolver), _) => resolver.resolve(parts),
        }
    }
}
