//! Disk faults with real processes: the `relay` binary keeps its SQLite store on a small tmpfs.
//!
//! Disk full: signed pushes are sent until the filesystem is full; every answer must be 200 or
//! the contract's 503 (never another status, never a 2xx for an event that is not stored), and
//! once the filesystem is grown (`mount -o remount,size=…`) ingest accepts again by itself.
//! Every acknowledged event is delivered and is in the file afterwards.
//!
//! Read-only: a mounted filesystem cannot be made read-only while a process holds the database
//! open for writing (the kernel answers EBUSY), so the gateway is stopped, the filesystem is
//! remounted read-only, and the gateway started again on it: it must not acknowledge anything.
//! Once the filesystem is writable again, a restarted gateway accepts.
//!
//! Read-only while running: the store is on an ext4 image (a loop device) mounted with
//! `errors=remount-ro`; under load, ext4 is told of an error (`/sys/fs/ext4/<dev>/
//! trigger_fs_error`, what a failing disk does), so it turns read-only under the open database
//! at once. From then on every answer must be the contract's 503; once the filesystem is
//! repaired (`e2fsck`) and mounted again, a restarted gateway accepts, and every acknowledged
//! event is stored and delivered.
//!
//! Mounting needs root (CAP_SYS_ADMIN); where `mount` is refused the test prints `SKIPPED: …`
//! and passes, unless `RELAY_REQUIRE_MOUNT=1`.

#[path = "disk_faults/mounts.rs"]
mod mounts;
mod support;

use relay_core::store::EventLog;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use mounts::{Ext4Image, mounted_or_skip, or_skip};
use relay_core::model::ids::{EventId, TenantId};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::{Receiver, eventually, github_signature};
use support::{free_port, start, terminate};

const SECRET: &str = "disk-fault-secret";

/// What one request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accepted,
    Unavailable,
}

struct Sender {
    http: reqwest::Client,
    url: String,
    padding: String,
    /// Event number → event id, for every 200.
    acknowledged: BTreeMap<u64, String>,
    next: u64,
}

impl Sender {
    fn new(addr: SocketAddr) -> Self {
        Self {
            http: relay_core::tls::client_builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            url: format!("http://{addr}/webhooks/github"),
            padding: "d".repeat(16 * 1024),
            acknowledged: BTreeMap::new(),
            next: 0,
        }
    }

