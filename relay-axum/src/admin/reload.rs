//! `POST /api/v1/config/reload`: the host's configuration read again and applied, or refused
//! with its problems while the old one keeps serving.

use std::fmt;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use relay_core::control::admin::{AdminError, FieldChange, FieldError, Role};
use serde::Serialize;
use utoipa::ToSchema;

use super::AdminState;
use super::error::{ApiError, ErrorBody};
use super::extract::Auth;

/// What a reload applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReloadSummary {
    /// Sources now configured.
    pub sources: usize,
    /// Destinations now configured.
    pub destinations: usize,
    /// Routes now configured.
    pub routes: usize,
    /// Changed keys that take effect only after a restart (e.g. `server.listen`).
    pub restart_needed: Vec<String>,
}

/// Reads the configuration again and applies it: the summary, or every problem (with its key)
/// when it is refused. It runs on the request's task, so it must be quick (a file read).
pub type Reload = dyn Fn() -> Result<ReloadSummary, Vec<FieldError>> + Send + Sync;

/// How the host reloads its configuration (the standalone gateway: its TOML file).
#[derive(Clone)]
pub struct ReloadHook(pub Arc<Reload>);

impl fmt::Debug for ReloadHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReloadHook")
    }
}

/// Reads the configuration file again (admins): sources, destinations, routes and
/// transformers change without a restart and without losing work in flight. An invalid file
/// is refused with every problem (422) and the configuration in effect stays. 409 when the
/// host has no configuration file to reload.
#[utoipa::path(post, path = "/api/v1/config/reload", tag = "configuration",
    responses((status = 200, body = ReloadSummary), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn reload(
    State(state): State<AdminState>,
    Auth(by): Auth,
) -> Result<Json<ReloadSummary>, ApiError> {
    by.require(Role::Admin)?;
    let Some(ReloadHook(hook)) = state.options.reload.clone() else {
        return Err(AdminError::Conflict(
            "this gateway has no configuration file to reload".into(),
        )
        .into());
    };
    // A small file read and check: done inline.
    match hook() {
        Ok(summary) => {
            let changes = vec![
                FieldChange::added("sources", summary.sources),
                FieldChange::added("destinations", summary.destinations),
                FieldChange::added("routes", summary.routes),
            ];
            (state.relay)
                .access()
                .audit(&by, "reload", "config", "file", changes)
                .await?;
            Ok(Json(summary))
        }
        Err(problems) => Err(AdminError::Invalid(problems).into()),
    }
}
