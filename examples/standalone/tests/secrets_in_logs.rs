//! No secret in any log line: the real `relay` binary runs a full scenario with
//! `RUST_LOG=trace` (every crate, HTTP client and server included) and the log is searched for
//! every secret value it was given, in every form it could be printed in.
//!
//! The scenario: signed webhooks for several schemes accepted, badly signed ones refused
//! (secrets rotated: an expired and a current one), deliveries signed with a destination's
//! `whsec_` secret and carrying its `Authorization` header (from the environment) retried
//! after a 500 and delivered, the credential key given in the environment, a graceful stop.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use relay_tests::{Answer, Receiver, eventually, github_signature};
use support::{free_port, start_logged, terminate};

const GITHUB_SECRET: &str = "gh-secret-5f1d2c9a7be04c1e";
const OLD_GITHUB_SECRET: &str = "gh-old-secret-0c8e7f3d2a";
const SHOPIFY_SECRET: &str = "shopify-secret-93b1d7e2f4";
const INBOUND_WHSEC: &str = "whsec_aW5ib3VuZC1zZWNyZXQtYnl0ZXMtMTIzNDU2";
const OUTBOUND_WHSEC: &str = "whsec_b3V0Ym91bmQtc2VjcmV0LWJ5dGVzLTk4NzY1";
const AUTH: &str = "Bearer auth-token-4d7a1f0e9c2b";
const KEY: &str = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_log_line_at_trace_level() {
    let receiver = Receiver::start([Answer::Status(500)], Answer::Status(200)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &dir.path().join("relay.db"), addr, &receiver.url);
    let log = dir.path().join("relay.log");
    let env = [
        ("RUST_LOG", "trace"),
        ("RELAY_TEST_AUTH", AUTH),
        ("RELAY_CREDENTIALS_KEY", KEY),
    ];
    let mut gateway = start_logged(&config, addr, &env, &log).await;
    let http = relay_core::tls::client();
    let url = |source: &str| format!("http://{addr}/webhooks/{source}");

    // GitHub: signed with the current secret, with the old (expired) one, and badly.
    let body = br#"{"ref":"refs/heads/main","n":1}"#;
    for (secret, delivery, expected) in [
        (GITHUB_SECRET, "d-1", 200),
        (OLD_GITHUB_SECRET, "d-2", 401),
        ("wrong", "d-3", 401),
    ] {
        let status = http
            .post(url("github"))
            .header("x-hub-signature-256", github_signature(secret, body))
            .header("x-github-event", "push")
            .header("x-github-delivery", delivery)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await
            .expect("answer")
            .status();
        assert_eq!(status, expected, "github signed with {delivery}");
    }
    // Shopify: base64 HMAC, good and bad.
    let shopify_body = br#"{"id":7}"#;
    let good = shopify_signature(SHOPIFY_SECRET, shopify_body);
    for (signature, expected) in [(good.as_str(), 200), ("AAAA", 401)] {
        let status = http
            .post(url("shopify"))
            .header("x-shopify-hmac-sha256", signature)
            .header("x-shopify-topic", "orders/create")
            .header("x-shopify-webhook-id", format!("w-{expected}"))
            .body(shopify_body.to_vec())
            .send()
            .await
            .expect("answer")
            .status();
        assert_eq!(status, expected);
    }
    // Standard Webhooks: a badly signed one (the signature check runs with the whsec_ key).
    let status = http
        .post(url("standard"))
        .header("webhook-id", "msg_1")
        .header(
            "webhook-timestamp",
            relay_core::model::time::Timestamp::now()
                .as_secs()
                .to_string(),
        )
        .header(
            "webhook-signature",
            "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .body(r#"{"type":"x"}"#)
        .send()
        .await
        .expect("answer")
        .status();
    assert_eq!(status, 401);

    // The GitHub and Shopify events reach the receiver (the first attempt got a 500).
    let delivered = eventually(Duration::from_secs(30), || {
        let n = receiver.count();
        async move { (n >= 3).then_some(()) }
    })
    .await;
    assert!(delivered.is_some(), "got {} requests", receiver.count());
    let sent = receiver.received();
    assert!(sent.iter().all(|r| r.headers["authorization"] == AUTH));
    assert!(terminate(&mut gateway).success());

    let log = std::fs::read_to_string(&log).expect("read log");
    let lines = log.lines().count();
    let trace = log.lines().filter(|l| l.contains("TRACE")).count();
    assert!(trace > 0, "nothing logged at TRACE:\n{log}");
    let mut forms = Vec::new();
    for secret in [GITHUB_SECRET, OLD_GITHUB_SECRET, SHOPIFY_SECRET, AUTH, KEY] {
        forms.push(secret.to_owned());
    }
    forms.push("auth-token-4d7a1f0e9c2b".into());
    for whsec in [INBOUND_WHSEC, OUTBOUND_WHSEC] {
        let encoded = whsec.trim_start_matches("whsec_");
        forms.push(encoded.to_owned());
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        forms.push(String::from_utf8_lossy(&raw).into_owned());
        forms.push(hex::encode(&raw));
    }
    let key = KEY.split_once(':').expect("id:key").1;
    forms.push(key.to_owned());
    let raw_key = base64::engine::general_purpose::STANDARD
        .decode(key)
        .expect("base64");
    forms.push(String::from_utf8_lossy(&raw_key).into_owned());
    forms.push(hex::encode(&raw_key));
    for secret in [GITHUB_SECRET, SHOPIFY_SECRET] {
        forms.push(hex::encode(secret));
    }
    let mut leaks = Vec::new();
    for line in log.lines() {
        for form in &forms {
            if line.contains(form.as_str()) {
                leaks.push(format!("{form:?} in: {line}"));
            }
        }
    }
    println!(
        "secrets: {lines} log lines ({trace} at TRACE) searched for {} forms of 7 secrets: \
         {} found",
        forms.len(),
        leaks.len()
    );
    assert!(
        leaks.is_empty(),
        "secrets in the log:\n{}",
        leaks.join("\n")
    );
}

fn shopify_signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(secret.as_bytes())
        .expect("key");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn write_config(path: &Path, db: &Path, addr: SocketAddr, receiver: &str) {
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "github"
scheme = "github"
secrets = ["{GITHUB_SECRET}", {{ value = "{OLD_GITHUB_SECRET}", expires_at = "2020-01-01T00:00:00Z" }}]

[[sources]]
name = "shopify"
scheme = "shopify"
secrets = ["{SHOPIFY_SECRET}"]

[[sources]]
name = "standard"
scheme = "standard_webhooks"
secrets = ["{INBOUND_WHSEC}"]

[[destinations]]
name = "receiver"
url = "{receiver}"
signing_secret = "{OUTBOUND_WHSEC}"
auth_header = "env:RELAY_TEST_AUTH"
retry = {{ max_attempts = 5, initial_ms = 50, max_ms = 200 }}

[[routes]]
name = "everything"
destinations = ["receiver"]
"#,
        db = db.display()
    );
    std::fs::write(path, toml).expect("write config");
}
