//! Enabling and disabling sources, destinations and routes with a reason, and how the
//! answers show who or what disabled an object (its stored state; see
//! [`relay_core::control::manage::Objects::set_enabled`]).

use http::StatusCode;
use relay_core::control::admin::Principal;
use relay_core::control::manage::{Disabled, ObjectKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::dto::time;
use crate::api::error::ApiError;
use crate::state::AdminState;

/// Query of the `enable` and `disable` operations.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StateParams {
    /// Why (stored with the state, shown in the answers and the dashboard, audited).
    #[param(max_length = 500)]
    pub reason: Option<String>,
}

/// Who or what disabled an object, why and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisabledItem {
    /// An operator (`key:<id>`, `user:<name>`, `system`), `410` (the destination answered
    /// 410 Gone) or `circuit breaker` (its circuit opened too often).
    pub by: String,
    /// Why (may be empty).
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

impl From<Disabled> for DisabledItem {
    fn from(disabled: Disabled) -> Self {
        Self {
            by: disabled.by,
            reason: disabled.reason,
            at: time(disabled.at),
        }
    }
}

/// Stores the state of `kind` `name` with the query's reason: 204.
pub(crate) async fn set(
    state: AdminState,
    by: &Principal,
    (kind, name): (ObjectKind, &str),
    enabled: bool,
    params: StateParams,
) -> Result<StatusCode, ApiError> {
    let state = state.scoped(by).await?;
    let reason = params.reason.unwrap_or_default();
    (state.relay.objects())
        .set_enabled(by, kind, name, enabled, &reason)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
