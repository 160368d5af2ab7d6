//! `GET /api/v1/signature-failures`: the records of refused signatures (see
//! [`relay_core::ingest::sig_failure`]), newest first.

use relay_core::control::admin::{AdminError, Role};
use relay_core::ingest::sig_failure::{SignatureFailure, SignatureFailureQuery};
use relay_core::model::ids::SigFailureId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::{Page, parse_time, time};
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiQuery, Auth};
use crate::reply::Json;
use crate::request::State;
use crate::state::AdminState;

/// A refused signature.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureFailureItem {
    /// `sgf_…`.
    pub id: String,
    /// When the request was refused (RFC 3339).
    pub at: String,
    /// The source the request was sent to.
    pub source: String,
    /// `missing_header`, `malformed`, `no_secret_matched`, `stale_timestamp` or
    /// `no_active_secret`.
    pub reason: String,
    /// The header that was missing or malformed (its name), for those reasons.
    pub header: Option<String>,
    /// The client's address (behind a trusted proxy, the one it reports), when known.
    pub client: Option<String>,
    /// The request's `x-request-id`.
    pub request_id: String,
}

impl From<SignatureFailure> for SignatureFailureItem {
    fn from(f: SignatureFailure) -> Self {
        Self {
            id: f.id.to_string(),
            at: time(f.at),
            source: f.source,
            reason: f.reason.as_str().to_owned(),
            header: f.header,
            client: f.client.map(|ip| ip.to_string()),
            request_id: f.request_id,
        }
    }
}

/// Query of `GET /signature-failures`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignatureFailureParams {
    /// Only of this source.
    pub source: Option<String>,
    /// Only at or after (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// The previous page's `next_cursor`.
    #[param(pattern = "^sgf_[0-9a-f]{32}$")]
    pub cursor: Option<String>,
    /// Page size (1 to 200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<usize>,
}

/// The records of refused signatures of the caller's tenant, newest first: at most a
/// configured number per source and minute on each node (`sig_failures_dropped` in the
/// metric points counts the others).
#[utoipa::path(get, path = "/api/v1/signature-failures", tag = "sources",
    params(SignatureFailureParams),
    responses((status = 200, body = Page<SignatureFailureItem>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A consumer-portal session"),
        (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AdminState>,
    Auth(by): Auth,
    ApiQuery(params): ApiQuery<SignatureFailureParams>,
) -> Result<Json<Page<SignatureFailureItem>>, ApiError> {
    by.require(Role::Viewer)?;
    let limit = match params.limit {
        None => 50,
        Some(n @ 1..=200) => n,
        Some(_) => return Err(AdminError::invalid("limit", "between 1 and 200").into()),
    };
    let before = (params.cursor.map(|c| c.parse::<SigFailureId>()))
        .transpose()
        .map_err(|_| AdminError::invalid("cursor", "not a valid cursor"))?;
    let since = (params.since.map(|text| parse_time(&text)))
        .map(|at| at.ok_or_else(|| AdminError::invalid("since", "not an RFC 3339 time")))
        .transpose()?;
    let query = SignatureFailureQuery {
        source: params.source,
        since,
        before,
    };
    let items = (state.relay.store())
        .signature_failures(&by.tenant, &query, limit)
        .await
        .map_err(AdminError::from)?;
    let next_cursor = (items.len() == limit)
        .then(|| items.last().map(|f| f.id.to_string()))
        .flatten();
    Ok(Json(Page {
        items: items.into_iter().map(SignatureFailureItem::from).collect(),
        next_cursor,
    }))
}
