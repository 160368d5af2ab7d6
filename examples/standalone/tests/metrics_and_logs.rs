//! The real `relay` binary: `GET /metrics` behind `[admin] metrics_token`, and
//! `--log-format json` logs whose attempt lines carry the ingest request's id.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use relay_tests::{Receiver, eventually};
use serde_json::Value;
use support::{free_port, terminate, wait_healthy};

const TOKEN: &str = "standalone-metrics-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_and_json_logs_carry_the_request_id() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "memory://"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[admin]
metrics_token = "env:RELAY_TEST_METRICS_TOKEN"

[[sources]]
name = "demo"
scheme = "none"

[[destinations]]
name = "app"
url = "{url}"

[[routes]]
name = "all"
source = "demo"
destinations = ["app"]
"#,
        url = receiver.url
    );
    std::fs::write(&config, toml).expect("write config");
    let log = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["serve", "--log-format", "json", "--config"])
        .arg(&config)
        .env("RUST_LOG", "info,relay_core=debug")
        .env("RELAY_TEST_METRICS_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start relay");
    wait_healthy(&mut child, addr).await;

    let client = relay_core::tls::client();
    let response = client
        .post(format!("http://{addr}/webhooks/demo"))
        .header("x-request-id", "standalone-req-1")
        .body("{}")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-request-id"], "standalone-req-1");
    let delivered = eventually(Duration::from_secs(20), || async {
        (receiver.count() == 1).then_some(())
    })
    .await;
    assert!(delivered.is_some(), "not delivered");

    let metrics = format!("http://{addr}/metrics");
    let refused = client.get(&metrics).send().await.expect("GET");
    assert_eq!(refused.status(), 401);
    let scraped = eventually(Duration::from_secs(20), || async {
        let text = client
            .get(&metrics)
            .bearer_auth(TOKEN)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.contains(r#"relay_attempts_total{destination="app",result="delivered"} 1"#)
            .then_some(text)
    })
    .await
    .expect("the delivered attempt is counted");
    assert!(
        scraped.contains(r#"relay_ingest_total{source="demo",outcome="accepted"} 1"#),
        "{scraped}"
    );
    assert!(scraped.contains("relay_queue_depth "), "{scraped}");

    assert!(terminate(&mut child).success());
    let (text, lines) = json_lines(&log);
    let attempt = lines
        .iter()
        .find(|l| l["message"] == "attempt finished")
        .unwrap_or_else(|| panic!("no attempt line in:\n{text}"));
    assert_eq!(attempt["span"]["name"], "attempt", "{attempt}");
    assert_eq!(
        attempt["span"]["request_id"], "standalone-req-1",
        "{attempt}"
    );
    assert_eq!(attempt["span"]["destination"], "app", "{attempt}");
    assert_eq!(attempt["outcome"], "delivered", "{attempt}");
}

/// Without `RUST_LOG` the filter is `info`: info lines are written, debug lines are not, and
/// the lines carry their spans as with `RUST_LOG=info`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_rust_log_info_lines_are_logged_and_debug_lines_are_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    let toml = format!(
        "[server]\nlisten = \"{addr}\"\ndatabase_url = \"memory://\"\n\n\
         [[sources]]\nname = \"demo\"\nscheme = \"none\"\n"
    );
    std::fs::write(&config, toml).expect("write config");
    let log = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["serve", "--log-format", "json", "--config"])
        .arg(&config)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("start relay");
    wait_healthy(&mut child, addr).await;
    let response = relay_core::tls::client()
        .post(format!("http://{addr}/webhooks/demo"))
        .body("{}")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    assert!(terminate(&mut child).success());
    let (text, lines) = json_lines(&log);
    let listening = (lines.iter())
        .find(|l| (l["message"].as_str()).is_some_and(|m| m.starts_with("relay listening")))
        .unwrap_or_else(|| panic!("no listening line in:\n{text}"));
    assert_eq!(listening["level"], "INFO", "{listening}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"] != "DEBUG" && l["level"] != "TRACE"),
        "{text}"
    );
}

/// The log file at `path`, and each of its lines parsed as JSON.
fn json_lines(path: &std::path::Path) -> (String, Vec<Value>) {
    let text = std::fs::read_to_string(path).expect("log");
    let lines = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    (text, lines)
}
