//! The admin REST API under `/api/v1`: events, dead letters, replay, metrics, the audit
//! log, API keys and users, with its OpenAPI 3.1 description at `/api/v1/openapi.json`.
//!
//! Every route but login, logout and the description needs an API key
//! (`Authorization: Bearer rk_…`) or a dashboard session cookie; roles are
//! `viewer < operator < admin`. Errors are JSON: `{"error": "<code>", …}`.
//!
//! ```
//! use relay_core::control::admin::{Principal, Role};
//! use relay_core::model::ids::TenantId;
//!
//! # async fn example() {
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let admin = Principal::system(TenantId::default());
//! let key = relay.access().create_api_key(&admin, "ops", Role::Admin).await.unwrap();
//! let app: axum::Router = relay_axum::admin::router(relay, relay_axum::admin::AdminOptions::default());
//! // Serve `app`, then: curl -H "Authorization: Bearer <key.token>" http://…/api/v1/events
//! # drop((app, key));
//! # }
//! ```

mod access;
pub mod agents;
pub mod bulk_replay;
pub mod dto;
mod error;
mod extract;
pub mod objects;
mod openapi;
pub mod portal;
pub mod publish;
mod reload;
mod reports;
pub mod sig_failures;
pub mod tenants;
mod traffic;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use relay_core::Relay;
use utoipa::OpenApi as _;

pub use error::{ApiError, ErrorBody, FieldErrorBody};
pub use extract::{ApiJson, ApiQuery, Auth, SESSION_COOKIE};
pub use openapi::ApiDoc;
pub use reload::{Reload, ReloadHook, ReloadSummary};

/// How the admin router behaves.
#[derive(Debug, Clone)]
pub struct AdminOptions {
    /// Mark the session cookie `Secure` (set it when serving over TLS).
    pub secure_cookies: bool,
    /// The ingest path prefix shown with each source (default `/webhooks`).
    pub ingest_prefix: String,
    /// How `POST /api/v1/config/reload` reloads the host's configuration (none: 409).
    pub reload: Option<ReloadHook>,
    /// Serve the [dashboard](crate::dashboard) (`GET /` and `GET /dashboard/{file}`) with the
    /// API (default `true`). Leave it out to mount the API in an app that has its own `/`.
    pub dashboard: bool,
    /// The gateway's public base URL (e.g. `https://hooks.example.com`), which portal links
    /// start with; none: the scheme and `Host` of the request that creates the link.
    pub public_url: Option<String>,
}

impl Default for AdminOptions {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            ingest_prefix: "/webhooks".into(),
            reload: None,
            dashboard: true,
            public_url: None,
        }
    }
}

/// The router's shared state.
#[derive(Debug, Clone)]
pub struct AdminState {
    relay: Relay,
    options: AdminOptions,
}

impl AdminState {
    /// This state with the relay of `by`'s tenant (see [`Relay::scoped`]), through which
    /// sources, destinations and routes are listed and changed.
    pub(crate) async fn scoped(
        mut self,
        by: &relay_core::control::admin::Principal,
    ) -> Result<Self, ApiError> {
        self.relay = (self.relay.scoped(&by.tenant).await)
            .map_err(|e| ApiError(relay_core::control::admin::AdminError::from(e)))?;
        Ok(self)
    }
}

/// The OpenAPI description as JSON.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

async fn not_found() -> ApiError {
    ApiError(relay_core::control::admin::AdminError::NotFound)
}

