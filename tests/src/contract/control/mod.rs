//! The control-plane contract, written once and run against every adapter: health,
//! `/metrics`, the OpenAPI description, Swagger UI, the dashboard, the portal and the admin
//! API answer with the same statuses, headers and bodies through relay-axum and relay-actix.
//!
//! An adapter's test hands [`run`] a function that serves a given [`Relay`] with the whole
//! control plane (dashboard, health and public metrics included) and Relay's ingest, in an
//! app whose own `GET /hello` answers `the app`. [`run`] creates an admin and a viewer key,
//! sends every [`Case`] in order over real HTTP and fails listing every row that differs.

mod cases;

use std::future::Future;
use std::net::SocketAddr;

use relay_core::Relay;
use relay_core::control::admin::{Principal, Role};
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::WebhookSource;
use relay_core::model::ids::TenantId;
use serde_json::Value;

pub use cases::{Case, Check, Key, cases};

/// The fixture: one source, `raw` (no signature), on the in-memory store.
pub fn relay() -> Relay {
    Relay::builder()
        .source(WebhookSource::new("raw", NoSignature))
        .build()
        .expect("valid fixture")
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

fn check(answer: &Answer, case: &Case) -> Result<(), String> {
    if answer.status != case.status {
        return Err(format!(
            "status {} (want {}): {}",
            answer.status, case.status, answer.body
        ));
    }
    let json = || serde_json::from_str::<Value>(&answer.body).map_err(|e| format!("not JSON: {e}"));
    for expected in &case.checks {
        match expected {
            Check::Json(want) => {
                let got = json()?;
                if &got != want {
                    return Err(format!("body {got} (want {want})"));
                }
            }
            Check::At(pointer, want) => {
                let got = json()?;
                if got.pointer(pointer) != Some(want) {
                    return Err(format!("{pointer} of {got} is not {want}"));
                }
            }
            Check::StartsWith(pointer, prefix) => {
                let got = json()?;
                let text = got
                    .pointer(pointer)
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !text.starts_with(prefix) {
                    return Err(format!("{pointer} {text:?} does not start with {prefix:?}"));
                }
            }
            Check::Array => {
                if !json()?.is_array() {
                    return Err(format!("not an array: {}", answer.body));
                }
            }
            Check::Header(name, prefix) => {
                let got = answer.headers.get(*name).and_then(|v| v.to_str().ok());
                if !got.is_some_and(|v| v.starts_with(prefix)) {
                    return Err(format!("header {name}: {got:?} (want {prefix:?}…)"));
                }
            }
            Check::Contains(text) => {
                if !answer.body.contains(text) {
                    return Err(format!("body lacks {text:?}"));
                }
            }
        }
    }
    Ok(())
}

/// Runs the whole control-plane contract against an adapter; `serve` mounts a relay and
/// returns the address it listens on. Panics listing every failed row.
pub async fn run<F, Fut>(serve: F)
where
    F: FnOnce(Relay) -> Fut,
    Fut: Future<Output = SocketAddr>,
{
    let relay = relay();
    let system = Principal::system(TenantId::default());
    let access = relay.access();
    let admin = access
        .create_api_key(&system, "contract-admin", Role::Admin)
        .await
        .expect("key");
    let viewer = (access
        .create_api_key(&system, "contract-viewer", Role::Viewer)
        .await)
        .expect("key");
    let addr = serve(relay).await;
    let http = relay_core::tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut failures = Vec::new();
    for case in cases() {
        let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
        let mut request = http.request(method, format!("http://{addr}{}", case.path));
        let token = match case.key {
            Key::None => None,
            Key::Admin => Some(admin.token.expose().to_owned()),
            Key::Viewer => Some(viewer.token.expose().to_owned()),
            Key::Bad => Some("rk_not_a_key".to_owned()),
        };
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = case.body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("the adapter answers");
        let answer = Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        };
        if let Err(failure) = check(&answer, &case) {
            failures.push(format!("{}: {failure}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} control-plane contract rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
