//! The table: one request and the reply every adapter must give it, in order.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{github_signature, slack_signature};

/// The fixture's GitHub secret.
pub const SECRET: &str = "It's a Secret to Everybody";

/// Which fixture relay a case is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fixture {
    /// [`relay`](super::relay): sources `github`, `slack`, `small`, `limited` and `raw`.
    Main,
    /// [`unavailable_relay`](super::unavailable_relay): sources `raw` and `slack` on a store
    /// that is down.
    StoreDown,
}

/// The reply a case expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// This status and exactly this JSON body, `content-type: application/json`.
    Json(u16, Value),
    /// `200 {"status":"accepted","event_id":…}`, and the stored event has the body sent
    /// byte for byte, every header sent, and this event type.
    Accepted {
        /// The event type the source must have read from the request.
        event_type: &'static str,
    },
    /// `200 {"status":"duplicate","event_id":…}` with the id accepted by the named case.
    DuplicateOf(&'static str),
    /// `429 {"error":"rate_limited"}` with a `Retry-After` of 1 to 60 seconds.
    RateLimited,
    /// Passed through to the application: this status and exactly this text (empty for the
    /// framework's own 404).
    App(u16, &'static str),
}

/// One request → reply row of the contract.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the row checks; also the name [`Expect::DuplicateOf`] refers to.
    pub name: &'static str,
    /// Which relay answers.
    pub fixture: Fixture,
    /// The request method.
    pub method: Method,
    /// The request path.
    pub path: &'static str,
    /// Request headers (values as raw bytes: they need not be UTF-8).
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// The request body.
    pub body: Vec<u8>,
    /// The expected reply.
    pub expect: Expect,
}

/// Passed through: the framework's own 404 for a path the app does not have.
const NOT_FOUND_BY_APP: Expect = Expect::App(404, "");

fn accepted(event_type: &'static str) -> Expect {
    Expect::Accepted { event_type }
}

fn error(status: u16, code: &str) -> Expect {
    Expect::Json(status, json!({ "error": code }))
}

fn case(name: &'static str, path: &'static str, body: impl Into<Vec<u8>>, expect: Expect) -> Case {
    Case {
        name,
        fixture: Fixture::Main,
        method: Method::POST,
        path,
        headers: Vec::new(),
        body: body.into(),
        expect,
    }
}

impl Case {
    fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    fn on(mut self, fixture: Fixture) -> Self {
        self.fixture = fixture;
        self
    }

    fn github_push(self, delivery: &str) -> Self {
        self.header("x-github-event", "push")
            .header("x-github-delivery", delivery)
            .header("content-type", "application/json")
    }
}

fn push_body() -> Vec<u8> {
    br#"{"ref":"refs/heads/main","repository":{"full_name":"acme/relay"}}"#.to_vec()
}

/// The challenge of [`handshake_body`].
const CHALLENGE: &str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P";

