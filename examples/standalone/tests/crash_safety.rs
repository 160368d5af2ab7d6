//! Crash safety with real processes: the `relay` binary on its SQLite store is killed with
//! SIGKILL at random moments while several clients send signed GitHub pushes, then restarted.
//!
//! Every event that got a 2xx must be in the store and must reach the loopback receiver at
//! least once, and those acknowledged before a kill within 5 s of the restart (the process
//! owns its file, so it gives back at once the leases of its previous life: they do not wait
//! for their expiry); an event that got no answer may or may not be there. The clients behave like
//! real senders: a request without an answer is sent again, with the same `X-GitHub-Delivery`,
//! so an event stored just before a kill comes back as a duplicate of itself.
//!
//! `RELAY_CRASH_KILLS=N` runs N kills instead of 5 (`RELAY_LONG_FAULTS=1`: 20);
//! `RELAY_CRASH_SEED=S` replays the kill timings of a printed seed. The run prints the kills
//! survived, the events lost (must be 0) and the duplicates delivered (at-least-once allows
//! them for attempts in flight at a kill).

mod support;

use relay_core::store::EventLog;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rand::Rng;
use relay_core::model::ids::{EventId, TenantId};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::{Receiver, eventually};
use support::load::{Load, Resumes, acknowledged_numbers, crash_plan};
use support::{free_port, start, terminate};

const SECRET: &str = "crash-test-secret";
const CLIENTS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_kill_9_and_are_delivered() {
    let (kills, mut rng) = crash_plan("crash test", 5);

    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay.db");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &db, addr, &receiver.url);

    let load = Load {
        nodes: vec![addr],
        secret: SECRET,
        padding: 900,
        counters: Default::default(),
        acknowledged: Default::default(),
        stop: Default::default(),
    };
    let clients = load.spawn(CLIENTS);
    let mut resumes = Resumes::default();
    // Whether a process was killed since the last start.
    let mut killed = false;

    for kill in 1..=kills {
        // Everything acknowledged until the restart (answers read after the kill included).
        let before_restart = killed.then(|| acknowledged_numbers(&load.acknowledged));
        let restarted = Instant::now();
        let mut gateway = start(&config, addr, &[]).await;
        if let Some(before) = before_restart {
            let took = resumes.wait(&receiver, &before, restarted).await;
            println!("restart {}: resumed in {} ms", kill - 1, took.as_millis());
        }
        let acked_before = load.acknowledged_count();
        // Let some traffic be acknowledged, then kill at a random moment.
        eventually(Duration::from_secs(30), || {
            let n = load.acknowledged_count();
            async move { (n > acked_before).then_some(()) }
        })
        .await
        .expect("the gateway acknowledges events after a restart");
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..400))).await;
        gateway.kill().expect("SIGKILL");
        gateway.wait().expect("reap");
        killed = true;
        println!(
            "kill {kill}: {} acknowledged so far",
            load.acknowledged_count()
        );
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..200))).await;
    }

    // The last life: what was acknowledged until the restart is delivered within the
    // bound; then traffic stops, and everything acknowledged must be delivered.
    let before_restart = killed.then(|| acknowledged_numbers(&load.acknowledged));
    let restarted = Instant::now();
    let mut gateway = start(&config, addr, &[]).await;
    if let Some(before) = before_restart {
        let took = resumes.wait(&receiver, &before, restarted).await;
        println!("restart {kills}: resumed in {} ms", took.as_millis());
    }
    resumes.check("crash test");
    let acknowledged = load
        .finish(
            clients,
            &receiver,
            "crash test",
            kills,
            Duration::from_secs(90),
        )
        .await;

    // Graceful stop, then read the file directly: every acknowledged event is stored.
    let status = terminate(&mut gateway);
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
    let store = SqliteStore::open(&db, SqliteOptions::default()).expect("open the store");
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

/// One process owns a SQLite store: a second `relay serve` on the same file is refused at
/// start, naming the file and the process holding it, while the first keeps serving; tools
/// that work beside a running gateway (`relay doctor`, `relay key add`) still do; once the
/// owner is killed with SIGKILL, a new one starts on the file at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_on_the_same_sqlite_file_is_refused() {
    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("relay.db");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &db, addr, &receiver.url);
    let mut owner = start(&config, addr, &[]).await;

    let second = free_port();
    let refused = tokio::task::spawn_blocking({
        let config = config.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_relay"))
                .args(["serve", "--listen", &second.to_string(), "--config"])
                .arg(&config)
                .env("RUST_LOG", "warn")
                .output()
                .expect("run a second relay")
        }
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
    assert!(stderr.contains("is in use by"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", owner.id())),
        "names the holder: {stderr}"
    );
    assert!(stderr.contains("relay.db.lock"), "{stderr}");

    // The owner still serves; tools beside it still work.
    let client = relay_core::tls::client();
    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("owner answers");
    assert!(health.status().is_success());
    for args in [
        &["doctor", "--config"][..],
        &["key", "add", "ops", "--role", "viewer", "--config"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_relay"))
            .args(args)
            .arg(&config)
            .output()
            .expect("run relay");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{args:?}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // The lock dies with its process, however it dies.
    owner.kill().expect("SIGKILL");
    owner.wait().expect("reap");
    let mut next = start(&config, addr, &[]).await;
    assert!(terminate(&mut next).success());
}

fn write_config(path: &Path, db: &Path, addr: SocketAddr, receiver: &str) {
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
        db = db.display()
    );
    std::fs::write(path, toml).expect("write config");
}
