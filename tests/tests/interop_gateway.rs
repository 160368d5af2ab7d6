//! Requests signed by each provider's official client library, sent over HTTP to a running
//! gateway (an axum app with `RelayLayer` on loopback, one source per scheme, every event
//! routed to a loopback receiver): each is accepted and delivered, and the same request with
//! a tampered body or a signature under another secret is refused with 401. Slack's
//! `url_verification` handshake signed by `slack-sdk` is answered with its challenge and
//! neither stored nor delivered.
//!
//! Needs `RELAY_INTEROP_PYTHON` and `RELAY_INTEROP_NODE_MODULES` from
//! `scripts/interop/setup.sh`; without them each test prints `SKIPPED: …` and passes, unless
//! `RELAY_REQUIRE_BACKENDS=1`.
//!
//! Run with: `eval "$(scripts/interop/setup.sh)" && cargo test -p relay-tests --test
//! interop_gateway`

use std::time::Duration;

use http::HeaderMap;
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::deliver::destination::Destination;
use relay_core::ingest::signature::{GitHub, Slack, StandardWebhooks, Stripe, Svix};
use relay_core::ingest::source::WebhookSource;
use relay_core::model::ids::{EventId, TenantId};
use relay_core::model::time::Timestamp;
use relay_core::route::EventRoute;
use relay_tests::interop::{
    InteropError, NODE_MODULES_VAR, PYTHON_VAR, backend, octokit_sign, python_sign,
};
use relay_tests::pipeline::Pipeline;
use relay_tests::{Receiver, contract_app, eventually, loopback, serve};
use serde_json::{Value, json};

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const STRIPE_SECRET: &str = "whsec_5d9dd0f0a2a5f0b6e1a14c6f8f1c5f6a";
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SLACK_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const WAIT: Duration = Duration::from_secs(10);

/// A running gateway and the receiver every event is routed to.
struct Gateway {
    base: String,
    http: reqwest::Client,
    pipeline: Pipeline,
    receiver: Receiver,
}

/// What the gateway answered.
struct Answer {
    status: u16,
    content_type: String,
    json: Value,
}

async fn gateway() -> Gateway {
    let receiver = Receiver::ok().await;
    let pipeline = Pipeline::start(
        Relay::builder()
            .allow_cidrs(loopback())
            .source(WebhookSource::new("github", GitHub).secret(GITHUB_SECRET))
            .source(WebhookSource::new("stripe", Stripe::new()).secret(STRIPE_SECRET))
            .source(WebhookSource::new("standard_webhooks", StandardWebhooks::new()).secret(WHSEC))
            .source(WebhookSource::new("svix", Svix::new()).secret(WHSEC))
            .source(WebhookSource::new("slack", Slack::new()).secret(SLACK_SECRET))
            .destination(Destination::http("receiver", &receiver.url).expect("URL"))
            .route(EventRoute::new("everything").to(["receiver"])),
    );
    let addr = serve(contract_app().layer(RelayLayer::new(pipeline.relay.clone()))).await;
    Gateway {
        base: format!("http://{addr}"),
        http: relay_core::tls::client(),
        pipeline,
        receiver,
    }
}

impl Gateway {
    async fn post(&self, source: &str, headers: &HeaderMap, body: &[u8]) -> Answer {
        let response = self
            .http
            .post(format!("{}/webhooks/{source}", self.base))
            .headers(headers.clone())
            .body(body.to_vec())
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let json = response.json().await.expect("a JSON reply");
        Answer {
            status,
            content_type,
            json,
        }
    }

