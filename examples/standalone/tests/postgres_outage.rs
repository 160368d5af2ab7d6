//! PostgreSQL stopped mid-load (`pg_ctl stop -m immediate`, i.e. a crash of the server) and
//! started again, under a running gateway: while it is down, ingest answers 503 and never a
//! 2xx; once it is back the gateway resumes by itself; every acknowledged event is stored and
//! delivered.
//!
//! The test runs a PostgreSQL cluster of its own (initdb in a temporary directory, a free
//! port), so stopping it disturbs nothing else. It needs the server binaries
//! (`/usr/lib/postgresql/*/bin`, installed by `scripts/services.sh`) and root (to run them
//! as the `postgres` user); it is skipped loudly without `RELAY_TEST_POSTGRES_URL` (the sign
//! that the services were set up) and fails with `RELAY_REQUIRE_BACKENDS=1`.

mod support;

use relay_core::store::EventLog;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use relay_core::model::event::DeliveryStatus;
use relay_core::model::ids::{EventId, TenantId};
use relay_store_postgres::{PgOptions, PgStore};
use relay_tests::{Receiver, eventually, github_signature};
use support::{free_port, wait_healthy};

const SECRET: &str = "outage-secret";
/// The credential key (`ID:BASE64` of 32 bytes).
const CREDENTIALS_KEY: &str = "outage:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

/// Event number → the event id of its 2xx answer.
type Acknowledged = Arc<Mutex<BTreeMap<u64, String>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_answers_503_while_postgres_is_down_and_resumes_by_itself() {
    if relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "postgres_outage",
        "run `eval \"$(scripts/services.sh)\"` to install PostgreSQL",
    )
    .is_none()
    {
        return;
    }
    let cluster = Cluster::start();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);

    let receiver = Receiver::ok().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("relay.toml");
    write_config(&config, &receiver.url);
    let addr = free_port();
    let mut gateway = Gateway(spawn(&config, &url, addr));
    wait_healthy(&mut gateway.0, addr).await;

    let acknowledged: Acknowledged = Arc::default();
    let refused = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            tokio::spawn(send_events(
                c,
                addr,
                Arc::clone(&acknowledged),
                Arc::clone(&refused),
                Arc::clone(&stop),
            ))
        })
        .collect();
    let acked = |n: usize| {
        let acknowledged = Arc::clone(&acknowledged);
        move || {
            let count = acknowledged.lock().expect("lock").len();
            async move { (count >= n).then_some(()) }
        }
    };
    eventually(Duration::from_secs(30), acked(200))
        .await
        .expect("the gateway acknowledges events");

    cluster.pg_ctl(&["stop", "-m", "immediate"]);
    let at_stop = acknowledged.lock().expect("lock").len();
    let refused_at_stop = refused.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = acknowledged.lock().expect("lock").len();
    // Requests answered just as the server died may still have committed; none after.
    assert!(
        during <= at_stop + 8,
        "{} events acknowledged while PostgreSQL was down",
        during - at_stop
    );
    assert!(
        refused.load(Ordering::SeqCst) > refused_at_stop,
        "ingest answered 503 while PostgreSQL was down"
    );

    cluster.start_server();
    let restarted = Instant::now();
    let at_restart = acknowledged.lock().expect("lock").len();
    eventually(Duration::from_secs(60), acked(at_restart + 1))
        .await
        .expect("ingest resumes by itself once PostgreSQL is back");
    let resumed_after = restarted.elapsed();
    eventually(Duration::from_secs(60), acked(during + 200))
        .await
        .expect("ingest goes on");
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();

    let options = PgOptions::default().migrate_on_open(false);
    let store = PgStore::connect(&url, options).await.expect("connect");
    let tenant = TenantId::default();
    let mut ids = Vec::new();
    for (n, id) in &acknowledged {
        let id: EventId = id.parse().expect("an event id");
        let stored = store.event(&tenant, id).await.expect("read");
        assert!(stored.is_some(), "event {n} acknowledged but lost");
        ids.push(id);
    }
    let delivered = eventually(Duration::from_secs(60), || {
        let (store, ids) = (store.clone(), ids.clone());
        async move {
            for id in ids {
                let deliveries = store.deliveries(&TenantId::default(), id).await.ok()?;
                if deliveries
                    .iter()
                    .any(|d| d.status != DeliveryStatus::Delivered)
                {
                    return None;
                }
            }
            Some(())
        }
    })
    .await;
    assert!(delivered.is_some(), "acknowledged events not all delivered");
    println!(
        "outage: {} events acknowledged ({at_stop} before the stop), {} requests refused \
         with 503, ingest resumed {resumed_after:.2?} after the restart, {} deliveries at \
         the receiver",
        acknowledged.len(),
        refused.load(Ordering::SeqCst),
        receiver.count(),
    );
}

