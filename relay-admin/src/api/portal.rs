//! The consumer portal: `POST /api/v1/tenants/{name}/portal-links` (platform admins) makes
//! a one-time link, and `GET /portal/{token}` (the link) exchanges it for a dashboard
//! session cookie scoped to the tenant with the `portal` role, then redirects into the
//! dashboard.

use std::time::Duration;

use crate::reply::Json;
use crate::reply::Reply;
use crate::request::{Path, State};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use relay_core::control::admin::{AdminError, PORTAL_SESSION_TTL};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::time;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, Auth};
use crate::state::AdminState;

/// Where a redeemed link lands: the dashboard's event list (after the control plane's
/// [prefix](crate::AdminOptions::prefix), if any: `/ops#/events`).
pub const PORTAL_LANDING: &str = "/#/events";

/// [`PORTAL_LANDING`] under `prefix` (`""`: at the root).
fn landing(prefix: &str) -> String {
    if prefix.is_empty() {
        PORTAL_LANDING.to_owned()
    } else {
        format!("{prefix}#/events")
    }
}

/// `POST /tenants/{name}/portal-links`; send `{}` for the defaults.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPortalLinkRequest {
    /// How long the link works, in seconds (default 900: 15 minutes; at most 86400).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 86400)]
    pub ttl_secs: Option<u64>,
}

/// A new portal link. The URL carries a one-time token: it is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortalLinkItem {
    /// The link's id (`pl_…`), as named in the tenant's audit log.
    pub id: String,
    /// Open this in the customer's browser: it logs them in once, then stops working.
    pub url: String,
    /// When the link stops working, used or not (RFC 3339).
    pub expires_at: String,
}

/// The absolute URL of `path` on this gateway: the configured public URL, else the request's
/// `Host` (with `https` when cookies are marked `Secure`, i.e. behind TLS).
fn absolute(state: &AdminState, headers: &HeaderMap, path: &str) -> String {
    if let Some(base) = &state.options.public_url {
        return format!("{}{path}", base.trim_end_matches('/'));
    }
    let host = (headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.options.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}{path}")
}

/// Creates a one-time link that logs a customer into the dashboard scoped to this tenant
/// with the `portal` role: they manage the tenant's destinations and routes, see its events,
/// deliveries and attempts, and replay them (platform admins; audited in the tenant).
#[utoipa::path(post, path = "/api/v1/tenants/{name}/portal-links", tag = "tenants",
    request_body = NewPortalLinkRequest,
    params(("name" = String, Path, description = "The tenant")),
    responses((status = 201, body = PortalLinkItem), (status = 400, body = ErrorBody, description = "The body is not JSON"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No such tenant, or not a principal of the default tenant"),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AdminState>,
    Auth(by): Auth,
    Path(name): Path<String>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<NewPortalLinkRequest>,
) -> Result<(StatusCode, Json<PortalLinkItem>), ApiError> {
    let ttl = request.ttl_secs.map(Duration::from_secs);
    let link = (state.relay.access())
        .create_portal_link(&by, &name, ttl)
        .await?;
    let item = PortalLinkItem {
        url: absolute(
            &state,
            &headers,
            &format!(
                "{}/portal/{}",
                state.options.mount_prefix(),
                link.token.expose()
            ),
        ),
        id: link.record.id,
        expires_at: time(link.record.expires_at),
    };
    Ok((StatusCode::CREATED, Json(item)))
}

/// A refusal page: no cache, no referrer, the dashboard's security headers.
fn page(status: StatusCode, text: &'static str) -> Reply {
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Relay</title><p data-test=\"portal-refused\">{text}</p>"
    );
    let mut response = crate::reply::with_body(status, "text/html; charset=utf-8", body);
    no_store(&mut response);
    response
}

fn no_store(response: &mut Reply) {
    let headers = response.headers_mut();
    let fixed = [
        (header::CACHE_CONTROL, "no-store"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::CONTENT_SECURITY_POLICY,
            crate::dashboard::CONTENT_SECURITY_POLICY,
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// `GET /portal/{token}`: redeems the link (once) and redirects (303) into the dashboard
/// with the session cookie set; an unknown, expired or used link answers 401 with a short
/// page, a store failure 503.
pub(crate) async fn redeem(State(state): State<AdminState>, Path(token): Path<String>) -> Reply {
    match state.relay.access().redeem_portal_link(&token).await {
        Ok(session) => {
            let mut response = crate::reply::empty(StatusCode::SEE_OTHER);
            if let Ok(value) = HeaderValue::from_str(&landing(state.options.mount_prefix())) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            let max_age = PORTAL_SESSION_TTL.as_secs();
            if let Some(cookie) = super::access::cookie(&state, session.token.expose(), max_age) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            no_store(&mut response);
            response
        }
        Err(AdminError::Unauthorized) => page(
            StatusCode::UNAUTHORIZED,
            "This link has expired or was already used. Ask for a new one.",
        ),
        Err(error) => {
            tracing::warn!(%error, "a portal link could not be redeemed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The gateway cannot log you in right now. Try again shortly.",
            )
        }
    }
}