/// The admin API's routes and (unless [`AdminOptions::dashboard`] is `false`) the
/// [dashboard](crate::dashboard) (`GET /`), to merge into an app.
pub fn router<S>(relay: Relay, options: AdminOptions) -> Router<S> {
    let spec = openapi_json();
    let dashboard = if options.dashboard {
        crate::dashboard::routes()
    } else {
        Router::new()
    };
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let spec = spec.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], spec).into_response() }
            }),
        )
        .route("/api/v1/auth/login", post(access::login))
        .route("/api/v1/auth/logout", post(access::logout))
        .route("/api/v1/auth/me", get(access::me))
        .route(
            "/api/v1/api-keys",
            get(access::list_keys).post(access::create_key),
        )
        .route("/api/v1/api-keys/{id}", delete(access::revoke_key))
        .route(
            "/api/v1/users",
            get(access::list_users).post(access::create_user),
        )
        .route("/api/v1/users/{username}", delete(access::delete_user))
        .route(
            "/api/v1/events",
            get(traffic::list_events).post(publish::publish),
        )
        .route("/api/v1/events/replay", post(bulk_replay::replay_matching))
        .route("/api/v1/event-types", get(publish::event_types))
        .route("/api/v1/events/{id}", get(traffic::event_detail))
        .route("/api/v1/events/{id}/replay", post(traffic::replay_event))
        .route("/api/v1/dead-letters", get(traffic::list_dead_letters))
        .route(
            "/api/v1/dead-letters/replay",
            post(traffic::replay_dead_letters),
        )
        .route(
            "/api/v1/dead-letters/discard",
            post(traffic::discard_dead_letters),
        )
        .route(
            "/api/v1/dead-letters/{id}/replay",
            post(traffic::replay_dead_letter),
        )
        .route(
            "/api/v1/dead-letters/{id}/discard",
            post(traffic::discard_dead_letter),
        )
        .route("/api/v1/audit", get(reports::audit_log))
        .route("/api/v1/signature-failures", get(sig_failures::list))
        .route("/api/v1/metrics/points", get(reports::metric_points))
        .route(
            "/api/v1/sources",
            get(objects::sources::list).post(objects::sources::create),
        )
        .route(
            "/api/v1/sources/{name}",
            get(objects::sources::read)
                .put(objects::sources::update)
                .delete(objects::sources::delete),
        )
        .route(
            "/api/v1/sources/{name}/enable",
            post(objects::sources::enable),
        )
        .route(
            "/api/v1/sources/{name}/disable",
            post(objects::sources::disable),
        )
        .route(
            "/api/v1/sources/{name}/rotate-secret",
            post(objects::sources::rotate_secret),
        )
        .route(
            "/api/v1/destinations",
            get(objects::destinations::list).post(objects::destinations::create),
        )
        .route(
            "/api/v1/destinations/{name}",
            get(objects::destinations::read)
                .put(objects::destinations::update)
                .delete(objects::destinations::delete),
        )
        .route(
            "/api/v1/destinations/{name}/enable",
            post(objects::destinations::enable),
        )
        .route(
            "/api/v1/destinations/{name}/disable",
            post(objects::destinations::disable),
        )
        .route(
            "/api/v1/routes",
            get(objects::routes::list).post(objects::routes::create),
        )
        .route(
            "/api/v1/routes/{name}",
            get(objects::routes::read)
                .put(objects::routes::update)
                .delete(objects::routes::delete),
        )
        .route(
            "/api/v1/routes/{name}/enable",
            post(objects::routes::enable),
        )
        .route(
            "/api/v1/routes/{name}/disable",
            post(objects::routes::disable),
        )
        .route("/api/v1/routes/{name}/test", post(objects::routes::test))
        .route(
            "/api/v1/subscriptions",
            post(objects::subscriptions::create),
        )
        .route(
            "/api/v1/subscriptions/{name}",
            delete(objects::subscriptions::delete),
        )
        .route("/api/v1/transformers", get(objects::routes::transformers))
        .route("/api/v1/agents", get(agents::list).post(agents::create))
        .route("/api/v1/agents/{name}", delete(agents::delete))
        .route("/api/v1/agents/{name}/revoke", post(agents::revoke))
        .route("/api/v1/agents/{name}/rotate", post(agents::rotate))
        .route("/api/v1/config/reload", post(reload::reload))
        .route("/api/v1/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/api/v1/tenants/{name}",
            get(tenants::read)
                .put(tenants::update)
                .delete(tenants::delete),
        )
        .route("/api/v1/tenants/{name}/api-keys", post(tenants::create_key))
        .route("/api/v1/tenants/{name}/portal-links", post(portal::create))
        .route("/portal/{token}", get(portal::redeem))
        .merge(openapi::swagger_ui())
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
        .merge(dashboard)
        // A panic in a handler answers 500 {"error":"internal"}; the server goes on.
        .layer(crate::CatchPanicLayer::new())
        .with_state(AdminState { relay, options })
}
