//! The admin REST API under `/api/v1`: events, dead letters, replay, metrics, the audit
//! log, API keys and users, with its OpenAPI 3.1 description at `/api/v1/openapi.json`.
//!
//! Every route but login, logout and the description needs an API key
//! (`Authorization: Bearer rk_…`) or a dashboard session cookie; roles are
//! `viewer < operator < admin`. Errors are JSON: `{"error": "<code>", …}`. The routes are
//! listed in one table ([`crate::table`]); each handler is written once, against
//! [`Request`](crate::request::Request) pieces, and both adapters serve it.

pub(crate) mod access;
pub mod agents;
pub mod attempt_dto;
pub(crate) mod attempt_view;
pub mod bulk_replay;
pub mod dto;
pub(crate) mod error;
pub(crate) mod extract;
pub mod objects;
mod openapi;
pub mod portal;
pub mod publish;
pub(crate) mod reload;
pub(crate) mod reports;
pub mod sig_failures;
pub mod tenants;
pub(crate) mod traffic;
pub(crate) mod waiting;

use std::sync::OnceLock;

use http::StatusCode;
use relay_core::control::admin::AdminError;
use utoipa::OpenApi as _;

pub use error::{ApiError, ErrorBody, FieldErrorBody};
pub use extract::{ApiJson, ApiQuery, Auth, SESSION_COOKIE};
pub use openapi::ApiDoc;

use crate::reply::{Reply, with_body};

/// The OpenAPI description as JSON.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
}

/// `GET /api/v1/openapi.json` (public).
pub(crate) async fn openapi_route() -> Reply {
    static SPEC: OnceLock<String> = OnceLock::new();
    let spec = SPEC.get_or_init(openapi_json);
    with_body(StatusCode::OK, "application/json", spec.clone())
}

/// Any other path under `/api/v1`: `404 {"error":"not_found"}`.
pub(crate) async fn not_found() -> ApiError {
    ApiError(AdminError::NotFound)
}