    /// Sends one new event; every answer must be 200 or 503.
    async fn send(&mut self) -> Answer {
        self.next += 1;
        let n = self.next;
        let body = serde_json::json!({ "ref": "refs/heads/main", "n": n, "padding": self.padding })
            .to_string();
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("x-github-event", "push")
            .header("x-github-delivery", format!("disk-{n}"))
            .header(
                "x-hub-signature-256",
                github_signature(SECRET, body.as_bytes()),
            )
            .body(body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        let json: serde_json::Value = response.json().await.expect("a JSON answer");
        match status {
            200 => {
                assert_eq!(json["status"], "accepted", "{json}");
                let id = json["event_id"].as_str().expect("event_id").to_owned();
                self.acknowledged.insert(n, id);
                Answer::Accepted
            }
            503 => {
                assert_eq!(json["error"], "unavailable", "{json}");
                Answer::Unavailable
            }
            other => panic!("only 200 or the contract's 503 may answer, got {other}: {json}"),
        }
    }
}

const READY: &str = r#"200 {"status":"ready"}"#;
const WRITES_FAILING: &str = r#"503 {"status":"unavailable","reason":"writes_failing"}"#;

/// `GET /readyz`'s status and body, as `"503 {…}"`.
async fn readyz(addr: std::net::SocketAddr) -> String {
    let response = relay_core::tls::client()
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .expect("readyz answers");
    let status = response.status().as_u16();
    format!("{status} {}", response.text().await.expect("readyz body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_and_recovers_when_space_returns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(fs) = mounted_or_skip(&dir.path().join("mnt"), "3m") else {
        return;
    };
    let receiver = Receiver::ok().await;
    let db = fs.path.join("relay.db");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &db, addr, &receiver.url);
    let mut gateway = start(&config, addr, &[]).await;
    let mut sender = Sender::new(addr);

    // Fill the filesystem: send until 20 answers in a row are 503 (at most 2,000 requests).
    let (mut accepted, mut refused, mut in_a_row) = (0u32, 0u32, 0u32);
    while in_a_row < 20 {
        assert!(sender.next < 2_000, "a 3 MiB filesystem never filled up");
        match sender.send().await {
            Answer::Accepted => {
                accepted += 1;
                in_a_row = 0;
            }
            Answer::Unavailable => {
                refused += 1;
                in_a_row += 1;
            }
        }
    }
    let readiness = readyz(addr).await;
    println!(
        "disk full: {accepted} accepted before the disk filled, {refused} answered 503, \
         /readyz {readiness} while full"
    );
    assert!(accepted > 0, "the disk filled before anything was accepted");
    assert_eq!(
        readiness, WRITES_FAILING,
        "a store that answers reads but cannot write is not ready"
    );

    // Space returns: ingest accepts again without a restart.
    fs.remount("size=256m");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut after = 0u32;
    loop {
        after += 1;
        if sender.send().await == Answer::Accepted {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "ingest did not recover once space returned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..20 {
        assert_eq!(sender.send().await, Answer::Accepted, "accepting again");
    }
    println!("space returned: accepted again after {after} tries");
    assert_eq!(readyz(addr).await, READY, "ready again once writes succeed");

    // Everything acknowledged is delivered and stored.
    let wanted: Vec<u64> = sender.acknowledged.keys().copied().collect();
    let delivered = eventually(Duration::from_secs(90), || {
        let numbers = delivered_numbers(&receiver);
        let all = wanted.iter().all(|n| numbers.contains(n));
        async move { all.then_some(()) }
    })
    .await;
    assert!(
        delivered.is_some(),
        "acknowledged events were not delivered"
    );
    let status = terminate(&mut gateway);
    assert!(status.success(), "graceful stop exits 0, got {status}");
    assert_all_stored(&db, &sender.acknowledged).await;
    println!(
        "disk full: {} acknowledged, all stored and delivered ({} deliveries)",
        sender.acknowledged.len(),
        receiver.count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_database_acknowledges_nothing_and_recovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(fs) = mounted_or_skip(&dir.path().join("mnt"), "64m") else {
        return;
    };
    let receiver = Receiver::ok().await;
    let db = fs.path.join("relay.db");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &db, addr, &receiver.url);
    let mut gateway = start(&config, addr, &[]).await;
    let mut sender = Sender::new(addr);
    for _ in 0..5 {
        assert_eq!(sender.send().await, Answer::Accepted);
    }
    assert!(terminate(&mut gateway).success());

    fs.remount("ro");
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start relay");
    // Either it refuses to start, or it serves and answers 503 to every ingest.
    let http = relay_core::tls::client();
    let up = eventually(Duration::from_secs(30), || {
        let exited = child.try_wait().expect("wait").is_some();
        let request = http.get(format!("http://{addr}/healthz")).send();
        async move {
            if exited {
                return Some(false);
            }
            request.await.ok().map(|_| true)
        }
    })
    .await
    .expect("relay neither started nor exited");
    let mut refused = 0;
    if up {
        for _ in 0..20 {
            assert_eq!(sender.send().await, Answer::Unavailable, "read-only: 503");
            refused += 1;
        }
        assert!(terminate(&mut child).success());
        println!("read-only: the gateway served and answered 503 to {refused} of 20");
    } else {
        let output = child.wait_with_output().expect("reap");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "it exited with an error");
        println!("read-only: the gateway refused to start: {}", stderr.trim());
    }

    fs.remount("rw");
    let mut gateway = start(&config, addr, &[]).await;
    for _ in 0..5 {
        assert_eq!(sender.send().await, Answer::Accepted, "writable again");
    }
    assert_delivered_then_stored(&receiver, &sender, &mut gateway, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_turning_read_only_under_load_gets_503_never_a_lost_ack() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(fs) = or_skip("mount -o loop (ext4)", Ext4Image::create(dir.path())) else {
        return;
    };
    let receiver = Receiver::ok().await;
    let db = fs.path.join("relay.db");
    let addr = free_port();
    let config = dir.path().join("relay.toml");
    write_config(&config, &db, addr, &receiver.url);
    let mut gateway = start(&config, addr, &[]).await;
    let mut sender = Sender::new(addr);
    for _ in 0..20 {
        assert_eq!(sender.send().await, Answer::Accepted);
    }

    fs.fail();
    let mut refused = 0;
    for _ in 0..30 {
        if sender.send().await == Answer::Unavailable {
            refused += 1;
        }
    }
    let readiness = readyz(addr).await;
    println!(
        "read-only under load: 20 accepted before, {refused} of 30 answered 503 after, \
         /readyz {readiness}"
    );
    assert_eq!(
        refused, 30,
        "nothing is acknowledged once the disk is read-only"
    );
    assert_eq!(readiness, WRITES_FAILING, "a read-only store is not ready");
    // It stops (the last checkpoint may fail on the read-only disk).
    let _ = terminate(&mut gateway);

    fs.repair();
    let mut gateway = start(&config, addr, &[]).await;
    for _ in 0..5 {
        assert_eq!(sender.send().await, Answer::Accepted, "repaired: accepting");
    }
    assert_delivered_then_stored(&receiver, &sender, &mut gateway, &db).await;
}

/// Every acknowledged event reaches the receiver; the gateway stops cleanly; every one is in
/// the database file.
async fn assert_delivered_then_stored(
    receiver: &Receiver,
    sender: &Sender,
    gateway: &mut std::process::Child,
    db: &Path,
) {
    let wanted: Vec<u64> = sender.acknowledged.keys().copied().collect();
    let delivered = eventually(Duration::from_secs(60), || {
        let numbers = delivered_numbers(receiver);
        let all = wanted.iter().all(|n| numbers.contains(n));
        async move { all.then_some(()) }
    })
    .await;
    assert!(
        delivered.is_some(),
        "acknowledged events were not delivered"
    );
    assert!(terminate(gateway).success());
    assert_all_stored(db, &sender.acknowledged).await;
}

async fn assert_all_stored(db: &Path, acknowledged: &BTreeMap<u64, String>) {
    let store = SqliteStore::open(db, SqliteOptions::default()).expect("open the store");
    let tenant = TenantId::default();
    for (n, id) in acknowledged {
        let id: EventId = id.parse().expect("an event id");
        let event = store.event(&tenant, id).await.expect("read");
        assert!(
            event.is_some(),
            "event {n} was acknowledged but is not stored"
        );
    }
}

fn write_config(path: &Path, db: &Path, addr: SocketAddr, receiver: &str) {
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]
key_file = "{key}"

[[sources]]
name = "github"
scheme = "github"
secrets = ["{SECRET}"]

[[destinations]]
name = "receiver"
url = "{receiver}"
retry = {{ max_attempts = 50, initial_ms = 50, max_ms = 500 }}

[[routes]]
name = "pushes"
source = "github"
event_types = ["push"]
destinations = ["receiver"]
"#,
        db = db.display(),
        key = path.with_extension("key").display(),
    );
    std::fs::write(path, toml).expect("write config");
}

/// The event numbers the receiver has got.
fn delivered_numbers(receiver: &Receiver) -> std::collections::HashSet<u64> {
    receiver
        .received()
        .iter()
        .filter_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .filter_map(|v| v["n"].as_u64())
        .collect()
}
