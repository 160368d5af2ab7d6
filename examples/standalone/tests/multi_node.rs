//! Several gateway processes on one PostgreSQL database share the work: three `relay serve`
//! processes take signed GitHub pushes from clients that spread their requests over all of
//! them, one process is killed with SIGKILL mid-run, and then:
//! - every event acknowledged (2xx) by any node is in the database and is delivered (the
//!   receiver answered 200) at least once: the dead node's leases come back to the live
//!   ones when they expire;
//! - no attempt is delivered twice by live nodes: counted at the receiver by `webhook-id`
//!   and `x-relay-attempt`, a pair seen twice must have been first sent before the kill (by
//!   the node that died before it could record it). The receiver hangs around the kill, so
//!   the dead node does die with attempts in flight, and they must come back;
//!
//! Needs `RELAY_TEST_POSTGRES_URL` (skipped loudly without it, failing with
//! `RELAY_REQUIRE_BACKENDS=1`); runs in a schema of its own, dropped at the end. With
//! `RELAY_TEST_REDIS_URL` the nodes also share rate limits and the dedup fast path through
//! Redis (keys under a prefix of the run's own).

mod support;

use relay_core::store::{EventLog, ObjectStore};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use relay_core::control::credentials::Keyring;
use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::{EventId, TenantId};
use relay_store_postgres::{PgOptions, PgStore};
use relay_tests::{Answer, Receiver, eventually};
use support::load::Load;
use support::postgres::Schema;
use support::{free_port, terminate, wait_healthy};

