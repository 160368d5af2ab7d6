//! The built-in demo receiver (`[demo] receiver = true`, off by default): a destination inside
//! the gateway, so a first run shows deliveries, failures, retries, dead letters and replays
//! without writing an app.
//!
//! - `POST /_demo/receiver?mode=ok` answers 200;
//! - `…?mode=fail` answers 500, always;
//! - `…?mode=flaky` answers 503 to the first three requests of each message (`webhook-id`),
//!   then 200: with three attempts a message dead-letters, and its replay is delivered;
//! - `GET /_demo/receiver` lists the last 50 requests, newest first: message id, attempt,
//!   mode, the status answered and the body.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// How many requests `GET /_demo/receiver` shows.
const KEPT: usize = 50;

/// Requests of a message `flaky` fails before it answers 200.
const FLAKY_FAILURES: u32 = 3;

/// `?mode=`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Mode {
    /// 200.
    #[default]
    Ok,
    /// 500.
    Fail,
    /// 503 three times per message, then 200.
    Flaky,
}

#[derive(Debug, Deserialize)]
struct Params {
    #[serde(default)]
    mode: Mode,
}

/// One request as listed.
#[derive(Debug, Clone, Serialize)]
struct Received {
    webhook_id: String,
    attempt: u32,
    mode: Mode,
    answered: u16,
    body: serde_json::Value,
}

#[derive(Debug, Default)]
struct Log {
    received: VecDeque<Received>,
    seen: HashMap<String, u32>,
}

type Shared = Arc<Mutex<Log>>;

/// The demo receiver's routes.
pub fn routes<S>() -> Router<S> {
    Router::new()
        .route("/_demo/receiver", get(list).post(receive))
        .with_state(Shared::default())
}

async fn receive(
    State(log): State<Shared>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        (headers.get(name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let webhook_id = header("webhook-id");
    let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
    let seen = log.seen.entry(webhook_id.clone()).or_insert(0);
    *seen += 1;
    let status = match params.mode {
        Mode::Ok => StatusCode::OK,
        Mode::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Mode::Flaky if *seen <= FLAKY_FAILURES => StatusCode::SERVICE_UNAVAILABLE,
        Mode::Flaky => StatusCode::OK,
    };
    let body = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into()));
    log.received.push_front(Received {
        webhook_id,
        attempt: header("x-relay-attempt").parse().unwrap_or(0),
        mode: params.mode,
        answered: status.as_u16(),
        body,
    });
    log.received.truncate(KEPT);
    if log.seen.len() > 10 * KEPT {
        log.seen.clear();
    }
    (
        status,
        axum::Json(serde_json::json!({"answered": status.as_u16()})),
    )
        .into_response()
}

async fn list(State(log): State<Shared>) -> Response {
    let log = log.lock().unwrap_or_else(|p| p.into_inner());
    let received: Vec<Received> = log.received.iter().cloned().collect();
    axum::Json(received).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    async fn post(app: &Router, mode: &str, id: &str) -> u16 {
        let request = axum::http::Request::post(format!("/_demo/receiver?mode={mode}"))
            .header("webhook-id", id)
            .body(Body::from(r#"{"n":1}"#))
            .expect("request");
        app.clone()
            .oneshot(request)
            .await
            .expect("answer")
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn modes_answer_as_documented_and_requests_are_listed() {
        let app: Router = routes();
        assert_eq!(post(&app, "ok", "m1").await, 200);
        assert_eq!(post(&app, "fail", "m2").await, 500);
        let flaky: Vec<u16> = [
            post(&app, "flaky", "m3").await,
            post(&app, "flaky", "m3").await,
            post(&app, "flaky", "m3").await,
            post(&app, "flaky", "m3").await,
        ]
        .into();
        assert_eq!(flaky, [503, 503, 503, 200]);
        assert_eq!(post(&app, "flaky", "m4").await, 503, "counted per message");
        let request = axum::http::Request::get("/_demo/receiver")
            .body(Body::empty())
            .expect("request");
        let response = app.oneshot(request).await.expect("answer");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let listed: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(listed.as_array().map(Vec::len), Some(7));
        assert_eq!(listed[0]["webhook_id"], "m4");
        assert_eq!(listed[1]["answered"], 200);
        assert_eq!(listed[6]["body"]["n"], 1);
    }
}
