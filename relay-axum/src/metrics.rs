//! `GET /metrics`: Relay's metrics (see [`relay_core::observe::telemetry`]) in the Prometheus text
//! format, optionally behind a bearer token; the recorder and the answers are
//! [`relay_admin::metrics`]'s (one recorder per process, shared by every adapter).
//!
//! ```
//! use relay_core::model::secret::Secret;
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let relay = relay_core::Relay::builder().build()?;
//! let token = std::env::var("METRICS_TOKEN").ok().map(Secret::new); // None: public
//! let app: axum::Router = axum::Router::new()
//!     .merge(relay_axum::health::routes(relay.clone()))
//!     .merge(relay_axum::metrics::routes(token)?) // GET /metrics
//!     .layer(relay_axum::RelayLayer::new(relay));
//! let text = relay_axum::metrics::handle()?.render(); // what GET /metrics answers
//! # let _ = (app, text); Ok(()) }
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use relay_core::model::secret::Secret;

pub use relay_admin::metrics::{BUCKETS, Exporter, MetricsError, PrometheusHandle, handle};

/// `GET /metrics` → `200` with the Prometheus text format. With a `token`, only requests with
/// `Authorization: Bearer <token>` get it; others get `401 {"error":"unauthorized"}`.
pub fn routes<S>(token: Option<Secret>) -> Result<Router<S>, MetricsError> {
    let exporter = Exporter::new(token)?;
    Ok(Router::new()
        .route("/metrics", get(render))
        .with_state(exporter))
}

async fn render(State(exporter): State<Exporter>, headers: HeaderMap) -> Response {
    exporter.render(&headers).map(Body::from)
}