const SECRET: &str = "multi-node-secret";
/// The destination's `Authorization` value, saved sealed in the shared database.
const AUTH: &str = "Bearer multi-node-token";
/// The credential key every node shares (`ID:BASE64` of 32 bytes).
const KEY: &str = "mn-1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
/// Another key, which cannot open what [`KEY`] sealed.
const OTHER_KEY: &str = "mn-2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
const NODES: usize = 3;
/// Attempts in flight per node: once more than `(NODES - 1) * IN_FLIGHT` requests hang at the
/// receiver (within the attempt timeout), the victim has at least one of them in flight.
const IN_FLIGHT: usize = 8;
const CLIENTS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_one_database_and_survive_a_kill_9() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "three_nodes_share_one_database",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    let schema = Schema::create(&url, "relay_mn").await;
    let database_url = schema.database_url();

    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("relay.toml");
    // With Redis too, the nodes also share rate limits and the dedup fast path.
    let redis_url = std::env::var("RELAY_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    write_config(&config, &receiver.url, redis_url.as_deref(), &schema.name);
    // `relay migrate` prepares the schema; the nodes start with `migrate_on_start = false`.
    let migrated = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["migrate", "--config"])
        .arg(&config)
        .args(["--database-url", &database_url])
        .output()
        .expect("relay migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    let said = String::from_utf8_lossy(&migrated.stdout);
    assert!(said.contains("schema is up to date"), "{said}");
    let addrs: Vec<SocketAddr> = (0..NODES).map(|_| free_port()).collect();
    let mut nodes = Nodes(Vec::new());
    for addr in &addrs {
        nodes.0.push(spawn(&config, &database_url, *addr));
    }
    for (node, addr) in nodes.0.iter_mut().zip(&addrs) {
        wait_healthy(node, *addr).await;
    }

    let load = Load {
        nodes: addrs.clone(),
        secret: SECRET,
        padding: 0,
        counters: Default::default(),
        acknowledged: Default::default(),
        stop: Default::default(),
    };
    let clients = load.spawn(CLIENTS);
    let acked = |n: usize| {
        let load = load.clone();
        move || {
            let count = load.acknowledged_count();
            async move { (count >= n).then_some(()) }
        }
    };
    eventually(Duration::from_secs(30), acked(300))
        .await
        .expect("the nodes acknowledge events");
    // Attempts hang at the receiver (for the 4 s timeout); each node has at most IN_FLIGHT in
    // flight, so when more than the other nodes can hold hang, the victim has some in flight.
    receiver.answer_from_now(Answer::Hang);
    let hung_from = receiver.count();
    eventually(Duration::from_secs(10), || {
        let hung = receiver.count() - hung_from;
        async move { (hung > (NODES - 1) * IN_FLIGHT).then_some(()) }
    })
    .await
    .expect("attempts reach the receiver");
    let victim = &mut nodes.0[NODES - 1];
    victim.kill().expect("SIGKILL");
    victim.wait().expect("reap");
    let killed_at = Instant::now();
    receiver.answer_from_now(Answer::Status(200));
    let at_kill = load.acknowledged_count();
    eventually(Duration::from_secs(30), acked(at_kill + 300))
        .await
        .expect("the live nodes go on acknowledging");
    load.stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }

    let acknowledged = load.acknowledged.lock().expect("lock").clone();
    let options = PgOptions::default()
        .schema(&schema.name)
        .migrate_on_open(false);
    let store = PgStore::connect(&url, options).await.expect("connect");
    let tenant = TenantId::default();
    let mut ids = Vec::new();
    for (n, id) in &acknowledged {
        let id: EventId = id.parse().expect("an event id");
        let stored = store.event(&tenant, id).await.expect("read");
        assert!(stored.is_some(), "event {n} acknowledged but not stored");
        ids.push((*n, id));
    }
    // The dead node's leases come back once expired (destination timeout + 30 s margin):
    // then every acknowledged event's delivery is recorded as delivered (a 200 answer).
    let undelivered = |store: PgStore, ids: Vec<(u64, EventId)>| async move {
        let mut missing = Vec::new();
        for (n, id) in ids {
            let deliveries = store
                .deliveries(&TenantId::default(), id)
                .await
                .expect("read");
            if deliveries.is_empty()
                || deliveries
                    .iter()
                    .any(|d| d.status != DeliveryStatus::Delivered)
            {
                missing.push(n);
            }
        }
        missing
    };
    let all_delivered = eventually(Duration::from_secs(120), || {
        let check = undelivered(store.clone(), ids.clone());
        async move { check.await.is_empty().then_some(()) }
    })
    .await;
    if all_delivered.is_none() {
        let missing = undelivered(store.clone(), ids.clone()).await;
        panic!(
            "{} acknowledged events never delivered: {missing:?}",
            missing.len()
        );
    }

    // Every delivery carried the configured credential, which the database holds only sealed
    // (under the key all nodes share).
    for request in receiver.received() {
        assert_eq!(request.headers.get("authorization").expect("auth"), AUTH);
    }
    let saved = store
        .destination_records(&tenant)
        .await
        .expect("saved destinations");
    assert_eq!(saved.len(), 1, "{saved:?}");
    let sealed = saved[0].auth_header.as_deref().expect("sealed auth header");
    assert_eq!(Keyring::key_id_of(sealed).expect("framed"), "mn-1");
    assert!(
        !sealed.windows(AUTH.len()).any(|w| w == AUTH.as_bytes()),
        "the credential is stored in plaintext"
    );

    let mut first_seen: HashMap<(String, String), Instant> = HashMap::new();
    let mut repeats = Vec::new();
    for request in receiver.received() {
        let header = |name: &str| {
            let value = request.headers.get(name).expect(name);
            value.to_str().expect("ascii").to_owned()
        };
        let pair = (header("webhook-id"), header("x-relay-attempt"));
        match first_seen.get(&pair) {
            None => {
                first_seen.insert(pair, request.at);
            }
            Some(first) => repeats.push((pair, *first)),
        }
    }
    assert!(
        !repeats.is_empty(),
        "the killed node's attempts in flight were sent again by the others"
    );
    for (pair, first) in &repeats {
        assert!(
            *first < killed_at,
            "attempt {pair:?} delivered twice, first after the kill: two live nodes sent it"
        );
    }
    println!(
        "multi-node: {} events acknowledged ({at_kill} before the kill), {} requests at the \
         receiver, {} attempts resent after the kill of a node",
        acknowledged.len(),
        receiver.count(),
        repeats.len(),
    );

    for node in nodes.0.iter_mut().take(NODES - 1) {
        assert!(terminate(node).success(), "graceful shutdown exits 0");
    }
}

