//! THE table of control-plane routes: every path, method and handler, in one place. To add
//! an endpoint, write its handler (an async function of [`FromRequest`](crate::request::FromRequest)
//! pieces, annotated with `#[utoipa::path]`), add one line here and its path to
//! [`ApiDoc`](crate::api::ApiDoc); both adapters serve it.

use http::Method;

use crate::api::objects::{destinations, routes, sources, subscriptions};
use crate::api::{
    access, agents, bulk_replay, portal, publish, reload, reports, sig_failures, tenants, traffic,
};
use crate::handler::{BoxHandler, Handler};
use crate::{dashboard, health, swagger};

/// Which methods a route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Methods {
    /// One method (`GET` also answers `HEAD`).
    One(Method),
    /// Every method.
    Any,
}

/// One route of the table.
#[derive(Debug, Clone)]
pub struct Route {
    /// The methods.
    pub methods: Methods,
    /// The path pattern (`{name}` a segment, `{*rest}` the rest), matchit's (and axum's) syntax.
    pub path: &'static str,
    /// Whether the application may serve other methods on this path (the dashboard's `/`):
    /// then a request of another method is not the control plane's.
    pub shared: bool,
    pub(crate) handler: BoxHandler,
}

fn on<Args>(method: Method, path: &'static str, handler: impl Handler<Args>) -> Route {
    Route {
        methods: Methods::One(method),
        path,
        shared: false,
        handler: BoxHandler::new(handler),
    }
}

fn get<Args>(path: &'static str, handler: impl Handler<Args>) -> Route {
    on(Method::GET, path, handler)
}

fn post<Args>(path: &'static str, handler: impl Handler<Args>) -> Route {
    on(Method::POST, path, handler)
}

fn put<Args>(path: &'static str, handler: impl Handler<Args>) -> Route {
    on(Method::PUT, path, handler)
}

fn delete<Args>(path: &'static str, handler: impl Handler<Args>) -> Route {
    on(Method::DELETE, path, handler)
}

/// The admin API (`/api/v1/…`), its OpenAPI description and Swagger UI, and the portal.
pub(crate) fn api() -> Vec<Route> {
    vec![
        get("/api/v1/openapi.json", crate::api::openapi_route),
        post("/api/v1/auth/login", access::login),
        post("/api/v1/auth/logout", access::logout),
        get("/api/v1/auth/me", access::me),
        get("/api/v1/api-keys", access::list_keys),
        post("/api/v1/api-keys", access::create_key),
        delete("/api/v1/api-keys/{id}", access::revoke_key),
        get("/api/v1/users", access::list_users),
        post("/api/v1/users", access::create_user),
        delete("/api/v1/users/{username}", access::delete_user),
        get("/api/v1/events", traffic::list_events),
        post("/api/v1/events", publish::publish),
        get("/api/v1/event-types", publish::event_types),
        post("/api/v1/events/replay", bulk_replay::replay_matching),
        get("/api/v1/events/{id}", traffic::event_detail),
        post("/api/v1/events/{id}/replay", traffic::replay_event),
        get("/api/v1/dead-letters", traffic::list_dead_letters),
        post("/api/v1/dead-letters/replay", traffic::replay_dead_letters),
        post(
            "/api/v1/dead-letters/discard",
            traffic::discard_dead_letters,
        ),
        post(
            "/api/v1/dead-letters/{id}/replay",
            traffic::replay_dead_letter,
        ),
        post(
            "/api/v1/dead-letters/{id}/discard",
            traffic::discard_dead_letter,
        ),
        get("/api/v1/audit", reports::audit_log),
        get("/api/v1/metrics/points", reports::metric_points),
        get("/api/v1/signature-failures", sig_failures::list),
        get("/api/v1/sources", sources::list),
        post("/api/v1/sources", sources::create),
        get("/api/v1/sources/{name}", sources::read),
        put("/api/v1/sources/{name}", sources::update),
        delete("/api/v1/sources/{name}", sources::delete),
        post("/api/v1/sources/{name}/enable", sources::enable),
        post("/api/v1/sources/{name}/disable", sources::disable),
        post(
            "/api/v1/sources/{name}/rotate-secret",
            sources::rotate_secret,
        ),
        get("/api/v1/destinations", destinations::list),
        post("/api/v1/destinations", destinations::create),
        get("/api/v1/destinations/{name}", destinations::read),
        put("/api/v1/destinations/{name}", destinations::update),
        delete("/api/v1/destinations/{name}", destinations::delete),
        post("/api/v1/destinations/{name}/enable", destinations::enable),
        post("/api/v1/destinations/{name}/disable", destinations::disable),
        get("/api/v1/routes", routes::list),
        post("/api/v1/routes", routes::create),
        get("/api/v1/routes/{name}", routes::read),
        put("/api/v1/routes/{name}", routes::update),
        delete("/api/v1/routes/{name}", routes::delete),
        post("/api/v1/routes/{name}/enable", routes::enable),
        post("/api/v1/routes/{name}/disable", routes::disable),
        post("/api/v1/routes/{name}/test", routes::test),
        post("/api/v1/subscriptions", subscriptions::create),
        delete("/api/v1/subscriptions/{name}", subscriptions::delete),
        get("/api/v1/transformers", routes::transformers),
        get("/api/v1/agents", agents::list),
        post("/api/v1/agents", agents::create),
        delete("/api/v1/agents/{name}", agents::delete),
        post("/api/v1/agents/{name}/revoke", agents::revoke),
        post("/api/v1/agents/{name}/rotate", agents::rotate),
        post("/api/v1/config/reload", reload::reload),
        get("/api/v1/tenants", tenants::list),
        post("/api/v1/tenants", tenants::create),
        get("/api/v1/tenants/{name}", tenants::read),
        put("/api/v1/tenants/{name}", tenants::update),
        delete("/api/v1/tenants/{name}", tenants::delete),
        post("/api/v1/tenants/{name}/api-keys", tenants::create_key),
        post("/api/v1/tenants/{name}/portal-links", portal::create),
        get("/portal/{token}", portal::redeem),
        get(swagger::DOCS_PATH, swagger::redirect),
        get("/api/v1/docs/", swagger::index),
        get("/api/v1/docs/{*rest}", swagger::asset),
        Route {
            methods: Methods::Any,
            path: "/api/v1/{*rest}",
            shared: false,
            handler: BoxHandler::new(crate::api::not_found),
        },
    ]
}

/// The dashboard: `GET /` and `GET /dashboard/{file}`.
pub(crate) fn dashboard() -> Vec<Route> {
    let mut index = get("/", dashboard::index_route);
    index.shared = true;
    vec![index, get("/dashboard/{file}", dashboard::file_route)]
}

/// `GET /healthz` and `GET /readyz`.
pub(crate) fn health() -> Vec<Route> {
    vec![
        get("/healthz", health::healthz_route),
        get("/readyz", health::readyz_route),
    ]
}

/// `GET /metrics`.
#[cfg(feature = "metrics")]
pub(crate) fn metrics(exporter: crate::metrics::Exporter) -> Vec<Route> {
    let render = move |headers: http::HeaderMap| {
        let exporter = exporter.clone();
        async move { exporter.render(&headers) }
    };
    vec![get("/metrics", render)]
}