    /// Sends the library-signed request (accepted, stored with `event_type`, delivered byte
    /// for byte), then the same headers over a tampered body and `resigned` (the library's
    /// signature under another secret) over the body: both refused.
    async fn accepts_only_the_genuine(
        &self,
        source: &str,
        signed: &HeaderMap,
        resigned: &HeaderMap,
        body: &str,
        event_type: &str,
    ) {
        let answer = self.post(source, signed, body.as_bytes()).await;
        assert_eq!(
            (answer.status, &answer.json["status"]),
            (200, &json!("accepted")),
            "{source}: the library's signature was refused: {}",
            answer.json
        );
        let id: EventId = answer.json["event_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("an event id");
        let event = self
            .pipeline
            .relay
            .store()
            .event(&TenantId::default(), id)
            .await
            .expect("store")
            .expect("stored");
        assert_eq!(event.event_type, event_type, "{source}");

        let mut tampered = body.as_bytes().to_vec();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        for (what, headers, body) in [
            ("a tampered body", signed, tampered.as_slice()),
            ("another secret's signature", resigned, body.as_bytes()),
        ] {
            let answer = self.post(source, headers, body).await;
            assert_eq!(
                (answer.status, answer.json),
                (401, json!({"error": "invalid_signature"})),
                "{source}: {what} was not refused"
            );
        }

        let delivered = eventually(WAIT, || async {
            (self.receiver.count() == 1).then(|| self.receiver.received())
        })
        .await
        .expect("the accepted event is delivered");
        assert_eq!(delivered[0].body.as_ref(), body.as_bytes(), "{source}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            self.receiver.count(),
            1,
            "{source}: a refused request was delivered"
        );
    }
}

/// The headers, or a panic naming the library call that failed.
fn signed(result: Result<HeaderMap, InteropError>) -> HeaderMap {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn with(mut headers: HeaderMap, extra: &[(&'static str, &str)]) -> HeaderMap {
    for (name, value) in extra {
        headers.insert(*name, value.parse().expect("header value"));
    }
    headers
}

#[tokio::test]
async fn github_requests_signed_by_octokit() {
    let Some(node_modules) = backend(NODE_MODULES_VAR, "gateway: github (octokit)") else {
        return;
    };
    let body = r#"{"ref":"refs/heads/main","head_commit":{"message":"café ✓ 日本"}}"#;
    let event = [
        ("x-github-event", "push"),
        ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ("content-type", "application/json"),
    ];
    let genuine = signed(octokit_sign(&node_modules, GITHUB_SECRET, body));
    let other = signed(octokit_sign(&node_modules, "not the secret", body));
    let gateway = gateway().await;
    gateway
        .accepts_only_the_genuine(
            "github",
            &with(genuine, &event),
            &with(other, &event),
            body,
            "push",
        )
        .await;
    gateway.pipeline.stop().await;
}

#[tokio::test]
async fn stripe_requests_signed_by_stripe_python() {
    let Some(python) = backend(PYTHON_VAR, "gateway: stripe (stripe-python)") else {
        return;
    };
    let body = r#"{"id":"evt_interop_1","type":"invoice.paid","data":{"note":"café ✓ 日本"}}"#;
    let now = Timestamp::now().as_secs();
    let genuine = signed(python_sign(&python, "stripe", STRIPE_SECRET, now, "", body));
    let other = "whsec_another0another0another0another";
    let other = signed(python_sign(&python, "stripe", other, now, "", body));
    let gateway = gateway().await;
    gateway
        .accepts_only_the_genuine("stripe", &genuine, &other, body, "invoice.paid")
        .await;
    gateway.pipeline.stop().await;
}

#[tokio::test]
async fn standard_webhooks_requests_signed_by_standardwebhooks() {
    let Some(python) = backend(PYTHON_VAR, "gateway: standard_webhooks (standardwebhooks)") else {
        return;
    };
    standard_webhooks_like(&python, "standard_webhooks").await;
}

#[tokio::test]
async fn svix_requests_signed_by_svix() {
    let Some(python) = backend(PYTHON_VAR, "gateway: svix (svix)") else {
        return;
    };
    standard_webhooks_like(&python, "svix").await;
}

async fn standard_webhooks_like(python: &std::path::Path, scheme: &str) {
    let body = r#"{"type":"invoice.paid","data":{"note":"café ✓ 日本"}}"#;
    let now = Timestamp::now().as_secs();
    let msg_id = format!("msg_interop_{scheme}");
    let genuine = signed(python_sign(python, scheme, WHSEC, now, &msg_id, body));
    let other = "whsec_QW5vdGhlciBzZWNyZXQgZm9yIHRoZSB0ZXN0";
    let other = signed(python_sign(python, scheme, other, now, &msg_id, body));
    let gateway = gateway().await;
    gateway
        .accepts_only_the_genuine(scheme, &genuine, &other, body, "invoice.paid")
        .await;
    gateway.pipeline.stop().await;
}

#[tokio::test]
async fn slack_requests_signed_by_slack_sdk() {
    let Some(python) = backend(PYTHON_VAR, "gateway: slack (slack-sdk)") else {
        return;
    };
    let body = r#"{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"café ✓"}}"#;
    let now = Timestamp::now().as_secs();
    let json = [("content-type", "application/json")];
    let genuine = signed(python_sign(&python, "slack", SLACK_SECRET, now, "", body));
    let other = signed(python_sign(
        &python,
        "slack",
        "another secret",
        now,
        "",
        body,
    ));
    let gateway = gateway().await;
    gateway
        .accepts_only_the_genuine(
            "slack",
            &with(genuine, &json),
            &with(other, &json),
            body,
            "app_mention",
        )
        .await;
    gateway.pipeline.stop().await;
}

#[tokio::test]
async fn slack_url_verification_signed_by_slack_sdk_is_answered_with_the_challenge() {
    let Some(python) = backend(PYTHON_VAR, "gateway: slack url_verification (slack-sdk)") else {
        return;
    };
    let challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P";
    let handshake = json!({
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "challenge": challenge,
        "type": "url_verification",
    })
    .to_string();
    let now = Timestamp::now().as_secs();
    let json = [("content-type", "application/json")];
    let genuine = signed(python_sign(
        &python,
        "slack",
        SLACK_SECRET,
        now,
        "",
        &handshake,
    ));
    let genuine = with(genuine, &json);
    let other = signed(python_sign(
        &python,
        "slack",
        "another secret",
        now,
        "",
        &handshake,
    ));
    let gateway = gateway().await;

    let answer = gateway.post("slack", &genuine, handshake.as_bytes()).await;
    assert_eq!(
        (answer.status, answer.content_type.as_str(), &answer.json),
        (200, "application/json", &json!({ "challenge": challenge }))
    );
    let unsigned = with(HeaderMap::new(), &json);
    for (what, headers) in [("unsigned", &unsigned), ("another secret's", &other)] {
        let answer = gateway.post("slack", headers, handshake.as_bytes()).await;
        assert_eq!(
            (answer.status, answer.json),
            (401, json!({"error": "invalid_signature"})),
            "an {what} handshake was not refused"
        );
    }

    // Nothing stored or routed: the only delivery is of the event sent after the handshake.
    let event = r#"{"type":"event_callback","event_id":"Ev1","event":{"type":"message"}}"#;
    let signed_event = signed(python_sign(&python, "slack", SLACK_SECRET, now, "", event));
    let answer = gateway
        .post("slack", &with(signed_event, &json), event.as_bytes())
        .await;
    assert_eq!(answer.json["status"], "accepted");
    let delivered = eventually(WAIT, || async {
        (gateway.receiver.count() >= 1).then(|| gateway.receiver.received())
    })
    .await
    .expect("the event is delivered");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(gateway.receiver.count(), 1);
    assert_eq!(delivered[0].body.as_ref(), event.as_bytes());
    gateway.pipeline.stop().await;
}
