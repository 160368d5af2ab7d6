//! Agents across nodes: two `relay serve` processes on one PostgreSQL schema, one `relay
//! agent`, a real receiver on loopback.
//!
//! - the agent is connected to node A only; events ingested on node B are all delivered
//!   through it, and no attempt fails as `agent_offline` (node B never leases them);
//! - `GET /api/v1/agents` answers the same on both nodes: online, on node A, its version and
//!   targets; the audit log has its `connect`;
//! - mid-load, the agent moves: a second agent connects to node B, then the first stops
//!   (SIGTERM: it drains). Every event arrives, each exactly once (no `webhook-id` twice),
//!   with one attempt each and no `agent_offline`;
//! - with the agent connected nowhere, deliveries wait unattempted, and go out once it
//!   connects again.
//!
//! Needs `RELAY_TEST_POSTGRES_URL` (skipped loudly without it, failing with
//! `RELAY_REQUIRE_BACKENDS=1`); runs in a schema of its own, dropped at the end.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use relay_tests::{Receiver, eventually};
use reqwest::Method;
use serde_json::{Value, json};
use support::cluster::{Node, Processes, migrate_with_admin_key, spawn_node};
use support::postgres::Schema;
use support::{free_port, terminate, wait_healthy};

/// The credential key both nodes share (`ID:BASE64` of 32 bytes).
const KEY: &str = "agents-1:BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=";
/// Events per phase.
const EVENTS: u32 = 40;
/// How long deliveries are given to be attempted when they must not be.
const QUIET: Duration = Duration::from_secs(3);

fn write_config(path: &Path, database_url: &str, allow: &str, node_id: &str) {
    let toml = format!(
        r#"[server]
listen = "127.0.0.1:1"
database_url = "{database_url}"
migrate_on_start = false
node_id = "{node_id}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "app"
scheme = "none"

[[destinations]]
name = "private"
kind = "agent"
agent = "dc1"
allow_targets = ["{allow}"]
timeout_ms = 10000
retry = {{ max_attempts = 20, initial_ms = 200, max_ms = 1000 }}
circuit_breaker = {{ enabled = false }}

[[routes]]
name = "to-private"
source = "app"
destinations = ["private"]
"#
    );
    std::fs::write(path, toml).expect("write config");
}

fn spawn_agent(node: &Node, token: &str, forward: &str, log: &Path) -> Child {
    let file = std::fs::File::create(log).expect("agent log");
    Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["agent", "--gateway", &node.base, "--forward", forward])
        .env("RELAY_AGENT_TOKEN", token)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::from(file))
        .spawn()
        .expect("start relay agent")
}

/// Helpers of this test on a node's API.
trait AgentNode {
    async fn send(&self, n: u32) -> String;
    async fn agent(&self) -> Value;
    async fn shows_agent(&self, node: Option<&str>) -> Value;
    async fn deliveries(&self, event: &str) -> Vec<Value>;
}

impl AgentNode for Node {
    /// Sends event `n` to the source `app`; its id.
    async fn send(&self, n: u32) -> String {
        let body = self
            .post_event("app", &format!("event-{n}"), &json!({"n": n}))
            .await;
        body["event_id"].as_str().expect("event id").to_owned()
    }

    async fn agent(&self) -> Value {
        let (status, body) = self.call(Method::GET, "/api/v1/agents", None).await;
        assert_eq!(status, 200, "{body}");
        body[0].clone()
    }

    /// Waits until the agent shows online on `node` (or offline, with `None`).
    async fn shows_agent(&self, node: Option<&str>) -> Value {
        let shown = eventually(Duration::from_secs(20), || async {
            let agent = self.agent().await;
            let matches = match node {
                Some(node) => agent["online"] == true && agent["node"] == node,
                None => agent["online"] == false,
            };
            matches.then_some(agent)
        })
        .await;
        match shown {
            Some(agent) => agent,
            None => panic!(
                "{} never showed the agent on {node:?}: {}",
                self.base,
                self.agent().await
            ),
        }
    }

    async fn deliveries(&self, event: &str) -> Vec<Value> {
        let (status, body) =
            (self.call(Method::GET, &format!("/api/v1/events/{event}"), None)).await;
        assert_eq!(status, 200, "{body}");
        body["deliveries"].as_array().cloned().unwrap_or_default()
    }
}

/// How many requests carried each `webhook-id`.
fn by_webhook_id(receiver: &Receiver) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for request in receiver.received() {
        let id = (request.headers.get("webhook-id"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        *seen.entry(id).or_insert(0) += 1;
    }
    seen
}

async fn received(receiver: &Receiver, count: usize) {
    eventually(Duration::from_secs(60), || async {
        (by_webhook_id(receiver).len() >= count).then_some(())
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{} of {count} deliveries arrived",
            by_webhook_id(receiver).len()
        )
    });
}

