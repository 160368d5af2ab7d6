//! `GET /metrics`: Relay's metrics (see [`relay_core::observe::telemetry`]) in the Prometheus text
//! format, optionally behind a bearer token.
//!
//! The first [`Exporter::new`] (or [`handle`]) installs a Prometheus recorder as the
//! process's global [`metrics`] recorder; later calls share it, so the router can be built
//! any number of times. When the application already installed a recorder of its own,
//! [`MetricsError::OtherRecorder`] says so (Relay's metrics then go to that recorder).
//! Histograms are rendered with the buckets in [`BUCKETS`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = relay_admin::metrics::Exporter::new(None)?; // None: public
//! let answer = exporter.render(&http::HeaderMap::new()); // what GET /metrics answers
//! assert_eq!(answer.status(), 200);
//! # Ok(()) }
//! ```

use std::sync::OnceLock;
use std::time::Duration;

use http::{HeaderMap, StatusCode, header};
use metrics_exporter_prometheus::PrometheusBuilder;
use relay_core::model::secret::{Secret, constant_time_eq};

use crate::reply::{Reply, with_body};

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

/// `GET /metrics`: the process's recorder, rendered, optionally behind a bearer token.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
    token: Option<Secret>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// An exporter of the process's recorder (installed now if it is not yet). With a
    /// `token`, only requests with `Authorization: Bearer <token>` get the metrics.
    pub fn new(token: Option<Secret>) -> Result<Self, MetricsError> {
        Ok(Self {
            handle: handle()?,
            token,
        })
    }

    /// The answer to `GET /metrics` with `headers`: `200` with the Prometheus text format,
    /// or `401 {"error":"unauthorized"}` without the token.
    pub fn render(&self, headers: &HeaderMap) -> Reply {
        if let Some(token) = &self.token {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
                .unwrap_or_default();
            if !constant_time_eq(presented, token.expose().as_bytes()) {
                return with_body(
                    StatusCode::UNAUTHORIZED,
                    "application/json",
                    r#"{"error":"unauthorized"}"#,
                );
            }
        }
        with_body(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            self.handle.render(),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn get_metrics(exporter: &Exporter, authorization: Option<&str>) -> (StatusCode, String) {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
        }
        let reply = exporter.render(&headers);
        let body = String::from_utf8(reply.body().to_vec()).unwrap();
        (reply.status(), body)
    }

    #[test]
    fn renders_what_relay_core_records() {
        let app = Exporter::new(None).unwrap();
        relay_core::observe::telemetry::record_attempt(
            "unit-metrics-dest",
            relay_core::model::event::AttemptOutcome::Retrying,
            Duration::from_millis(30),
        );
        let (status, text) = get_metrics(&app, None);
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

    #[test]
    fn a_token_is_required_once_set() {
        let app = Exporter::new(Some(Secret::new("s3cret"))).unwrap();
        for wrong in [
            None,
            Some("Bearer nope"),
            Some("s3cret"),
            Some("Bearer s3cret2"),
        ] {
            let (status, body) = get_metrics(&app, wrong);
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{wrong:?}");
            assert_eq!(body, r#"{"error":"unauthorized"}"#);
        }
        let (status, _) = get_metrics(&app, Some("Bearer s3cret"));
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
