//! Operator and automatic state survives a restart of the real `relay` binary: a
//! configured destination disabled by an operator (with a reason), one disabled by its 410
//! Gone answer, and one disabled by the circuit breaker (its circuit opened `breaker_opens`
//! times) are all still disabled, with who or what did it and why, after SIGTERM and a new
//! process on the same SQLite file; a configuration reload does not undo the operator's
//! disable; events that arrive meanwhile are held, and enabling the destination delivers
//! them at once.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use relay_tests::{Answer, Receiver, eventually};
use reqwest::Method;
use serde_json::{Value, json};
use support::{free_port, start, terminate};

fn config(dir: &Path, addr: std::net::SocketAddr, urls: [&str; 4]) -> std::path::PathBuf {
    let [ops, gone, flaky, alerts] = urls;
    let path = dir.join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "in"
scheme = "none"

[[destinations]]
name = "ops"
url = "{ops}"

[[destinations]]
name = "gone"
url = "{gone}"

[[destinations]]
name = "flaky"
url = "{flaky}"
retry = {{ max_attempts = 50, initial_ms = 10, max_ms = 20 }}
circuit_breaker = {{ failures = 1, window_ms = 60000, open_ms = 50 }}

[[destinations]]
name = "alerts"
url = "{alerts}"

[[routes]]
name = "all"
source = "in"
destinations = ["ops", "gone", "flaky"]

[alerts]
destination = "alerts"
breaker_opens = 2
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn call(&self, method: Method, path: &str) -> (u16, Value) {
        let request =
            (self.client.request(method, format!("{}{path}", self.base))).bearer_auth(&self.token);
        let response = request.send().await.expect("answer");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn destination(&self, name: &str) -> Value {
        let (status, body) =
            (self.call(Method::GET, &format!("/api/v1/destinations/{name}"))).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn send(&self, n: u32) {
        let response = (self.client.post(format!("{}/webhooks/in", self.base)))
            .header("idempotency-key", format!("event-{n}"))
            .json(&json!({"n": n}))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status().as_u16(), 200);
    }

    /// Waits until the destination is disabled; returns its `disabled` object.
    async fn disabled(&self, name: &str) -> Value {
        eventually(Duration::from_secs(20), || async {
            let body = self.destination(name).await;
            (body["enabled"] == false && body["disabled"].is_object())
                .then(|| body["disabled"].clone())
        })
        .await
        .unwrap_or_else(|| panic!("{name} was not disabled with a stored reason"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_410_and_breaker_disables_survive_a_restart_and_a_reload() {
    let ops = Receiver::ok().await;
    let gone = Receiver::start([], Answer::Status(410)).await;
    let flaky = Receiver::start([], Answer::Status(500)).await;
    let alerts = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(
        dir.path(),
        addr,
        [&ops.url, &gone.url, &flaky.url, &alerts.url],
    );
    let key = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["key", "add", "ops", "--role", "admin", "--config"])
        .arg(&config)
        .output()
        .expect("relay key add");
    assert!(key.status.success(), "{key:?}");
    let api = Api {
        base: format!("http://{addr}"),
        token: String::from_utf8(key.stdout)
            .expect("utf-8")
            .trim()
            .to_owned(),
        client: relay_core::tls::client(),
    };
    let mut gateway = start(&config, addr, &[]).await;

    let (status, body) = api
        .call(
            Method::POST,
            "/api/v1/destinations/ops/disable?reason=maintenance%20window",
        )
        .await;
    assert_eq!(status, 204, "{body}");
    for n in 0..3 {
        api.send(n).await;
    }
    let by_gone = api.disabled("gone").await;
    assert_eq!(
        (by_gone["by"].as_str(), by_gone["reason"].as_str()),
        (Some("410"), Some("answered 410 Gone"))
    );
    let by_breaker = api.disabled("flaky").await;
    assert_eq!(by_breaker["by"], "circuit breaker", "{by_breaker}");
    let by_operator = api.disabled("ops").await;
    assert_eq!(by_operator["reason"], "maintenance window");
    assert!(
        by_operator["by"]
            .as_str()
            .is_some_and(|b| b.starts_with("key:")),
        "{by_operator}"
    );

    // A reload of the configuration does not undo the operator's disable.
    let (status, body) = api.call(Method::POST, "/api/v1/config/reload").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        api.destination("ops").await["enabled"],
        false,
        "a reload keeps it"
    );
    assert!(terminate(&mut gateway).success());

    let mut gateway = start(&config, addr, &[]).await;
    for (name, by) in [
        ("ops", "key:"),
        ("gone", "410"),
        ("flaky", "circuit breaker"),
    ] {
        let body = api.destination(name).await;
        assert_eq!(body["enabled"], false, "{name} after the restart: {body}");
        let said = body["disabled"]["by"].as_str().unwrap_or_default();
        assert!(said.starts_with(by), "{name}: {body}");
    }
    assert_eq!(
        api.destination("ops").await["disabled"]["reason"],
        "maintenance window"
    );
    api.send(3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ops.count(), 0, "held while disabled, across the restart");

    let (status, body) = api
        .call(Method::POST, "/api/v1/destinations/ops/enable")
        .await;
    assert_eq!(status, 204, "{body}");
    let delivered = eventually(Duration::from_secs(10), || async {
        (ops.count() >= 4).then_some(())
    })
    .await;
    assert!(
        delivered.is_some(),
        "the held events were delivered once enabled: {}",
        ops.count()
    );
    let body = api.destination("ops").await;
    assert_eq!(body["enabled"], true);
    assert!(body.get("disabled").is_none(), "{body}");
    let (status, audit) = api
        .call(Method::GET, "/api/v1/audit?object_kind=destination")
        .await;
    assert_eq!(status, 200, "{audit}");
    let text = audit.to_string();
    for needle in [
        "\"disable\"",
        "\"enable\"",
        "maintenance window",
        "410",
        "circuit breaker",
    ] {
        assert!(text.contains(needle), "{needle} not audited: {text}");
    }
    assert!(terminate(&mut gateway).success());
}
