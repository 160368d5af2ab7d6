//! Liveness and readiness: `GET /healthz` (the process is up) and `GET /readyz` (the store
//! answers and its writes succeed, see [`Relay::readiness`]).
//!
//! ```
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let app: axum::Router = axum::Router::new().merge(relay_axum::health::routes(relay));
//! ```

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use relay_core::Relay;
use relay_core::control::readiness::NotReady;

/// `GET /healthz` → `200 {"status":"ok"}`; `GET /readyz` → `200 {"status":"ready"}` when the
/// store answers and its last write succeeded, else `503 {"status":"unavailable","reason":…}`
/// with `store_unreachable` or `writes_failing`.
pub fn routes<S>(relay: Relay) -> Router<S> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { json(StatusCode::OK, r#"{"status":"ok"}"#) }),
        )
        .route("/readyz", get(ready))
        .with_state(relay)
}

async fn ready(State(relay): State<Relay>) -> Response {
    match relay.readiness().await {
        Ok(()) => json(StatusCode::OK, r#"{"status":"ready"}"#),
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
            json(StatusCode::SERVICE_UNAVAILABLE, body)
        }
    }
}

fn json(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
