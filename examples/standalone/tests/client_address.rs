//! The client address of the real `relay` binary where it matters: behind a trusted proxy the
//! forwarded address (else the peer's) goes into audit entries, the per-client ingest rate
//! limit (`server.client_rate_limit`), the login lockout per address and the records of
//! refused signatures (`GET /api/v1/signature-failures`).

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use relay_tests::eventually;
use serde_json::{Value, json};
use support::{free_port, start, terminate};

const SECRET: &str = "It's a Secret to Everybody";

fn config(dir: &Path, addr: SocketAddr, trusted: &str) -> PathBuf {
    let path = dir.join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"
trusted_proxies = [{trusted}]
client_rate_limit = {{ per_minute = 5 }}
signature_failures_per_minute = 10

[[sources]]
name = "forms"
scheme = "none"

[[sources]]
name = "github"
scheme = "github"
secrets = ["{SECRET}"]
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

fn admin_key(config: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["key", "add", "ops", "--role", "admin", "--config"])
        .arg(config)
        .output()
        .expect("relay key add");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// A request from the loopback peer, claiming `forwarded` in `X-Forwarded-For` if given.
fn from(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    forwarded: Option<&str>,
) -> reqwest::RequestBuilder {
    let request = client.request(method, url);
    match forwarded {
        Some(address) => request.header("x-forwarded-for", address),
        None => request,
    }
}

async fn json(response: reqwest::Response) -> Value {
    response.json().await.expect("json")
}

/// Disables and enables the source `forms` claiming `forwarded`, and returns the `client` of
/// the newest `disable` audit entry.
async fn audited_client(addr: SocketAddr, token: &str, forwarded: &str) -> Value {
    let client = relay_core::tls::client();
    for action in ["disable", "enable"] {
        let url = format!("http://{addr}/api/v1/sources/forms/{action}");
        let response = from(&client, reqwest::Method::POST, url, Some(forwarded))
            .bearer_auth(token)
            .send()
            .await
            .expect("answer");
        assert!(response.status().is_success(), "{action}: {response:?}");
    }
    let url = format!("http://{addr}/api/v1/audit?object_kind=source&object_id=forms");
    let audit = json(
        client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("audit"),
    )
    .await;
    let entry = (audit["items"].as_array().expect("items").iter())
        .find(|e| e["action"] == "disable")
        .cloned()
        .expect("a disable entry");
    entry["client"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_entries_record_the_forwarded_address_only_behind_a_trusted_proxy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let trusted = config(dir.path(), addr, "\"127.0.0.1\"");
    let token = admin_key(&trusted);
    let mut gateway = start(&trusted, addr, &[]).await;
    assert_eq!(
        audited_client(addr, &token, "203.0.113.50").await,
        "203.0.113.50"
    );
    assert_eq!(terminate(&mut gateway).code(), Some(0));

    let untrusted = config(dir.path(), addr, "");
    let mut gateway = start(&untrusted, addr, &[]).await;
    assert_eq!(
        audited_client(addr, &token, "203.0.113.50").await,
        "127.0.0.1"
    );
    assert_eq!(terminate(&mut gateway).code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_limit_the_lockout_and_signature_records_follow_the_client_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(dir.path(), addr, "\"127.0.0.0/8\"");
    let token = admin_key(&config);
    let mut gateway = start(&config, addr, &[]).await;
    let client = relay_core::tls::client();
    let ingest = |source: &str, forwarded: &str| {
        let url = format!("http://{addr}/webhooks/{source}");
        from(&client, reqwest::Method::POST, url, Some(forwarded))
            .header("content-type", "application/json")
            .body("{}")
            .send()
    };

    // The client limit: 5 a minute from one address; the sixth is a 429 like the others.
    for _ in 0..5 {
        let response = ingest("forms", "198.51.100.1").await.expect("answer");
        assert_eq!(response.status(), 200);
    }
    let limited = ingest("forms", "198.51.100.1").await.expect("answer");
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = (limited.headers()["retry-after"].to_str().unwrap().parse()).unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(json(limited).await, json!({"error": "rate_limited"}));
    // Counted before verification: an unsigned request from that address is not a 401.
    assert_eq!(
        ingest("github", "198.51.100.1").await.unwrap().status(),
        429
    );
    assert_eq!(ingest("forms", "198.51.100.2").await.unwrap().status(), 200);

    // Refused signatures: 1,000 unsigned requests from 1,000 addresses keep 10 records
    // (20 if a minute turned meanwhile); the 401 answer is unchanged.
    for i in 0..1_000u32 {
        let forwarded = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
        let response = ingest("github", &forwarded).await.expect("answer");
        assert_eq!(response.status(), 401);
        assert_eq!(json(response).await, json!({"error": "invalid_signature"}));
    }
    let list = |query: &str| {
        let url = format!("http://{addr}/api/v1/signature-failures?{query}");
        client.get(url).bearer_auth(&token).send()
    };
    let page = json(list("source=github&limit=200").await.expect("list")).await;
    let items = page["items"].as_array().expect("items").clone();
    assert!((10..=20).contains(&items.len()), "{} records", items.len());
    for item in &items {
        assert_eq!(item["source"], "github");
        assert_eq!(item["reason"], "missing_header");
        assert_eq!(item["header"], "x-hub-signature-256");
        assert!(
            item["client"]
                .as_str()
                .expect("client")
                .starts_with("10.0."),
            "{item}"
        );
        assert!(item["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    let none = json(list("source=forms").await.expect("list")).await;
    assert_eq!(none["items"], json!([]));
    let future = json(list("since=2999-01-01T00:00:00Z").await.expect("list")).await;
    assert_eq!(future["items"], json!([]));
    let bad = list("since=yesterday").await.expect("list");
    assert_eq!(bad.status(), 422);
    // What the cap dropped is counted in the metric points (flushed every few seconds); the
    // 429 above never reached verification.
    let expected = 1_000 - items.len() as i64;
    let dropped = eventually(Duration::from_secs(30), || {
        let url = format!("http://{addr}/api/v1/metrics/points?scope=source&name=github");
        let request = client.get(url).bearer_auth(&token).send();
        async move {
            let report = json(request.await.ok()?).await;
            let sum: i64 = (report["points"].as_array()?.iter())
                .filter(|p| p["metric"] == "sig_failures_dropped")
                .filter_map(|p| p["value"].as_i64())
                .sum();
            (sum == expected).then_some(sum)
        }
    })
    .await;
    assert_eq!(
        dropped,
        Some(expected),
        "every refusal over the cap is counted"
    );

    // Lockout per client address: 20 failed logins from one address (any usernames) lock
    // that address; another address is not locked.
    let login = |username: String, forwarded: &str| {
        let url = format!("http://{addr}/api/v1/auth/login");
        from(&client, reqwest::Method::POST, url, Some(forwarded))
            .json(&json!({"username": username, "password": "wrong-password-0"}))
            .send()
    };
    for i in 1..20 {
        let response = login(format!("user{i}"), "192.0.2.77")
            .await
            .expect("answer");
        assert_eq!(response.status(), 401, "failure {i}");
    }
    let locked = login("user20".into(), "192.0.2.77").await.expect("answer");
    assert_eq!(locked.status(), 429);
    let still = login("someone-else".into(), "192.0.2.77")
        .await
        .expect("answer");
    assert_eq!(still.status(), 429);
    let other = login("user1".into(), "192.0.2.78").await.expect("answer");
    assert_eq!(other.status(), 401);
    let url = format!("http://{addr}/api/v1/audit?object_kind=client");
    let audit = json(client.get(url).bearer_auth(&token).send().await.unwrap()).await;
    let lock = &audit["items"][0];
    assert_eq!(
        (&lock["action"], &lock["object_id"]),
        (&json!("lock"), &json!("192.0.2.77"))
    );
    assert_eq!(lock["client"], "192.0.2.77");

    assert_eq!(terminate(&mut gateway).code(), Some(0));
}