/// Every delivery of `events` (read on `node`) is delivered, in one attempt, none of them
/// `agent_offline`.
async fn delivered_once_each(node: &Node, events: &[String]) {
    for event in events {
        let deliveries = eventually(Duration::from_secs(30), || async {
            let deliveries = node.deliveries(event).await;
            (deliveries.len() == 1 && deliveries[0]["status"] == "delivered").then_some(deliveries)
        })
        .await
        .unwrap_or_else(|| panic!("event {event} was not delivered"));
        let log = deliveries[0]["attempt_log"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let offline = log
            .iter()
            .filter(|a| {
                a["error"]
                    .as_str()
                    .is_some_and(|e| e.contains("agent_offline"))
            })
            .count();
        assert_eq!(offline, 0, "an agent_offline attempt: {log:?}");
        assert_eq!(log.len(), 1, "one attempt: {log:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_node_delivers_through_an_agent_connected_to_another() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "any_node_delivers_through_an_agent_connected_to_another",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    let schema = Schema::create(&url, "relay_agents").await;
    let receiver = Receiver::ok().await;
    let allow = receiver.url.trim_end_matches("hook").to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("relay.toml");
    write_config(&config, &schema.database_url(), &allow, "node-a");
    let config_b = dir.path().join("relay-b.toml");
    write_config(&config_b, &schema.database_url(), &allow, "node-b");
    let token = migrate_with_admin_key(&config, KEY);

    let addrs = [free_port(), free_port()];
    let mut processes = Processes(Vec::new());
    for (addr, config) in addrs.iter().zip([&config, &config_b]) {
        let mut child = spawn_node(config, KEY, *addr);
        wait_healthy(&mut child, *addr).await;
        processes.0.push(child);
    }
    let [a, b] = addrs.map(|addr| Node::new(addr, &token));
    let (status, created) = a
        .call(Method::POST, "/api/v1/agents", Some(json!({"name": "dc1"})))
        .await;
    assert_eq!(status, 201, "{created}");
    let agent_token = created["token"].as_str().expect("token").to_owned();

    // Connected to node A; events ingested on node B.
    processes.0.push(spawn_agent(
        &a,
        &agent_token,
        &receiver.url,
        &dir.path().join("agent-1.log"),
    ));
    let on_a = b.shows_agent(Some("node-a")).await;
    assert_eq!(
        a.agent().await["node"],
        "node-a",
        "the same answer on both nodes"
    );
    assert_eq!(on_a["targets"], json!([receiver.url]), "{on_a}");
    assert!(
        on_a["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{on_a}"
    );
    assert!(on_a["last_seen"].is_string(), "{on_a}");
    let mut events = Vec::new();
    for n in 0..EVENTS {
        events.push(b.send(n).await);
    }
    received(&receiver, EVENTS as usize).await;
    delivered_once_each(&b, &events).await;

    // Mid-load, the agent moves to node B: the new one connects, then the old one drains.
    let mut moving = Vec::new();
    for n in EVENTS..EVENTS + EVENTS / 2 {
        moving.push(a.send(n).await);
    }
    processes.0.push(spawn_agent(
        &b,
        &agent_token,
        &receiver.url,
        &dir.path().join("agent-2.log"),
    ));
    for n in EVENTS + EVENTS / 2..EVENTS * 2 {
        moving.push(b.send(n).await);
    }
    eventually(Duration::from_secs(20), || async {
        let (_, audit) = a
            .call(
                Method::GET,
                "/api/v1/audit?object_kind=agent&limit=50",
                None,
            )
            .await;
        let text = audit.to_string();
        (text.contains("node-b") && text.contains("\"connect\"")).then_some(())
    })
    .await
    .expect("the second agent connected to node B");
    let first = &mut processes.0[2];
    assert!(
        terminate(first).success(),
        "the first agent drains and exits 0"
    );
    for n in EVENTS * 2..EVENTS * 3 {
        moving.push(a.send(n).await);
    }
    received(&receiver, 3 * EVENTS as usize).await;
    delivered_once_each(&a, &moving).await;
    let twice: Vec<_> = (by_webhook_id(&receiver).into_iter())
        .filter(|(_, n)| *n > 1)
        .collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    assert_eq!(a.shows_agent(Some("node-b")).await["online"], true);

    // Connected nowhere: the deliveries wait, unattempted.
    let second = &mut processes.0[3];
    assert!(terminate(second).success(), "the second agent exits 0");
    b.shows_agent(None).await;
    let mut waiting = Vec::new();
    for n in EVENTS * 3..EVENTS * 3 + 5 {
        waiting.push(a.send(n).await);
    }
    tokio::time::sleep(QUIET).await;
    for event in &waiting {
        let deliveries = b.deliveries(event).await;
        assert_eq!(deliveries[0]["status"], "pending", "{deliveries:?}");
        assert_eq!(
            deliveries[0]["attempt_log"].as_array().map(Vec::len),
            Some(0),
            "not attempted while the agent is away: {deliveries:?}"
        );
    }
    processes.0.push(spawn_agent(
        &a,
        &agent_token,
        &receiver.url,
        &dir.path().join("agent-3.log"),
    ));
    received(&receiver, 3 * EVENTS as usize + 5).await;
    delivered_once_each(&b, &waiting).await;

    let (_, audit) = b
        .call(
            Method::GET,
            "/api/v1/audit?object_kind=agent&limit=50",
            None,
        )
        .await;
    let actions: Vec<&str> = (audit["items"].as_array().into_iter().flatten())
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"connect"), "{audit}");
    assert!(actions.contains(&"disconnect"), "{audit}");
    for child in &mut processes.0 {
        if child.try_wait().ok().flatten().is_none() {
            assert!(terminate(child).success());
        }
    }
    drop(schema);
}
