//! [`ControlPlane`]: the whole control plane behind one framework-free call.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use relay_core::Relay;
use relay_core::unwind::CatchUnwind;

use crate::options::AdminOptions;
use crate::reply::{self, Reply};
use crate::request::{ClientInfo, Request};
use crate::router::{Found, Router};
use crate::state::AdminState;
#[cfg(test)]
use crate::table::Methods;
use crate::table::{self, Route};

/// The largest request body the control plane reads (2 MiB, as axum's default): an adapter
/// refuses a longer one with [`payload_too_large`].
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// `413 {"error":"payload_too_large"}`: the answer to a body over [`BODY_LIMIT`].
pub fn payload_too_large() -> Reply {
    reply::with_body(
        StatusCode::PAYLOAD_TOO_LARGE,
        "application/json",
        r#"{"error":"payload_too_large"}"#,
    )
}

/// The control plane of a relay: the admin API under `/api/v1` with its OpenAPI description
/// (`/api/v1/openapi.json`) and Swagger UI (`/api/v1/docs/`), the consumer portal
/// (`/portal/{token}`), the dashboard (`GET /`, `/dashboard/{file}`; see
/// [`AdminOptions::dashboard`]), and, when added, health (`/healthz`, `/readyz`) and
/// `/metrics`. Cheap to clone.
///
/// An adapter asks [`serves`](Self::serves) with the request's method and path; if so, it
/// reads the body (at most [`BODY_LIMIT`]) and answers with [`handle`](Self::handle).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use bytes::Bytes;
/// use relay_admin::{AdminOptions, ClientInfo, ControlPlane};
///
/// let relay = relay_core::Relay::builder().build().unwrap();
/// let plane = ControlPlane::new(relay, AdminOptions::default()).with_health();
/// let request = http::Request::get("/healthz").body(Bytes::new()).unwrap();
/// let reply = plane.handle(request, ClientInfo::default()).await.unwrap();
/// assert_eq!(reply.body().as_ref(), br#"{"status":"ok"}"#);
/// let app_s = http::Request::get("/my/page").body(Bytes::new()).unwrap();
/// assert!(plane.handle(app_s, ClientInfo::default()).await.is_none());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ControlPlane {
    state: AdminState,
    routes: Vec<Route>,
    router: Arc<Router>,
}

impl ControlPlane {
    /// The admin API, OpenAPI description, Swagger UI, portal and (unless
    /// [`AdminOptions::dashboard`] is `false`) the dashboard of `relay`.
    pub fn new(relay: Relay, options: AdminOptions) -> Self {
        let mut routes = table::api();
        if options.dashboard {
            routes.extend(table::dashboard());
        }
        Self::with_routes(AdminState::new(relay, options), routes)
    }

    fn with_routes(state: AdminState, routes: Vec<Route>) -> Self {
        // Every path of the table is a valid, distinct pattern: a unit test inserts them all.
        let router = Router::new(routes.clone()).unwrap_or_else(|error| {
            tracing::error!(%error, "the control plane's route table is invalid");
            Router::default()
        });
        Self {
            state,
            routes,
            router: Arc::new(router),
        }
    }

    fn adding(self, more: Vec<Route>) -> Self {
        let mut routes = self.routes;
        routes.extend(more);
        Self::with_routes(self.state, routes)
    }

    /// Also `GET /healthz` and `GET /readyz` (see [`crate::health`]).
    pub fn with_health(self) -> Self {
        self.adding(table::health())
    }

    /// Also `GET /metrics` (see [`crate::metrics`]).
    #[cfg(feature = "metrics")]
    pub fn with_metrics(self, exporter: crate::metrics::Exporter) -> Self {
        self.adding(table::metrics(exporter))
    }

    /// The relay served.
    pub fn relay(&self) -> &Relay {
        &self.state.relay
    }

    /// The options.
    pub fn options(&self) -> &AdminOptions {
        &self.state.options
    }

    /// Every route, in the table's order (for adapters that register paths with their
    /// framework's router).
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Whether a request of `method` to `path` is the control plane's (then
    /// [`handle`](Self::handle) answers it).
    pub fn serves(&self, method: &Method, path: &str) -> bool {
        !matches!(self.router.find(method, path), Found::None)
    }

    /// The answer to `request` from `client`, or `None` when it is not the control plane's
    /// (the adapter passes it on). A handler that panics answers `500 {"error":"internal"}`.
    pub async fn handle(&self, request: http::Request<Bytes>, client: ClientInfo) -> Option<Reply> {
        let (parts, body) = request.into_parts();
        let (handler, raw) = match self.router.find(&parts.method, parts.uri.path()) {
            Found::None => return None,
            Found::MethodNotAllowed(allowed) => return Some(method_not_allowed(&allowed)),
            Found::Handler(handler, params) => (handler.clone(), params),
        };
        let mut params = Vec::with_capacity(raw.len());
        for (name, value) in raw {
            match percent_encoding::percent_decode_str(&value).decode_utf8() {
                Ok(decoded) => params.push((name, decoded.into_owned())),
                Err(_) => return Some(invalid_path()),
            }
        }
        let head = parts.method == Method::HEAD;
        let request = Request {
            state: self.state.clone(),
            parts,
            params,
            body,
            client,
        };
        let mut reply = match relay_core::unwind::catch(|| handler.call(request)) {
            Ok(future) => match CatchUnwind::new(future).await {
                Ok(reply) => reply,
                Err(message) => panicked(&message),
            },
            Err(message) => panicked(&message),
        };
        if head {
            *reply.body_mut() = Bytes::new();
        }
        Some(reply)
    }
}

/// The methods a 405 names: with `GET`, `HEAD` too.
fn method_not_allowed(allowed: &[Method]) -> Reply {
    let mut names = Vec::new();
    for method in allowed {
        names.push(method.as_str());
        if method == Method::GET {
            names.push("HEAD");
        }
    }
    let mut reply = reply::empty(StatusCode::METHOD_NOT_ALLOWED);
    if let Ok(value) = HeaderValue::from_str(&names.join(",")) {
        reply.headers_mut().insert(header::ALLOW, value);
    }
    reply
}

fn invalid_path() -> Reply {
    reply::with_body(
        StatusCode::BAD_REQUEST,
        "application/json",
        r#"{"error":"invalid","message":"a path segment is not UTF-8"}"#,
    )
}

fn panicked(message: &str) -> Reply {
    tracing::error!(target: "relay_admin", panic = %message, "serving a request panicked; answered 500");
    reply::internal_error()
}

/// Whether `routes` answers `method` on some path (for tests).
#[cfg(test)]
pub(crate) fn answers(routes: &[Route], method: &Method, path: &str) -> bool {
    routes.iter().any(|r| {
        r.path == path
            && match &r.methods {
                Methods::One(one) => one == method,
                Methods::Any => true,
            }
    })
}

#[cfg(test)]
mod tests;
