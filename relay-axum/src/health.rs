//! Liveness and readiness: `GET /healthz` (the process is up) and `GET /readyz` (the store
//! answers).
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

/// `GET /healthz` → `200 {"status":"ok"}`; `GET /readyz` → `200 {"status":"ready"}` when the
/// store answers, else `503 {"status":"unavailable"}`.
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
    match relay.store().ping().await {
        Ok(()) => json(StatusCode::OK, r#"{"status":"ready"}"#),
        Err(_) => json(
            StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable"}"#,
        ),
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
