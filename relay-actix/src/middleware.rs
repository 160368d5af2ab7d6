//! [`RelayMiddleware`]: the `Transform` an app `wrap`s to mount ingest.

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
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
}

impl RelayMiddleware {
    /// The default path prefix.
    pub const DEFAULT_PREFIX: &'static str = IngestPrefix::DEFAULT;

    /// Ingests at `POST /webhooks/{source}`.
    pub fn new(relay: Relay) -> Self {
        Self {
            relay,
            prefix: IngestPrefix::default(),
        }
    }

    /// Ingests at `POST {prefix}/{source}` instead (see [`IngestPrefix::new`]). The prefix is
    /// matched against the whole request path, also when the middleware wraps a scope.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = IngestPrefix::new(prefix);
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
        )))
    }
}