/// A node on a shared database needs the credential key the others use: without one it
/// refuses to start (a key made up on one node would fit no other), and so it does with a
/// key that cannot open the credentials already saved; after a rotation (the new key first,
/// the old one kept) it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_needs_the_shared_credential_key() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "a_node_needs_the_shared_credential_key",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    let schema = Schema::create(&url, "relay_mn").await;
    let database_url = schema.database_url();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("relay.toml");
    write_config(&config, "http://127.0.0.1:9/hooks", None, &schema.name);
    let migrated = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["migrate", "--config"])
        .arg(&config)
        .args(["--database-url", &database_url])
        .env_remove("RELAY_CREDENTIALS_KEY")
        .output()
        .expect("relay migrate");
    assert!(
        migrated.status.success(),
        "migrate needs no key: {migrated:?}"
    );

    // What `relay serve` says when it refuses to start (it must exit, and not 0, in time).
    let refused = |key: Option<&str>| {
        let mut child = serve(&config, &database_url, free_port(), key)
            .stderr(Stdio::piped())
            .spawn()
            .expect("relay serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("relay started with key {key:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().expect("output");
        assert!(!output.status.success(), "exit 0 with key {key:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let said = refused(None);
    assert!(said.contains("RELAY_CREDENTIALS_KEY"), "{said}");
    assert!(said.contains("delivery.key_file"), "{said}");

    let addr = free_port();
    let mut nodes = Nodes(vec![spawn(&config, &database_url, addr)]);
    wait_healthy(&mut nodes.0[0], addr).await;
    assert!(
        terminate(&mut nodes.0[0]).success(),
        "graceful shutdown exits 0"
    );

    let said = refused(Some(OTHER_KEY));
    assert!(said.contains("does not open"), "{said}");
    assert!(!said.contains(AUTH), "{said}");

    let rotated = format!("{OTHER_KEY},{KEY}");
    let addr = free_port();
    let mut node = serve(&config, &database_url, addr, Some(&rotated))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start relay");
    wait_healthy(&mut node, addr).await;
    assert!(terminate(&mut node).success(), "graceful shutdown exits 0");
}

/// The gateway processes, killed if the test ends early.
struct Nodes(Vec<Child>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if child.try_wait().ok().flatten().is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn write_config(path: &Path, receiver: &str, redis_url: Option<&str>, prefix: &str) {
    let redis = redis_url.map_or(String::new(), |url| {
        format!("redis_url = \"{url}\"\nredis_prefix = \"{prefix}:\"\n")
    });
    let toml = format!(
        r#"[server]
listen = "127.0.0.1:1"
database_url = "memory://"
migrate_on_start = false
{redis}
# The receiver is on loopback, which the SSRF guard refuses unless allowed.
[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "github"
scheme = "github"
secrets = ["{SECRET}"]
rate_limit = {{ per_minute = 1000000 }}

[[destinations]]
name = "receiver"
url = "{receiver}"
auth_header = "{AUTH}"
timeout_ms = 4000
max_in_flight = {IN_FLIGHT}
retry = {{ max_attempts = 50, initial_ms = 50, max_ms = 500 }}

[[routes]]
name = "pushes"
source = "github"
event_types = ["push"]
destinations = ["receiver"]
"#
    );
    std::fs::write(path, toml).expect("write config");
}

fn spawn(config: &Path, database_url: &str, addr: SocketAddr) -> Child {
    serve(config, database_url, addr, Some(KEY))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start relay")
}

/// `relay serve` with the credential key `key` in the environment (none: unset).
fn serve(config: &Path, database_url: &str, addr: SocketAddr, key: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_relay"));
    command
        .args(["serve", "--config"])
        .arg(config)
        .args([
            "--database-url",
            database_url,
            "--listen",
            &addr.to_string(),
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null());
    match key {
        Some(key) => command.env("RELAY_CREDENTIALS_KEY", key),
        None => command.env_remove("RELAY_CREDENTIALS_KEY"),
    };
    command
}
