//! Liveness and readiness: `GET /healthz` (the process is up) and `GET /readyz` (the store
//! answers and its writes succeed, see [`Relay::readiness`]).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = relay_core::Relay::builder().build().unwrap();
//! assert_eq!(relay_admin::health::healthz().body().as_ref(), br#"{"status":"ok"}"#);
//! assert_eq!(relay_admin::health::readyz(&relay).await.status(), 200);
//! # }
//! ```

use http::StatusCode;
use relay_core::Relay;
use relay_core::control::readiness::NotReady;

use crate::reply::{Reply, with_body};
use crate::request::State;
use crate::state::AdminState;

/// `GET /healthz` → `200 {"status":"ok"}`.
pub fn healthz() -> Reply {
    with_body(StatusCode::OK, "application/json", r#"{"status":"ok"}"#)
}

/// `GET /readyz` → `200 {"status":"ready"}` when the store answers and its last write
/// succeeded, else `503 {"status":"unavailable","reason":…}` with `store_unreachable` or
/// `writes_failing`.
pub async fn readyz(relay: &Relay) -> Reply {
    match relay.readiness().await {
        Ok(()) => with_body(StatusCode::OK, "application/json", r#"{"status":"ready"}"#),
        Err(not_ready) => {
            tracing::debug!(error = %not_ready, "not ready");
            let body = match not_ready {
                NotReady::StoreUnreachable(_) => {
                    r#"{"status":"unavailable","reason":"store_unreachable"}"#
                }
                NotReady::WritesFailing(_) => {
                    r#"{"status":"unavailable","reason":"writes_failing"}"#
                }
            };
            with_body(StatusCode::SERVICE_UNAVAILABLE, "application/json", body)
        }
    }
}

pub(crate) async fn healthz_route() -> Reply {
    healthz()
}

pub(crate) async fn readyz_route(State(state): State<AdminState>) -> Reply {
    readyz(&state.relay).await
}
