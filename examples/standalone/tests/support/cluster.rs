//! Several `relay serve` processes on one database (the multi-node tests): the shared
//! credential key, migrate-and-admin-key setup, the nodes' HTTP API, and the processes,
//! killed if a test ends early.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use reqwest::Method;
use serde_json::Value;

/// Processes (nodes, agents) killed when dropped, unless they already exited.
pub struct Processes(pub Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// `relay ARGS --config CONFIG`, with the credential key `key` (`ID:BASE64` of 32 bytes) that
/// every node of the test shares.
pub fn relay(config: &Path, key: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relay"));
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .env("RELAY_CREDENTIALS_KEY", key)
        .env("RUST_LOG", "warn");
    command
}

/// Starts `relay serve` on `addr` (its log on this process's standard error); callers wait
/// for it with [`super::wait_healthy`].
pub fn spawn_node(config: &Path, key: &str, addr: SocketAddr) -> Child {
    relay(config, key, &["serve"])
        .args(["--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start relay")
}

/// Migrates the database of `config` and adds an admin API key; its token.
pub fn migrate_with_admin_key(config: &Path, key: &str) -> String {
    let migrated = relay(config, key, &["migrate"])
        .output()
        .expect("relay migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    let added = (relay(config, key, &["key", "add", "ops", "--role", "admin"]).output())
        .expect("relay key add");
    assert!(added.status.success(), "{added:?}");
    String::from_utf8(added.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// One node's HTTP API, with the admin token every node accepts.
pub struct Node {
    /// `http://ADDR`.
    pub base: String,
    /// The admin API key.
    pub token: String,
    /// The client.
    pub client: reqwest::Client,
}

impl Node {
    /// The node listening on `addr`.
    pub fn new(addr: SocketAddr, token: &str) -> Self {
        Self {
            base: format!("http://{addr}"),
            token: token.to_owned(),
            client: relay_core::tls::client(),
        }
    }

    /// Calls the admin API as the admin; the status and the body as JSON (`null` when it is
    /// not JSON).
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("answer");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POSTs `body` to the unsigned source `source` with the idempotency key `key`; fails
    /// unless it is accepted (200). The answer.
    pub async fn post_event(&self, source: &str, key: &str, body: &Value) -> Value {
        let response = (self.client.post(format!("{}/webhooks/{source}", self.base)))
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status().as_u16(), 200, "event {key}");
        response.json().await.expect("json")
    }
}
