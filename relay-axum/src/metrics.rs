//! `GET /metrics`: Relay's metrics (see [`relay_core::observe::telemetry`]) in the Prometheus text
//! format, optionally behind a bearer token.
//!
//! The first call to [`routes`] (or [`handle`]) installs a Prometheus recorder as the
//! process's global [`metrics`] recorder; later calls share it, so the router can be built
//! any number of times. When the application already installed a recorder of its own,
//! [`MetricsError::OtherRecorder`] says so (Relay's metrics then go to that recorder).
//! Histograms are rendered with the buckets in [`BUCKETS`].
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

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusBuilder;
use relay_core::model::secret::{Secret, constant_time_eq};

pub use metrics_exporter_prometheus::PrometheusHandle;

/// Histogram buckets in seconds, from a millisecond (an attempt, an ingest) to a day (an event
/// delivered after a long run of retries).
pub const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 900.0, 3600.0, 21600.0, 86400.0,
];

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Why the Prometheus recorder could not be installed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// Another [`metrics`] recorder was installed in this process before Relay's.
    #[error("another metrics recorder is already installed in this process")]
    OtherRecorder,
    /// The exporter refused its configuration.
    #[error("prometheus exporter: {0}")]
    Exporter(String),
}

static INSTALLED: OnceLock<Result<PrometheusHandle, MetricsError>> = OnceLock::new();

/// The handle of the process's Prometheus recorder, installing it on first use.
pub fn handle() -> Result<PrometheusHandle, MetricsError> {
    INSTALLED.get_or_init(install).clone()
}

fn install() -> Result<PrometheusHandle, MetricsError> {
    let recorder = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .map_err(|e| MetricsError::Exporter(e.to_string()))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| MetricsError::OtherRecorder)?;
    relay_core::observe::telemetry::describe();
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("relay-metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        })
        .map_err(|e| MetricsError::Exporter(format!("upkeep thread: {e}")))?;
    Ok(handle)
}

#[derive(Clone)]
struct Exporter {
    handle: PrometheusHandle,
    token: Option<Secret>,
}

/// `GET /metrics` → `200` with the Prometheus text format. With a `token`, only requests with
/// `Authorization: Bearer <token>` get it; others get `401 {"error":"unauthorized"}`.
pub fn routes<S>(token: Option<Secret>) -> Result<Router<S>, MetricsError> {
    let exporter = Exporter {
        handle: handle()?,
        token,
    };
    Ok(Router::new()
        .route("/metrics", get(render))
        .with_state(exporter))
}

async fn render(State(exporter): State<Exporter>, headers: HeaderMap) -> Response {
    if let Some(token) = &exporter.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        if !constant_time_eq(presented, token.expose().as_bytes()) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":"unauthorized"}"#,
            )
                .into_response();
        }
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        exporter.handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    async fn get_metrics(app: Router, authorization: Option<&str>) -> (StatusCode, String) {
        let mut request = Request::get("/metrics");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = app
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn renders_what_relay_core_records() {
        let app: Router = routes(None).unwrap();
        relay_core::observe::telemetry::record_attempt(
            "unit-metrics-dest",
            relay_core::model::event::AttemptOutcome::Retrying,
            Duration::from_millis(30),
        );
        let (status, text) = get_metrics(app, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            text.contains(
                r#"relay_attempts_total{destination="unit-metrics-dest",result="retrying"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(
            r#"relay_attempt_duration_seconds_bucket{destination="unit-metrics-dest",le="0.05"} 1"#
        ));
        assert!(text.contains("# HELP relay_attempts_total"));
    }

    #[tokio::test]
    async fn a_token_is_required_once_set() {
        let app: Router = routes(Some(Secret::new("s3cret"))).unwrap();
        for wrong in [
            None,
            Some("Bearer nope"),
            Some("s3cret"),
            Some("Bearer s3cret2"),
        ] {
            let (status, body) = get_metrics(app.clone(), wrong).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
            assert_eq!(body, r#"{"error":"unauthorized"}"#);
        }
        let (status, _) = get_metrics(app, Some("Bearer s3cret")).await;
        assert_eq!(status, StatusCode::OK);
    }

    #[test]
    fn the_recorder_is_installed_once_and_shared() {
        let first = handle().unwrap();
        let second = handle().unwrap();
        metrics::counter!("unit_shared_total").increment(2);
        assert!(first.render().contains("unit_shared_total 2"));
        assert!(second.render().contains("unit_shared_total 2"));
    }
}
