//! A gateway process with an agent destination, an admin key, and `relay agent` processes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use relay_tests::eventually;
use serde_json::{Value, json};

use crate::support::{free_port, start_logged};

/// A running gateway on SQLite with source `app` routed to destination `local` (kind
/// `agent`, agent `laptop`, allowed to reach `allow`), source `crm` routed to destination
/// `crm` (agent `laptop` too, allowed to reach `allow_crm`, `allow` unless given), and
/// source `lonely` routed to `ghost` (an agent destination of agent `ghost`, 3 attempts).
pub struct Gateway {
    pub addr: SocketAddr,
    /// `https` when started with a certificate.
    pub scheme: &'static str,
    pub admin: String,
    pub process: Child,
    pub dir: tempfile::TempDir,
    client: reqwest::Client,
}

fn config(dir: &Path, addr: SocketAddr, allow: (&str, &str), tls: &str) -> PathBuf {
    let (allow, allow_crm) = allow;
    let path = dir.join("relay.toml");
    let db = dir.join("relay.db");
    std::fs::write(
        &path,
        format!(
            r#"
[server]
listen = "{addr}"
database_url = "sqlite://{db}"
{tls}

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "app"
scheme = "none"

[[sources]]
name = "lonely"
scheme = "none"

[[sources]]
name = "crm"
scheme = "none"

[[destinations]]
name = "crm"
kind = "agent"
agent = "laptop"
allow_targets = ["{allow_crm}"]
retry = {{ max_attempts = 40, initial_ms = 100, max_ms = 400 }}
circuit_breaker = {{ enabled = false }}

[[routes]]
name = "crm-to-crm"
source = "crm"
destinations = ["crm"]

[[destinations]]
name = "local"
kind = "agent"
agent = "laptop"
allow_targets = ["{allow}"]
timeout_ms = 10000
retry = {{ max_attempts = 40, initial_ms = 100, max_ms = 400 }}
circuit_breaker = {{ enabled = false }}

[[destinations]]
name = "ghost"
kind = "agent"
agent = "ghost"
allow_targets = ["{allow}"]
retry = {{ max_attempts = 3, initial_ms = 50, max_ms = 100 }}

[[routes]]
name = "app-to-local"
source = "app"
destinations = ["local"]

[[routes]]
name = "lonely-to-ghost"
source = "lonely"
destinations = ["ghost"]
"#,
            db = db.display()
        ),
    )
    .expect("write the config");
    path
}

fn relay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_relay"))
}

impl Gateway {
    /// Starts it; agents may forward to URLs under `allow`.
    pub async fn start(allow: &str) -> Self {
        Self::start_with((allow, allow), None).await
    }

    /// Starts it with destination `crm` allowed to reach `allow_crm` only.
    pub async fn start_two(allow: &str, allow_crm: &str) -> Self {
        Self::start_with((allow, allow_crm), None).await
    }

    /// Starts it serving HTTPS with `tls`: (certificate chain PEM, key PEM, CA PEM).
    pub async fn start_tls(allow: &str, tls: (&str, &str, &str)) -> Self {
        Self::start_with((allow, allow), Some(tls)).await
    }