/// Slack's `url_verification` request, as in Slack's Events API documentation.
fn handshake_body() -> Vec<u8> {
    json!({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": CHALLENGE, "type": "url_verification"})
        .to_string()
        .into_bytes()
}

/// The Slack handshake rows: answered with the challenge when signed (even with the store
/// down, as nothing is stored), refused when signed with another secret.
fn slack_handshakes() -> Vec<Case> {
    let body = handshake_body();
    let now = relay_core::model::time::Timestamp::now().as_secs();
    let handshake = |name, secret: &str, expect| {
        case(name, "/webhooks/slack", body.clone(), expect)
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", now.to_string())
            .header("x-slack-signature", slack_signature(secret, now, &body))
    };
    let answered = Expect::Json(200, json!({ "challenge": CHALLENGE }));
    vec![
        handshake("signed Slack url_verification", SECRET, answered.clone()),
        handshake(
            "Slack url_verification signed with another secret",
            "not it",
            error(401, "invalid_signature"),
        ),
        handshake(
            "signed Slack url_verification, store down",
            SECRET,
            answered,
        )
        .on(Fixture::StoreDown),
    ]
}

/// Every row, in the order they must run (later rows depend on earlier ones: duplicates and
/// the rate limit).
pub fn cases() -> Vec<Case> {
    let push = push_body();
    let signed = github_signature(SECRET, &push);
    let push_case = |name, expect| case(name, "/webhooks/github", push.clone(), expect);
    let mut cases = vec![
        push_case("signed push", accepted("push"))
            .github_push("d-1")
            .header("x-hub-signature-256", signed.clone()),
        push_case(
            "the same delivery again",
            Expect::DuplicateOf("signed push"),
        )
        .github_push("d-1")
        .header("x-hub-signature-256", signed),
        push_case(
            "signed with another secret",
            error(401, "invalid_signature"),
        )
        .github_push("d-2")
        .header("x-hub-signature-256", github_signature("not it", &push)),
        push_case("no signature", error(401, "invalid_signature")).github_push("d-3"),
        push_case("signature of another body", error(401, "invalid_signature"))
            .github_push("d-4")
            .header("x-hub-signature-256", github_signature(SECRET, b"{}")),
        push_case("signature not hex", error(401, "invalid_signature"))
            .github_push("d-5")
            .header("x-hub-signature-256", "sha256=zz"),
        push_case("signature not UTF-8", error(401, "invalid_signature"))
            .github_push("d-6")
            .header("x-hub-signature-256", b"sha256=\xff\xfe".to_vec()),
        case(
            "unknown source",
            "/webhooks/nope",
            "{}",
            error(404, "unknown_source"),
        ),
        case(
            "one byte over the limit",
            "/webhooks/small",
            [b'x'; 65],
            error(413, "payload_too_large"),
        ),
        case(
            "exactly the limit",
            "/webhooks/small",
            [b'x'; 64],
            accepted("unknown"),
        ),
        case(
            "first within the rate",
            "/webhooks/limited",
            "{}",
            accepted("unknown"),
        )
        .header("idempotency-key", "a"),
        case(
            "second within the rate",
            "/webhooks/limited",
            "{}",
            accepted("unknown"),
        )
        .header("idempotency-key", "b"),
        case(
            "over the rate",
            "/webhooks/limited",
            "{}",
            Expect::RateLimited,
        )
        .header("idempotency-key", "c"),
        case(
            "raw bytes, typed by header",
            "/webhooks/raw",
            b"\xff\x00 not json".to_vec(),
            accepted("order.created"),
        )
        .header("x-event-type", "order.created")
        .header("x-opaque", b"caf\xc3\xa9 \xff".to_vec()),
        case("empty body", "/webhooks/raw", "", accepted("unknown")),
        case(
            "the default tenant named in the path",
            "/webhooks/default/raw/",
            r#"{"tenant":"default"}"#,
            accepted("unknown"),
        ),
        case(
            "trailing slash",
            "/webhooks/raw/",
            "{}",
            accepted("unknown"),
        )
        .header("idempotency-key", "slash"),
        case(
            "store down",
            "/webhooks/raw",
            "{}",
            error(503, "unavailable"),
        )
        .on(Fixture::StoreDown),
        case("the app's own route", "/", "", Expect::App(200, "the app")).method(Method::GET),
        case(
            "the app reads its own body",
            "/echo",
            "echo me",
            Expect::App(200, "echo me"),
        ),
        case(
            "GET under the prefix",
            "/webhooks/raw",
            "",
            NOT_FOUND_BY_APP,
        )
        .method(Method::GET),
        case(
            "PUT under the prefix",
            "/webhooks/raw",
            "{}",
            NOT_FOUND_BY_APP,
        )
        .method(Method::PUT),
        case(
            "a sane x-request-id is answered and stored",
            "/webhooks/raw",
            "{}",
            accepted("unknown"),
        )
        .header("idempotency-key", "request-id")
        .header("x-request-id", "contract-req_1:a/b"),
        case(
            "an x-request-id with a space is replaced",
            "/webhooks/raw",
            "{}",
            Expect::DuplicateOf("a sane x-request-id is answered and stored"),
        )
        .header("idempotency-key", "request-id")
        .header("x-request-id", "not a token"),
        case(
            "an x-request-id over 64 characters is replaced",
            "/webhooks/nope",
            "{}",
            error(404, "unknown_source"),
        )
        .header("x-request-id", "r".repeat(65)),
        case(
            "a tenant that does not exist",
            "/webhooks/nobody/raw",
            "{}",
            error(404, "unknown_source"),
        ),
        case(
            "nested path",
            "/webhooks/default/raw/extra",
            "{}",
            NOT_FOUND_BY_APP,
        ),
        case("empty tenant", "/webhooks//raw", "{}", NOT_FOUND_BY_APP),
        case("the prefix itself", "/webhooks", "{}", NOT_FOUND_BY_APP),
        case("no source", "/webhooks/", "{}", NOT_FOUND_BY_APP),
        case("another prefix", "/elsewhere/raw", "{}", NOT_FOUND_BY_APP),
    ];
    cases.extend(slack_handshakes());
    cases
}
