//! `relay events`, `relay replay` and `relay dead-letters` against a real `relay serve`:
//! listing and filtering, an event's detail, a dry run that counts, a forced replay by glob
//! that sends again, a second run that sends nothing (idempotent), a replay resumed from its
//! file, dead letters replayed by filter, `events tail` printing a new event as it arrives,
//! and the exit codes for bad flags (2) and a refused key (3).

mod support;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use relay_tests::{Answer, Receiver, eventually};
use serde_json::{Value, json};
use support::{free_port, start, terminate};

fn config(dir: &Path, addr: SocketAddr, crm: &str, failing: &str) -> PathBuf {
    let path = dir.join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "demo"
scheme = "none"

[[destinations]]
name = "crm"
url = "{crm}"

[[destinations]]
name = "failing"
url = "{failing}"
retry = {{ max_attempts = 1 }}

[[routes]]
name = "orders"
source = "demo"
event_types = ["order.*"]
destinations = ["crm"]

[[routes]]
name = "users"
source = "demo"
event_types = ["user.*"]
destinations = ["failing"]
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

fn key(config: &Path, role: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["key", "add", role, "--role", role, "--config"])
        .arg(config)
        .output()
        .expect("relay key add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

/// `relay ARGS… --url … --token …`, with `NO_COLOR` and no terminal.
fn relay(addr: SocketAddr, token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(args)
        .args(["--url", &format!("http://{addr}"), "--token", token])
        .env("NO_COLOR", "1")
        .output()
        .expect("run relay")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

async fn ingest(client: &reqwest::Client, addr: SocketAddr, event_type: &str, key: &str) {
    let status = client
        .post(format!("http://{addr}/webhooks/demo"))
        .header("x-event-type", event_type)
        .header("idempotency-key", key)
        .body(format!(r#"{{"key":"{key}"}}"#))
        .send()
        .await
        .expect("answer")
        .status();
    assert_eq!(status, 200, "{event_type} {key}");
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let ok = eventually(Duration::from_secs(30), || {
        let ready = done();
        async move { ready.then_some(()) }
    })
    .await;
    assert!(ok.is_some(), "timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_commands_list_replay_resume_and_tail() {
    let crm = Receiver::ok().await;
    let failing = Receiver::start([], Answer::Status(500)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(dir.path(), addr, &crm.url, &failing.url);
    let operator = key(&config, "operator");
    let viewer = key(&config, "viewer");
    let mut gateway = start(&config, addr, &[]).await;
    let client = relay_core::tls::client();
    for key in ["o1", "o2", "o3"] {
        ingest(&client, addr, "order.created", key).await;
    }
    ingest(&client, addr, "user.signup", "u1").await;
    ingest(&client, addr, "user.signup", "u2").await;
    ingest(&client, addr, "ping", "p1").await;
    wait_for("3 orders delivered", || crm.count() == 3).await;

    // Listing and filtering.
    let all = json_lines(&stdout(&relay(
        addr,
        &viewer,
        &["events", "list", "--json"],
    )));
    assert_eq!(all.len(), 6);
    let pings = relay(
        addr,
        &viewer,
        &["events", "list", "--event-type", "ping", "--json"],
    );
    assert_eq!(json_lines(&stdout(&pings))[0]["idempotency_key"], "p1");
    let table = stdout(&relay(addr, &viewer, &["events", "list", "--limit", "2"]));
    assert!(table.starts_with("RECEIVED "), "{table}");
    assert_eq!(table.lines().count(), 3, "a header and two events: {table}");
    let order = (all.iter())
        .find(|e| e["idempotency_key"] == "o1")
        .expect("o1 listed");
    let id = order["id"].as_str().expect("an id");
    let shown = stdout(&relay(addr, &viewer, &["events", "show", id]));
    assert!(
        shown.contains(" to crm (route orders): delivered"),
        "{shown}"
    );
    assert!(shown.contains("\"key\": \"o1\""), "{shown}");

    // Dead letters: listed, and a discard of everything needs --all.
    wait_for("2 dead letters", || failing.count() == 2).await;
    let letters = eventually(Duration::from_secs(30), || {
        let out = relay(addr, &viewer, &["dead-letters", "list", "--json"]);
        let lines = json_lines(&stdout(&out));
        async move { (lines.len() == 2).then_some(lines) }
    })
    .await
    .expect("two dead letters listed");
    assert!(letters.iter().all(|l| l["destination"] == "failing"));
    let refused = relay(addr, &operator, &["dead-letters", "discard"]);
    assert_eq!(refused.status.code(), Some(2));

    // A dry run counts; nothing is sent.
    let dry = relay(
        addr,
        &operator,
        &["replay", "--event-type", "order.*", "--dry-run"],
    );
    assert_eq!(
        stdout(&dry).trim(),
        "3 events: would schedule 0 deliveries, skipped 3 (already delivered or in flight)"
    );
    // Forced, a page at a time, with a resume file that is gone once it is done.
    let resume = dir.path().join("replay.json");
    let resume_arg = resume.to_str().expect("a UTF-8 path");
    let args = [
        "replay",
        "--event-type",
        "order.*",
        "--force",
        "--page",
        "1",
    ];
    let forced = relay(
        addr,
        &operator,
        &[&args[..], &["--resume", resume_arg, "--json"]].concat(),
    );
    let forced: Value = serde_json::from_str(&stdout(&forced)).expect("JSON");
    assert_eq!(
        forced,
        json!({"dry_run": false, "events": 3, "scheduled": 3, "skipped": 0})
    );
    assert!(!resume.exists());
    wait_for("the orders delivered again", || crm.count() == 6).await;
    // Without --force, a second run sends nothing.
    let again = relay(
        addr,
        &operator,
        &["replay", "--event-type", "order.*", "--json"],
    );
    let again: Value = serde_json::from_str(&stdout(&again)).expect("JSON");
    assert_eq!(
        (again["scheduled"].as_u64(), again["skipped"].as_u64()),
        (Some(0), Some(3))
    );

    // By id: one event, skipped where it was delivered; forced, sent again.
    let one = relay(addr, &operator, &["replay", id, "--json"]);
    let one: Value = serde_json::from_str(&stdout(&one)).expect("JSON");
    assert_eq!(
        one,
        json!({"dry_run": false, "events": 1, "scheduled": 0, "skipped": 1})
    );
    let one = relay(addr, &operator, &["replay", id, "--force", "--json"]);
    let one: Value = serde_json::from_str(&stdout(&one)).expect("JSON");
    assert_eq!(one["scheduled"], 1, "{one}");
    wait_for("o1 delivered a third time", || crm.count() == 7).await;
    let mixed = relay(addr, &operator, &["replay", id, "--source", "demo"]);
    assert_eq!(mixed.status.code(), Some(2));

    // A replay interrupted after the newest order goes on with the two older ones only.
    let newest = (all.iter())
        .find(|e| e["idempotency_key"] == "o3")
        .expect("o3 listed");
    let progress = json!({
        "selection": {"force": true, "event_type": "order.*"},
        "cursor": newest["id"], "expected": 3,
        "done": {"events": 1, "scheduled": 1, "skipped": 0},
    });
    std::fs::write(&resume, progress.to_string()).expect("write the resume file");
    let resumed = relay(
        addr,
        &operator,
        &[&args[..], &["--resume", resume_arg, "--json"]].concat(),
    );
    let resumed: Value = serde_json::from_str(&stdout(&resumed)).expect("JSON");
    assert_eq!(resumed["events"], 3, "{resumed}");
    assert_eq!(resumed["scheduled"], 3, "{resumed}");
    wait_for("the two older orders delivered", || crm.count() == 9).await;
    let keys: Vec<String> = (crm.received().iter())
        .skip(7)
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(keys.iter().all(|body| !body.contains("o3")), "{keys:?}");
    // The same file with other flags is refused.
    std::fs::write(&resume, progress.to_string()).expect("write the resume file");
    let other = relay(
        addr,
        &operator,
        &["replay", "--event-type", "user.*", "--resume", resume_arg],
    );
    assert_eq!(other.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&other.stderr).contains("another selection"));

    // Dead letters replayed by filter (they fail again: the receiver still answers 500).
    let redriven = relay(
        addr,
        &operator,
        &["dead-letters", "replay", "--destination", "failing"],
    );
    assert_eq!(stdout(&redriven).trim(), "replayed 2 dead letters");
    wait_for("the dead letters attempted again", || failing.count() == 4).await;

    // `events tail` prints the latest events, then each new one as it arrives.
    let mut tail = Command::new(env!("CARGO_BIN_EXE_relay"))
        .args(["events", "tail", "--interval-ms", "200", "--json"])
        .args(["--url", &format!("http://{addr}"), "--token", &viewer])
        .stdout(Stdio::piped())
        .spawn()
        .expect("relay events tail");
    let (lines, received) = mpsc::channel();
    let out = tail.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut printed = Vec::new();
    while printed.len() < 6 {
        let line = received
            .recv_timeout(Duration::from_secs(30))
            .expect("history");
        printed.push(serde_json::from_str::<Value>(&line).expect("JSON"));
    }
    assert_eq!(printed[0]["idempotency_key"], "o1", "oldest first");
    ingest(&client, addr, "order.created", "o4").await;
    let line = received
        .recv_timeout(Duration::from_secs(30))
        .expect("the new event");
    let new: Value = serde_json::from_str(&line).expect("JSON");
    assert_eq!(new["idempotency_key"], "o4");
    assert!(
        received.recv_timeout(Duration::from_millis(600)).is_err(),
        "printed once"
    );
    tail.kill().expect("stop tail");
    tail.wait().expect("tail exits");

    // Exit codes: a viewer may not replay (3), a bad time is a usage error (2).
    let forbidden = relay(addr, &viewer, &["replay", "--dry-run"]);
    assert_eq!(forbidden.status.code(), Some(3));
    let bad_time = relay(
        addr,
        &viewer,
        &["events", "list", "--since", "last tuesday"],
    );
    assert_eq!(bad_time.status.code(), Some(2));
    let wrong_key = relay(addr, "rk_wrong", &["events", "list"]);
    assert_eq!(wrong_key.status.code(), Some(3));
    terminate(&mut gateway);
}
