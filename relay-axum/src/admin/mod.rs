//! The admin REST API under `/api/v1`, its OpenAPI description and Swagger UI, the consumer
//! portal and the [dashboard](crate::dashboard), mounted in axum. Everything is
//! [relay-admin](relay_admin)'s [`ControlPlane`]; this module only converts requests and
//! answers.
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

mod mount;

pub use mount::{mount, serve};
pub use relay_admin::api::{
    ApiDoc, ApiError, ApiJson, ApiQuery, Auth, ErrorBody, FieldErrorBody, SESSION_COOKIE, agents,
    dto, objects, openapi_json, portal, publish, tenants,
};
pub use relay_admin::{AdminOptions, AdminState, ControlPlane, Reload, ReloadHook, ReloadSummary};

use axum::Router;
use relay_core::Relay;

/// The admin API's routes and (unless [`AdminOptions::dashboard`] is `false`) the
/// [dashboard](crate::dashboard) (`GET /`), to merge into an app, or to `nest` under a path
/// named in [`AdminOptions::prefix`] as well:
/// `Router::new().nest("/ops", router(relay, AdminOptions { prefix: "/ops".into(), .. }))`.
/// A panic in a handler answers `500 {"error":"internal"}`; the server goes on.
pub fn router<S: Clone + Send + Sync + 'static>(relay: Relay, options: AdminOptions) -> Router<S> {
    mount(ControlPlane::new(relay, options))
}
