//! Crash safety of nodes sharing one PostgreSQL database: two `relay serve` processes take
//! signed GitHub pushes from clients that spread their requests over both; one of them is
//! killed with SIGKILL at random moments and restarted each time, the other keeps serving.
//!
//! Every event that got a 2xx from either node must be in the database and must reach the
//! loopback receiver at least once, and those acknowledged before a kill within 5 s of the
//! victim's restart: its next life has the same node identity (derived from the host, the
//! listen address and the configuration file) and reclaims at once the leases recorded
//! under it; duplicates delivered are counted and reported
//! (at-least-once allows them for attempts in flight at a kill). The senders resend a request
//! that got no answer, with the same `X-GitHub-Delivery`, to the other node.
//!
//! Kills as in `crash_safety.rs`: `RELAY_CRASH_KILLS=N` (default 3, `RELAY_LONG_FAULTS=1`:
//! 20), `RELAY_CRASH_SEED=S`. Needs `RELAY_TEST_POSTGRES_URL` (skipped loudly without it,
//! failing with `RELAY_REQUIRE_BACKENDS=1`); runs in a schema of its own, dropped at the end.
//! With `RELAY_TEST_REDIS_URL` the nodes also share the dedup fast path, rate limits and
//! circuits through Redis (keys under the schema's name).

mod support;

use relay_core::store::EventLog;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rand::Rng;
use relay_core::model::ids::{EventId, TenantId};
use relay_store_postgres::{PgOptions, PgStore};
use relay_tests::{Receiver, eventually};
use support::load::{Load, Resumes, acknowledged_numbers, crash_plan};
use support::postgres::Schema;
use support::{free_port, start, terminate};

const SECRET: &str = "pg-crash-secret";
/// The credential key both nodes share (`ID:BASE64` of 32 bytes).
const KEY: &str = "pgc-1:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";
const CLIENTS: usize = 8;
const TEST: &str = "postgres crash test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_kill_9_of_a_postgres_node() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "acknowledged_events_survive_kill_9_of_a_postgres_node",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    let (kills, mut rng) = crash_plan(TEST, 3);
    let schema = Schema::create(&url, "relay_crash").await;
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let redis_url = std::env::var("RELAY_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let nodes: Vec<(SocketAddr, PathBuf)> = ["steady", "victim"]
        .iter()
        .map(|name| {
            let addr = free_port();
            let config = dir.path().join(format!("{name}.toml"));
            let settings = Settings {
                addr,
                database_url: &schema.database_url(),
                receiver: &receiver.url,
                redis_url: redis_url.as_deref(),
                prefix: &schema.name,
            };
            write_config(&config, &settings);
            (addr, config)
        })
        .collect();
    let migrated = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["migrate", "--config"])
        .arg(&nodes[0].1)
        .output()
        .expect("relay migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    let env = [("RELAY_CREDENTIALS_KEY", KEY)];
    let (steady_addr, steady_config) = &nodes[0];
    let (victim_addr, victim_config) = &nodes[1];
    let mut steady = Guard(start(steady_config, *steady_addr, &env).await);

    let load = Load {
        nodes: nodes.iter().map(|(addr, _)| *addr).collect(),
        secret: SECRET,
        padding: 900,
        counters: Default::default(),
        acknowledged: Default::default(),
        stop: Default::default(),
    };
    let clients = load.spawn(CLIENTS);
    let mut resumes = Resumes::default();
    // Whether the victim was killed since it was last started.
    let mut killed = false;

    for kill in 1..=kills {
        // Everything acknowledged until the restart (answers read after the kill included).
        let before_restart = killed.then(|| acknowledged_numbers(&load.acknowledged));
        let restarted = Instant::now();
        let mut victim = Guard(start(victim_config, *victim_addr, &env).await);
        if let Some(before) = before_restart {
            let took = resumes.wait(&receiver, &before, restarted).await;
            println!("restart {}: resumed in {} ms", kill - 1, took.as_millis());
        }
        // Let the victim acknowledge some traffic, then kill it at a random moment.
        let acked_before = load.acknowledged_count();
        eventually(Duration::from_secs(30), || {
            let n = load.acknowledged_count();
            async move { (n > acked_before + 20).then_some(()) }
        })
        .await
        .expect("the nodes acknowledge events after a restart");
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..400))).await;
        victim.0.kill().expect("SIGKILL");
        victim.0.wait().expect("reap");
        killed = true;
        println!(
            "kill {kill}: {} acknowledged so far",
            load.acknowledged_count()
        );
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..200))).await;
    }

    // The victim's last life: it reclaims the leases its identity left, so what was
    // acknowledged before the last kill is delivered within the bound; then traffic stops,
    // and everything acknowledged must be delivered.
    let before_restart = killed.then(|| acknowledged_numbers(&load.acknowledged));
    let restarted = Instant::now();
    let mut victim = Guard(start(victim_config, *victim_addr, &env).await);
    if let Some(before) = before_restart {
        let took = resumes.wait(&receiver, &before, restarted).await;
        println!("restart {kills}: resumed in {} ms", took.as_millis());
    }
    resumes.check(TEST);
    let acknowledged = load
        .finish(clients, &receiver, TEST, kills, Duration::from_secs(120))
        .await;

    for node in [&mut steady, &mut victim] {
        let status = terminate(&mut node.0);
        assert!(status.success(), "graceful shutdown exits 0, got {status}");
    }
    let options = PgOptions::default()
        .schema(&schema.name)
        .migrate_on_open(false);
    let store = PgStore::connect(&url, options).await.expect("connect");
    let tenant = TenantId::default();
    let mut absent = Vec::new();
    for (n, id) in &acknowledged {
        let id: EventId = id.parse().expect("an event id");
        if store.event(&tenant, id).await.expect("read").is_none() {
            absent.push(*n);
        }
    }
    assert!(absent.is_empty(), "acknowledged but not stored: {absent:?}");
}

/// A gateway process, killed if the test ends early.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// One node's configuration.
struct Settings<'a> {
    addr: SocketAddr,
    database_url: &'a str,
    receiver: &'a str,
    redis_url: Option<&'a str>,
    prefix: &'a str,
}

fn write_config(path: &Path, s: &Settings<'_>) {
    let redis = s.redis_url.map_or(String::new(), |url| {
        format!("redis_url = \"{url}\"\nredis_prefix = \"{}:\"\n", s.prefix)
    });
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "{database_url}"
migrate_on_start = false
{redis}
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
timeout_ms = 2000
retry = {{ max_attempts = 50, initial_ms = 50, max_ms = 500 }}

[[routes]]
name = "pushes"
source = "github"
event_types = ["push"]
destinations = ["receiver"]
"#,
        addr = s.addr,
        database_url = s.database_url,
        receiver = s.receiver,
    );
    std::fs::write(path, toml).expect("write config");
}