    async fn start_with(allow: (&str, &str), tls: Option<(&str, &str, &str)>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = free_port();
        let keys = match tls {
            None => String::new(),
            Some((chain, key, ca)) => {
                std::fs::write(dir.path().join("cert.pem"), chain).expect("write cert");
                std::fs::write(dir.path().join("key.pem"), key).expect("write key");
                std::fs::write(dir.path().join("ca.pem"), ca).expect("write CA");
                format!(
                    "tls_cert = \"{}\"\ntls_key = \"{}\"",
                    dir.path().join("cert.pem").display(),
                    dir.path().join("key.pem").display()
                )
            }
        };
        let config = config(dir.path(), addr, allow, &keys);
        let key = relay()
            .args(["key", "add", "tests", "--role", "admin", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .output()
            .expect("relay key add");
        assert!(
            key.status.success(),
            "{}",
            String::from_utf8_lossy(&key.stderr)
        );
        let admin = String::from_utf8(key.stdout)
            .expect("utf-8")
            .trim()
            .to_owned();
        let log = dir.path().join("gateway.log");
        let (process, scheme, client) = match tls {
            None => {
                let process = start_logged(&config, addr, &[("RUST_LOG", "info")], &log).await;
                (process, "http", relay_core::tls::client())
            }
            Some((_, _, ca)) => {
                let client = relay_core::tls::client_builder()
                    .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).expect("CA")])
                    .build()
                    .expect("client");
                let file = std::fs::File::create(&log).expect("log file");
                let mut process = relay()
                    .arg("--config")
                    .arg(&config)
                    .env("RUST_LOG", "info")
                    .stdout(Stdio::null())
                    .stderr(Stdio::from(file))
                    .spawn()
                    .expect("start relay");
                let url = format!("https://{addr}/healthz");
                let up = eventually(Duration::from_secs(30), || {
                    let request = client.get(&url).send();
                    async move { request.await.ok().filter(|r| r.status().is_success()) }
                })
                .await;
                if up.is_none() {
                    let _ = process.kill();
                    panic!(
                        "relay did not come up over HTTPS: {}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                (process, "https", client)
            }
        };
        Self {
            addr,
            scheme,
            admin,
            process,
            dir,
            client,
        }
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Calls the admin API as admin.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = (self.client)
            .request(method, format!("{}{path}", self.url()))
            .bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin API");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates agent `name` and returns its token.
    pub async fn create_agent(&self, name: &str) -> String {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/agents",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }

    /// Sends event `n` to `source`; its event id.
    pub async fn send(&self, source: &str, n: usize) -> String {
        let response = (self.client)
            .post(format!("{}/webhooks/{source}", self.url()))
            .header("idempotency-key", format!("event-{n}"))
            .header("x-event-type", "test.event")
            .json(&json!({"n": n}))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("json");
        body["event_id"].as_str().expect("event_id").to_owned()
    }

    /// The deliveries of an event, with their attempt logs.
    pub async fn deliveries(&self, event: &str) -> Vec<Value> {
        let (status, body) = self
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/events/{event}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["deliveries"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until every delivery of `event` has `status`; its deliveries.
    pub async fn settled(&self, event: &str, status: &str) -> Vec<Value> {
        eventually(Duration::from_secs(60), || async move {
            let deliveries = self.deliveries(event).await;
            (!deliveries.is_empty() && deliveries.iter().all(|d| d["status"] == status))
                .then_some(deliveries)
        })
        .await
        .unwrap_or_else(|| panic!("event {event} never reached {status}: {:?}", self.log()))
    }

    /// The gateway's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("gateway.log")).unwrap_or_default()
    }

    /// Starts `relay agent` with `token`, forwarding to `forward`; its log goes to `log`.
    /// Over HTTPS it trusts the test CA (`--ca-file`).
    pub fn agent(&self, token: &str, forward: &str, log: &str) -> Child {
        self.agent_forwarding(token, &[forward.to_owned()], log)
    }

    /// [`Self::agent`] with one `--forward` per value (`URL` or `DESTINATION=URL`).
    pub fn agent_forwarding(&self, token: &str, forwards: &[String], log: &str) -> Child {
        let file = std::fs::File::create(self.dir.path().join(log)).expect("log file");
        let mut command = relay();
        if self.scheme == "https" {
            command
                .arg("agent")
                .arg("--ca-file")
                .arg(self.dir.path().join("ca.pem"));
        } else {
            command.arg("agent");
        }
        command.args(["--gateway", &self.url()]);
        for forward in forwards {
            command.args(["--forward", forward]);
        }
        command
            .env("RELAY_AGENT_TOKEN", token)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::from(file))
            .spawn()
            .expect("start relay agent")
    }

    /// Runs `relay agent` to its end (for refusals); its output.
    /// Killed (and the test failed) if it is still running after 60 s.
    pub fn agent_until_exit(&self, token: &str, forward: &str) -> Output {
        self.agent_until_exit_forwarding(token, &[forward.to_owned()])
    }

    /// [`Self::agent_until_exit`] with one `--forward` per value.
    pub fn agent_until_exit_forwarding(&self, token: &str, forwards: &[String]) -> Output {
        let mut command = relay();
        command.args(["agent", "--gateway", &self.url()]);
        for forward in forwards {
            command.args(["--forward", forward]);
        }
        let mut child = command
            .env("RELAY_AGENT_TOKEN", token)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run relay agent");
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("wait").is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let output = child.wait_with_output().expect("reap");
                panic!(
                    "relay agent was not refused: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().expect("reap")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Gateway {
    /// Starts `relay listen` for `source` with the admin key, forwarding to `forward`; its
    /// standard output goes to `listen.out`, its log to `listen.log`.
    pub fn listen(&self, source: &str, forward: &str) -> Child {
        let out = std::fs::File::create(self.dir.path().join("listen.out")).expect("out file");
        let log = std::fs::File::create(self.dir.path().join("listen.log")).expect("log file");
        let mut command = relay();
        command.arg("listen");
        if self.scheme == "https" {
            command.arg("--ca-file").arg(self.dir.path().join("ca.pem"));
        }
        command
            .args([
                "--gateway",
                &self.url(),
                "--source",
                source,
                "--forward",
                forward,
            ])
            .env("RELAY_ADMIN_TOKEN", &self.admin)
            .env("RUST_LOG", "warn")
            .env_remove("NO_COLOR")
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start relay listen")
    }

    /// What a file in the gateway's directory holds so far.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    /// The names of the objects at `path` (`/api/v1/agents`, `/api/v1/routes`, …).
    pub async fn names(&self, path: &str) -> Vec<String> {
        let (status, body) = self.api(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "{body}");
        let items = match &body {
            Value::Array(items) => items.clone(),
            other => other["items"].as_array().cloned().unwrap_or_default(),
        };
        items
            .iter()
            .filter_map(|i| i["name"].as_str().map(str::to_owned))
            .collect()
    }
}
