//! Shared support for Relay's end-to-end tests: scripted loopback receivers, servers on
//! ephemeral ports, signing helpers and polling.

pub mod pipeline;

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub mod actix;
pub mod admin;
#[cfg(doctest)]
mod book;
pub mod contract;
pub mod faults;
pub mod interop;
pub mod outbox;
pub mod portal;
pub mod tenants;

/// The loopback networks (`127.0.0.0/8`, `::1/128`): what a relay delivering to the test's
/// receivers must allow past its SSRF guard.
pub fn loopback() -> [relay_core::deliver::guard::IpNet; 2] {
    [
        "127.0.0.0/8".parse().expect("valid CIDR"),
        "::1/128".parse().expect("valid CIDR"),
    ]
}

/// Serves `app` on 127.0.0.1 on an ephemeral port; returns its address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}

/// The application [`contract::run`] expects around the layer: `GET /` answers `the app`,
/// `POST /echo` answers its body.
pub fn contract_app() -> Router {
    Router::new()
        .route("/", axum::routing::get(|| async { "the app" }))
        .route(
            "/echo",
            axum::routing::post(|body: Bytes| async move { body }),
        )
}

/// How a scripted receiver answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Answer with this status and an empty body.
    Status(u16),
    /// Answer with this status and a `Retry-After` of this many seconds.
    RetryAfter(u16, u64),
    /// Never answer (until the client gives up).
    Hang,
    /// Answer with this status and a `Location` header (a redirect Relay must not follow).
    Redirect(u16, String),
    /// Answer with this status and a body of this many bytes.
    Large(u16, usize),
    /// Answer with this status after this many milliseconds.
    Slow(u16, u64),
}

/// One request a receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// When it arrived.
    pub at: Instant,
    /// The client's address (one per TCP connection).
    pub peer: SocketAddr,
}

impl Received {
    /// Asserts this is attempt `attempt` of the delivery `webhook_id`: the original `body`,
    /// and a Standard Webhooks signature under the destination's `secret` that verifies.
    pub fn assert_signed_delivery(
        &self,
        webhook_id: &str,
        attempt: u32,
        secret: &str,
        body: &[u8],
    ) {
        let header = |name: &str| {
            let value = self.headers.get(name);
            value.and_then(|v| v.to_str().ok()).unwrap_or_default()
        };
        assert_eq!(self.body.as_ref(), body);
        assert_eq!(header("webhook-id"), webhook_id);
        assert_eq!(header("x-relay-attempt"), attempt.to_string());
        let timestamp: i64 = header("webhook-timestamp")
            .parse()
            .expect("webhook-timestamp");
        let expected =
            relay_core::deliver::sign_standard_webhook(&secret.into(), webhook_id, timestamp, body);
        assert_eq!(header("webhook-signature"), expected);
    }
}

#[derive(Debug, Default)]
struct Script {
    queue: VecDeque<Answer>,
    then: Option<Answer>,
    received: Vec<Received>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A real HTTP receiver on loopback whose answers the test scripts.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`.
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    /// A receiver that answers `answers` in order, then `then` for every later request.
    pub async fn start(answers: impl IntoIterator<Item = Answer>, then: Answer) -> Self {
        let script = Arc::new(Mutex::new(Script {
            queue: answers.into_iter().collect(),
            then: Some(then),
            ..Script::default()
        }));
        let app = Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(script.clone());
        let addr = serve(app).await;
        Self {
            url: format!("http://{addr}/hook"),
            script,
        }
    }

    /// A receiver that always answers 200.
    pub async fn ok() -> Self {
        Self::start([], Answer::Status(200)).await
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().expect("script lock").received.clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.script.lock().expect("script lock").received.len()
    }

    /// The most requests it was answering at once.
    pub fn max_in_flight(&self) -> usize {
        self.script.lock().expect("script lock").max_in_flight
    }

    /// Changes the answer for every later request (after any still queued).
    pub fn answer_from_now(&self, answer: Answer) {
        self.script.lock().expect("script lock").then = Some(answer);
    }
}

async fn receive(
    State(script): State<Arc<Mutex<Script>>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = {
        let mut script = script.lock().expect("script lock");
        script.received.push(Received {
            headers,
            body,
            at: Instant::now(),
            peer,
        });
        script.in_flight += 1;
        script.max_in_flight = script.max_in_flight.max(script.in_flight);
        let then = script.then.clone().unwrap_or(Answer::Status(200));
        script.queue.pop_front().unwrap_or(then)
    };
    let _leaving = Leaving(script);
    answer_with(answer).await
}

/// Counts a request out of `in_flight` when its handler ends or is dropped.
struct Leaving(Arc<Mutex<Script>>);

impl Drop for Leaving {
    fn drop(&mut self) {
        let mut script = self.0.lock().unwrap_or_else(|p| p.into_inner());
        script.in_flight -= 1;
    }
}

async fn answer_with(answer: Answer) -> Response {
    let status = |code: u16| StatusCode::from_u16(code).expect("valid status");
    match answer {
        Answer::Status(code) => status(code).into_response(),
        Answer::RetryAfter(code, secs) => {
            (status(code), [("retry-after", secs.to_string())]).into_response()
        }
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3_600)).await;
            StatusCode::OK.into_response()
        }
        Answer::Redirect(code, location) => {
            (status(code), [("location", location)]).into_response()
        }
        Answer::Large(code, bytes) => (status(code), "x".repeat(bytes)).into_response(),
        Answer::Slow(code, ms) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            status(code).into_response()
        }
    }
}

/// GitHub's `X-Hub-Signature-256` value for `body` under `secret`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Slack's `X-Slack-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn slack_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Polls `check` every 10 ms until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

mod unavailable;
pub use unavailable::UNAVAILABLE_STORE;
