//! Stored object state is shared by the nodes of one PostgreSQL database: two `relay serve`
//! processes on one schema, and
//! - an operator disables a destination on node A: node B stops delivering to it too (its
//!   lease query skips the held deliveries, even with node A gone), and shows who disabled
//!   it and why; enabling it on node B delivers the held events;
//! - a destination answers 410 Gone to one node: it is disabled for both, with `410` as who
//!   did it, and neither node sends it anything more.
//!
//! Needs `RELAY_TEST_POSTGRES_URL` (skipped loudly without it, failing with
//! `RELAY_REQUIRE_BACKENDS=1`); runs in a schema of its own, dropped at the end.

mod support;

use std::path::Path;
use std::time::Duration;

use relay_tests::{Answer, Receiver, eventually};
use reqwest::Method;
use serde_json::{Value, json};
use support::cluster::{Node, Processes, migrate_with_admin_key, spawn_node};
use support::postgres::Schema;
use support::{free_port, terminate, wait_healthy};

/// The credential key both nodes share (`ID:BASE64` of 32 bytes).
const KEY: &str = "held-1:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";
/// How long a node is given to send what it must not send (longer than several worker
/// polls and an object sync); an absence is checked after it.
const QUIET: Duration = Duration::from_secs(3);

fn write_config(path: &Path, database_url: &str, ops: &str, gone: &str) {
    let toml = format!(
        r#"[server]
listen = "127.0.0.1:1"
database_url = "{database_url}"
migrate_on_start = false

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "ops"
scheme = "none"

[[sources]]
name = "gone"
scheme = "none"

[[destinations]]
name = "ops"
url = "{ops}"

[[destinations]]
name = "gone"
url = "{gone}"

[[routes]]
name = "to-ops"
source = "ops"
destinations = ["ops"]

[[routes]]
name = "to-gone"
source = "gone"
destinations = ["gone"]
"#
    );
    std::fs::write(path, toml).expect("write config");
}

/// Helpers of this test on a node's API.
trait HeldNode {
    async fn destination(&self, name: &str) -> Value;
    async fn send(&self, kind: &str, n: u32);
    async fn shows_disabled(&self, name: &str, by: &str) -> Value;
}

impl HeldNode for Node {
    async fn destination(&self, name: &str) -> Value {
        let (status, body) =
            (self.call(Method::GET, &format!("/api/v1/destinations/{name}"), None)).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Sends an event to the source `kind` (`ops` or `gone`: routed to the destination of
    /// that name).
    async fn send(&self, kind: &str, n: u32) {
        self.post_event(kind, &format!("{kind}-{n}"), &json!({"n": n}))
            .await;
    }

    /// Waits until this node shows the destination disabled by someone starting with `by`;
    /// returns its `disabled` object.
    async fn shows_disabled(&self, name: &str, by: &str) -> Value {
        eventually(Duration::from_secs(20), || async {
            let body = self.destination(name).await;
            let said = body["disabled"]["by"].as_str().unwrap_or_default();
            (body["enabled"] == false && said.starts_with(by)).then(|| body["disabled"].clone())
        })
        .await
        .unwrap_or_else(|| panic!("{} does not show {name} disabled by {by}", self.base))
    }
}

async fn delivered(receiver: &Receiver, at_least: usize) -> bool {
    eventually(Duration::from_secs(20), || async {
        (receiver.count() >= at_least).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disable_on_one_node_holds_deliveries_on_the_other() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "a_disable_on_one_node_holds_deliveries_on_the_other",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    let schema = Schema::create(&url, "relay_held").await;
    let ops = Receiver::ok().await;
    let gone = Receiver::start([], Answer::Status(410)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("relay.toml");
    write_config(&config, &schema.database_url(), &ops.url, &gone.url);
    let token = migrate_with_admin_key(&config, KEY);

    let addrs = [free_port(), free_port()];
    let spawn = |addr| spawn_node(&config, KEY, addr);
    let mut nodes = Processes(addrs.iter().map(|addr| spawn(*addr)).collect());
    for (child, addr) in nodes.0.iter_mut().zip(addrs) {
        wait_healthy(child, addr).await;
    }
    let [a, b] = addrs.map(|addr| Node::new(addr, &token));

    b.send("ops", 0).await;
    assert!(delivered(&ops, 1).await, "delivered while enabled");

    // An operator disables `ops` on node A; node B holds its deliveries too.
    let (status, body) = a
        .call(
            Method::POST,
            "/api/v1/destinations/ops/disable?reason=receiver%20migration",
            None,
        )
        .await;
    assert_eq!(status, 204, "{body}");
    for n in 1..=3 {
        b.send("ops", n).await;
    }
    a.send("ops", 4).await;
    let disabled = b.shows_disabled("ops", "key:").await;
    assert_eq!(disabled["reason"], "receiver migration", "{disabled}");
    tokio::time::sleep(QUIET).await;
    assert_eq!(ops.count(), 1, "a node delivered to a disabled destination");
    // With node A gone, node B alone still holds them.
    assert!(terminate(&mut nodes.0[0]).success(), "node A exits 0");
    b.send("ops", 5).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(ops.count(), 1, "node B delivered to a disabled destination");

    // Enabled on node B (undoing node A's operator), the held events go out.
    let (status, body) = b
        .call(Method::POST, "/api/v1/destinations/ops/enable", None)
        .await;
    assert_eq!(status, 204, "{body}");
    assert!(
        delivered(&ops, 6).await,
        "the held events were delivered once enabled: {}",
        ops.count()
    );
    let body = b.destination("ops").await;
    assert_eq!(body["enabled"], true, "{body}");
    assert!(body.get("disabled").is_none(), "{body}");

    // Node A again: a 410 Gone answered to either node disables `gone` for both.
    let mut again = spawn(addrs[0]);
    wait_healthy(&mut again, addrs[0]).await;
    nodes.0[0] = again;
    a.send("gone", 0).await;
    let by_gone = a.shows_disabled("gone", "410").await;
    assert_eq!(by_gone["reason"], "answered 410 Gone", "{by_gone}");
    b.shows_disabled("gone", "410").await;
    let answered = gone.count();
    assert!(answered >= 1, "the 410 was answered");
    for n in 1..=3 {
        a.send("gone", n).await;
        b.send("gone", n + 10).await;
    }
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        gone.count(),
        answered,
        "a node sent to a destination that is gone"
    );

    for node in &mut nodes.0 {
        assert!(terminate(node).success(), "graceful shutdown exits 0");
    }
}
