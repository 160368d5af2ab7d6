//! Liveness and readiness: `GET /healthz` (the process is up) and `GET /readyz` (the store
//! answers and its writes succeed, see [`Relay::readiness`]); the answers are
//! [`relay_admin::health`]'s.
//!
//! ```
//! let relay = relay_core::Relay::builder().build().unwrap();
//! let app: axum::Router = axum::Router::new().merge(relay_axum::health::routes(relay));
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use relay_core::Relay;

/// `GET /healthz` → `200 {"status":"ok"}`; `GET /readyz` → `200 {"status":"ready"}` when the
/// store answers and its last write succeeded, else `503 {"status":"unavailable","reason":…}`
/// with `store_unreachable` or `writes_failing`.
pub fn routes<S>(relay: Relay) -> Router<S> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { relay_admin::health::healthz().map(Body::from) }),
        )
        .route("/readyz", get(ready))
        .with_state(relay)
}

async fn ready(State(relay): State<Relay>) -> Response {
    relay_admin::health::readyz(&relay).await.map(Body::from)
}
