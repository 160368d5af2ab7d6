//! [`RelayMiddleware`]: the `Transform` an app `wrap`s to mount ingest.

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use relay_admin::tenant::{TenantFrom, TenantResolver};
use relay_core::Relay;
use relay_core::ingest::IngestPrefix;

use crate::service::RelayService;

/// actix-web middleware that answers `POST {prefix}/{source}` (prefix `/webhooks` by default)
/// with Relay's ingest pipeline and passes every other request to the wrapped service.
///
/// ```
/// use actix_web::{App, web};
/// use relay_actix::RelayMiddleware;
///
/// let relay = relay_core::Relay::builder().build().unwrap();
/// let app = App::new()
///     .wrap(RelayMiddleware::new(relay).prefix("/hooks")) // POST /hooks/{source}
///     .route("/", web::get().to(|| async { "my app" }));
/// ```
#[derive(Debug, Clone)]
pub struct RelayMiddleware {
    relay: Relay,
    prefix: IngestPrefix,
    tenants: TenantFrom,
}

impl RelayMiddleware {
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

    /// Ingests at `POST {prefix}/{source}` instead (see [`IngestPrefix::new`]). The prefix is
    /// matched against the whole request path, also when the middleware wraps a scope.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = IngestPrefix::new(prefix);
        self
    }

    /// Lets the application name each request's tenant (from a subdomain, its own
    /// authentication…) instead of a path segment: `POST {prefix}/{source}` is ingested in the
    /// tenant `resolve` returns (`None`: 404 `unknown_source`), and
    /// `POST {prefix}/{tenant}/{source}` is left to the application. `resolve` sees the
    /// request's head as `http` 1.x parts (method, URI, headers), as relay-axum's does.
    ///
    /// ```
    /// use relay_core::model::ids::TenantId;
    ///
    /// let relay = relay_core::Relay::builder().build().unwrap();
    /// // acme.hooks.example.com → tenant "acme"
    /// let middleware = relay_actix::RelayMiddleware::new(relay).tenant_resolver(|parts: &http::request::Parts| {
    ///     let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    ///     let (tenant, _) = host.split_once(".hooks.example.com")?;
    ///     Some(TenantId::new(tenant))
    /// });
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

impl<S, B> Transform<S, ServiceRequest> for RelayMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RelayService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RelayService::new(
            service,
            self.relay.clone(),
            self.prefix.clone(),
            self.tenants.clone(),
        )))
    }
}
