//! `POST /api/v1/config/reload`: the host's configuration read again and applied, or refused
//! with its problems while the old one keeps serving.

use relay_core::control::admin::{AdminError, FieldChange, Role};

use super::error::{ApiError, ErrorBody};
use super::extract::Auth;
use crate::options::{ReloadHook, ReloadSummary};
use crate::reply::Json;
use crate::request::State;
use crate::state::AdminState;

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
