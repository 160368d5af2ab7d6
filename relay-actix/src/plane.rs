//! [`ControlPlane`]: the `Transform` an app `wrap`s to mount the whole control plane.

use std::future::{Ready, ready};

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use relay_admin::{AdminOptions, TrustedProxies};
use relay_core::Relay;

use crate::plane_service::ControlPlaneService;

/// actix-web middleware serving Relay's control plane (see [`relay_admin::ControlPlane`]):
/// the admin API under `/api/v1`, its OpenAPI description and Swagger UI (`/api/v1/docs/`),
/// the consumer portal (`/portal/{token}`) and (unless [`AdminOptions::dashboard`] is
/// `false`) the dashboard (`GET /`, `/dashboard/{file}`); with [`health`](Self::health)
/// `/healthz` and `/readyz`, with [`metrics`](Self::metrics) `GET /metrics`, with
/// [`agents`](Self::agents) the agent WebSocket (`GET /agent/v1/connect`). Every other
/// request goes to the wrapped service untouched. The answers are relay-admin's, so they are
/// the same as relay-axum's: paths, status codes, headers and JSON bodies.
///
/// Wrapping a `web::scope("/ops")` instead of the app serves it all under `/ops` (the scope's
/// unmatched rest is the control plane's path); set [`AdminOptions::prefix`] to `/ops` too, so
/// the dashboard links its files there.
///
/// Each request carries a [`ClientInfo`](relay_admin::ClientInfo) extension: the TCP peer,
/// or, when that peer is one of the [`trusted_proxies`](Self::trusted_proxies), the client
/// they report in `Forwarded` or `X-Forwarded-For`.
///
/// ```
/// use actix_web::{App, web};
/// use relay_actix::{ControlPlane, RelayMiddleware};
///
/// let relay = relay_core::Relay::builder().build().unwrap();
/// let plane = ControlPlane::new(relay.clone(), Default::default()).health().agents();
/// let app = App::new()
///     .wrap(RelayMiddleware::new(relay)) // POST /webhooks/{source}
///     .wrap(plane) // /api/v1/…, /, /healthz, /readyz, /agent/v1/connect
///     .route("/hello", web::get().to(|| async { "my app" }));
/// ```
#[derive(Debug, Clone)]
pub struct ControlPlane {
    plane: relay_admin::ControlPlane,
    proxies: TrustedProxies,
    agents: bool,
}

impl ControlPlane {
    /// The admin API, OpenAPI description, Swagger UI, portal and dashboard of `relay`.
    pub fn new(relay: Relay, options: AdminOptions) -> Self {
        Self::from_plane(relay_admin::ControlPlane::new(relay, options))
    }

    /// Serves `plane` as it is.
    pub fn from_plane(plane: relay_admin::ControlPlane) -> Self {
        Self {
            plane,
            proxies: TrustedProxies::default(),
            agents: false,
        }
    }

    /// Also `GET /healthz` and `GET /readyz`.
    pub fn health(mut self) -> Self {
        self.plane = self.plane.with_health();
        self
    }

    /// Also `GET /metrics` (the process's Prometheus recorder, installed now if it is not
    /// yet); with a `token`, only for `Authorization: Bearer <token>`.
    #[cfg(feature = "metrics")]
    pub fn metrics(
        mut self,
        token: Option<relay_core::model::secret::Secret>,
    ) -> Result<Self, relay_admin::metrics::MetricsError> {
        let exporter = relay_admin::metrics::Exporter::new(token)?;
        self.plane = self.plane.with_metrics(exporter);
        Ok(self)
    }

    /// Also the agent endpoint, `GET /agent/v1/connect` (a WebSocket; see
    /// [`relay_admin::agent`]).
    pub fn agents(mut self) -> Self {
        self.agents = true;
        self
    }

    /// Believes `Forwarded` / `X-Forwarded-For` from these proxies when naming the client.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for ControlPlane
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = ControlPlaneService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ControlPlaneService::new(
            service,
            self.plane.clone(),
            self.proxies.clone(),
            self.agents,
        )))
    }
}
