//! Configuration reload on the real `relay` binary, under continuous signed load: SIGHUP
//! adds a route without a failed request or a lost event; an invalid file is refused (by the
//! admin API and by `relay config reload`) with its reasons while the old configuration
//! keeps serving; every reload is counted in `/metrics`.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use relay_tests::{Receiver, eventually, github_signature};
use support::{free_port, start, terminate};

const SECRET: &str = "reload-secret";

fn write_config(path: &Path, addr: std::net::SocketAddr, a: &str, extra: &str) {
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "github"
scheme = "github"
secrets = ["{SECRET}"]

[[destinations]]
name = "a"
url = "{a}"

[[routes]]
name = "to-a"
source = "github"
destinations = ["a"]
{extra}"#,
        db = path.with_extension("db").display(),
    );
    std::fs::write(path, toml).expect("write config");
}

fn numbers(receiver: &Receiver) -> std::collections::BTreeSet<u64> {
    (receiver.received().iter())
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .filter_map(|v| v["n"].as_u64())
        .collect()
}

/// Sends signed pushes one after another until stopped; returns how many were answered 200
/// (every other answer fails the test).
fn load(
    addr: std::net::SocketAddr,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let client = relay_core::tls::client();
        while !stop.load(Ordering::Relaxed) {
            let n = sent.load(Ordering::Relaxed) + 1;
            let body = format!(r#"{{"ref":"refs/heads/main","n":{n}}}"#);
            let status = client
                .post(format!("http://{addr}/webhooks/github"))
                .header("x-github-event", "push")
                .header("x-github-delivery", format!("reload-{n}"))
                .header(
                    "x-hub-signature-256",
                    github_signature(SECRET, body.as_bytes()),
                )
                .body(body)
                .send()
                .await
                .expect("the gateway answers")
                .status();
            assert_eq!(status, 200, "push {n} during a reload");
            sent.store(n, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        sent.load(Ordering::Relaxed)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_apply_under_load_and_invalid_files_are_refused() {
    let (a, b) = (Receiver::ok().await, Receiver::ok().await);
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, addr, &a.url, "");
    let token = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["key", "add", "ops", "--role", "admin", "--config"])
        .arg(&config)
        .output()
        .expect("relay key add");
    let token = String::from_utf8(token.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let mut gateway = start(&config, addr, &[]).await;
    let (sent, stop) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let pushes = load(addr, Arc::clone(&sent), Arc::clone(&stop));
    eventually(Duration::from_secs(10), || async {
        (a.count() >= 20).then_some(())
    })
    .await
    .expect("traffic flows to a");

    // SIGHUP: a new destination and route while the load runs.
    let to_b = format!(
        "\n[[destinations]]\nname = \"b\"\nurl = \"{}\"\n\n[[routes]]\nname = \"to-b\"\nsource = \"github\"\ndestinations = [\"b\"]\n",
        b.url
    );
    write_config(&config, addr, &a.url, &to_b);
    let before = sent.load(Ordering::Relaxed);
    let hup = Command::new("kill")
        .args(["-HUP", &gateway.id().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(hup.success());
    eventually(Duration::from_secs(10), || async {
        (b.count() >= 20).then_some(())
    })
    .await
    .expect("the reloaded route delivers to b");
    let first_to_b = numbers(&b).into_iter().next().expect("something reached b");
    assert!(
        first_to_b > before,
        "b gets only events ingested after the reload"
    );

    // An invalid file, through the admin API: refused with the key, the old one serves on.
    write_config(
        &config,
        addr,
        &a.url,
        &to_b.replace("[\"b\"]", "[\"nowhere\"]"),
    );
    let client = relay_core::tls::client();
    let refused = client
        .post(format!("http://{addr}/api/v1/config/reload"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 422);
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(
        body["fields"][0]["field"], "routes[1].destinations[0]",
        "{body}"
    );
    let b_before = b.count();
    eventually(Duration::from_secs(10), || async {
        (b.count() >= b_before + 10).then_some(())
    })
    .await
    .expect("the old configuration keeps delivering to b");

    // `relay config reload` checks the file first: exit 2 with the reason, nothing sent.
    let cli = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "reload", "--config"])
        .arg(&config)
        .env("RELAY_ADMIN_TOKEN", &token)
        .output()
        .expect("relay config reload");
    assert_eq!(cli.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&cli.stderr).contains("routes[1].destinations[0]"));
    // Fixed, it applies, and says a start-only section changed.
    write_config(&config, addr, &a.url, "");
    std::fs::write(
        &config,
        std::fs::read_to_string(&config)
            .expect("read")
            .replace("[delivery]", "[delivery]\nkey_file = \"other.key\""),
    )
    .expect("write");
    let cli = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["config", "reload", "--config"])
        .arg(&config)
        .env("RELAY_ADMIN_TOKEN", &token)
        .output()
        .expect("relay config reload");
    let out = String::from_utf8_lossy(&cli.stdout);
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    assert!(
        out.contains("\"routes\":1") && out.contains("\"delivery\""),
        "{out}"
    );

    stop.store(true, Ordering::Relaxed);
    let total = pushes.await.expect("load task");
    let metrics = relay_core::tls::client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("relay_config_reloads_total{outcome=\"applied\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("relay_config_reloads_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    // Every push was answered 200 (checked by the load) and every one reached a.
    let wanted: std::collections::BTreeSet<u64> = (1..=total).collect();
    eventually(Duration::from_secs(30), || async {
        (numbers(&a) == wanted).then_some(())
    })
    .await
    .expect("every acknowledged push is delivered to a");
    println!("config reload: {total} pushes, all 200 and delivered; first to b: #{first_to_b}");
    assert_eq!(terminate(&mut gateway).code(), Some(0));
}