/// A throwaway PostgreSQL cluster, stopped (immediately) and deleted on drop.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL server binaries in /usr/lib/postgresql")
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("pg_ctl").exists())
            .max()
            .expect("a PostgreSQL version with pg_ctl");
        let dir = tempfile::tempdir().expect("temp dir");
        run(Command::new("chown").arg("postgres").arg(dir.path()));
        let port = free_port().port();
        let cluster = Self { bin, dir, port };
        let data = cluster.data();
        run(cluster
            .as_postgres("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data));
        cluster.start_server();
        cluster
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on",
            self.port,
            self.dir.path().display()
        );
        self.pg_ctl(&["start", "-w", "-l", &self.log(), "-o", &options]);
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log(&self) -> String {
        self.dir.path().join("log").display().to_string()
    }

    fn as_postgres(&self, program: &str) -> Command {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .stdout(Stdio::null());
        command
    }

    fn pg_ctl(&self, args: &[&str]) {
        run(self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(args));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["stop", "-m", "immediate"])
            .stderr(Stdio::null())
            .status();
    }
}

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

/// The gateway process, killed when the test ends.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_config(path: &Path, receiver: &str) {
    let toml = format!(
        r#"[server]
listen = "127.0.0.1:1"
database_url = "memory://"

# The receiver is on loopback, which the SSRF guard refuses unless allowed.
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
"#
    );
    std::fs::write(path, toml).expect("write config");
}

fn spawn(config: &Path, database_url: &str, addr: SocketAddr) -> Child {
    Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["serve", "--config"])
        .arg(config)
        .args([
            "--database-url",
            database_url,
            "--listen",
            &addr.to_string(),
        ])
        .env("RUST_LOG", "error")
        // A postgres:// database needs the credential key its nodes share.
        .env("RELAY_CREDENTIALS_KEY", CREDENTIALS_KEY)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start relay")
}

/// One sender: numbered events, each sent until it gets a 2xx; every other answer must be
/// 503 (counted), and the same delivery id is sent again.
async fn send_events(
    client: u64,
    addr: SocketAddr,
    acknowledged: Acknowledged,
    refused: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let http = relay_core::tls::client_builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let url = format!("http://{addr}/webhooks/github");
    let mut n = client << 32;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let body = serde_json::json!({ "ref": "refs/heads/main", "n": n }).to_string();
        let signature = github_signature(SECRET, body.as_bytes());
        while !stop.load(Ordering::SeqCst) {
            let response = http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-github-event", "push")
                .header("x-github-delivery", format!("delivery-{n}"))
                .header("x-hub-signature-256", &signature)
                .body(body.clone())
                .send()
                .await
                .expect("the gateway stays up and answers");
            let status = response.status();
            let json: serde_json::Value = response.json().await.expect("a JSON answer");
            if status.is_success() {
                let id = json["event_id"].as_str().expect("event_id").to_owned();
                acknowledged.lock().expect("lock").insert(n, id);
                break;
            }
            assert_eq!(status, 503, "only an unavailable store may refuse: {json}");
            refused.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
