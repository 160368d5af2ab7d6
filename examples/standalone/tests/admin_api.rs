//! The admin API of the real `relay` binary: the first start bootstraps an admin with a
//! generated password (printed once, never again), `relay key add` makes keys that the API
//! accepts, and traffic shows up in events and stored metric points.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use relay_tests::{Receiver, eventually};
use serde_json::{Value, json};
use support::{free_port, terminate, wait_healthy};

fn config(dir: &Path, addr: std::net::SocketAddr, receiver: &str) -> std::path::PathBuf {
    let path = dir.join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "demo"
scheme = "none"

[[destinations]]
name = "app"
url = "{receiver}"

[[routes]]
name = "all"
destinations = ["app"]
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

/// Starts `relay serve` and returns it with the lines it printed on stdout until healthy.
async fn serve(config: &Path, addr: std::net::SocketAddr) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start relay");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    wait_healthy(&mut child, addr).await;
    let lines = lines_rx.try_iter().collect();
    (child, lines)
}

fn relay_cli(args: &[&str], config: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("run relay");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_bootstraps_an_admin_once() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(dir.path(), addr, &receiver.url);

    let (mut gateway, lines) = serve(&config, addr).await;
    let line = lines
        .iter()
        .find(|l| l.contains("created the dashboard user \"admin\""))
        .expect("the bootstrap line");
    let password = line
        .split("with password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a password")
        .to_owned();
    assert!(
        password.len() >= 20,
        "a generated password, not a default one"
    );
    let client = relay_core::tls::client();
    let login = |password: &str| {
        client
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": password}))
            .send()
    };
    assert_eq!(login("admin").await.expect("answer").status(), 401);
    let response = login(&password).await.expect("answer");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["role"], "admin");
    assert_eq!(terminate(&mut gateway).code(), Some(0));

    let (mut gateway, lines) = serve(&config, addr).await;
    assert!(
        lines.iter().all(|l| !l.contains("password")),
        "the password is printed only at the first start: {lines:?}"
    );
    assert_eq!(terminate(&mut gateway).code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_keys_open_the_api_and_traffic_is_visible() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(dir.path(), addr, &receiver.url);
    let token = relay_cli(&["key", "add", "ops", "--role", "operator"], &config);
    let token = token.trim().to_owned();
    assert!(token.starts_with("rk_"), "{token}");

    let (mut gateway, lines) = serve(&config, addr).await;
    assert!(
        lines.iter().all(|l| !l.contains("password")),
        "a key exists: no bootstrap"
    );
    let client = relay_core::tls::client();
    let url = |path: &str| format!("http://{addr}{path}");
    let unauthorized = client
        .get(url("/api/v1/events"))
        .send()
        .await
        .expect("answer");
    assert_eq!(unauthorized.status(), 401);
    let accepted = client
        .post(url("/webhooks/demo"))
        .header("idempotency-key", "k-1")
        .json(&json!({"hello": "admin"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(accepted.status(), 200);

    let get = |path: String| {
        let request = client.get(url(&path)).bearer_auth(&token).send();
        async move {
            let response = request.await.ok()?;
            (response.status() == 200).then_some(())?;
            response.json::<Value>().await.ok()
        }
    };
    let events = get("/api/v1/events".into()).await.expect("events");
    assert_eq!(events["items"][0]["idempotency_key"], "k-1");
    let points = eventually(Duration::from_secs(20), || async {
        let report = get("/api/v1/metrics/points?scope=source&name=demo".into()).await?;
        (report["totals"]["accepted"] == 1).then_some(report)
    })
    .await
    .expect("the accepted event is counted in stored metric points");
    assert_eq!(points["totals"]["received"], 1);
    let audit = get("/api/v1/audit".into()).await.expect("audit");
    assert_eq!(audit["items"][0]["actor"], "cli");
    assert_eq!(audit["items"][0]["object_kind"], "api_key");
    assert_eq!(terminate(&mut gateway).code(), Some(0));
}
