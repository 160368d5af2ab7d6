//! The dashboard's search, live list, destination pages and layout in a real headless
//! Chromium, driven by Playwright (`tests/dashboard/console.mjs`), against the real `relay`
//! binary with seeded traffic: a working destination, one answering 503 (dead letters) and
//! one answering 410 Gone (paused by the gateway). The browser finds events by id, delivery
//! id, key prefix, type glob, destination and response status; sees an event ingested while
//! it watches appear as "1 new"; opens destination pages from links and reads why one is
//! paused; checks that the destinations table fits 1,280 px, that no KPI card sits alone on a
//! row, that the histogram's labels do not overlap, and that at 390 px the menu is collapsed
//! and the content fits. Screenshots go to `target/dashboard-screenshots/`.
//!
//! Needs `node`, Chromium (`RELAY_CHROMIUM`) and playwright-core
//! (`RELAY_DASHBOARD_NODE_MODULES`), from `scripts/dashboard/setup.sh`; without them the test
//! skips loudly, unless `RELAY_REQUIRE_BACKENDS=1`.

mod support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use relay_tests::{Answer, Receiver, eventually};
use serde_json::{Value, json};
use support::{free_port, terminate, wait_healthy};

/// Orders ingested: even ones `order.created`, odd ones `order.paid`.
const EVENTS: usize = 6;

fn config(dir: &Path, addr: SocketAddr, urls: [&str; 3]) -> PathBuf {
    let [ok, failing, gone] = urls;
    let path = dir.join("relay.toml");
    let toml = format!(
        r#"[server]
listen = "{addr}"
database_url = "sqlite://{db}"

[delivery]
allow_cidrs = ["127.0.0.0/8"]

[[sources]]
name = "shop"
scheme = "none"
event_type = "$.type"

[[destinations]]
name = "warehouse"
url = "{ok}"

[[destinations]]
name = "crm"
url = "{failing}"
retry = {{ max_attempts = 2, initial_ms = 100, max_ms = 200 }}
circuit_breaker = {{ enabled = false }}

[[destinations]]
name = "legacy-erp"
url = "{gone}"

[[routes]]
name = "orders-to-warehouse"
source = "shop"
event_types = ["order.*"]
destinations = ["warehouse"]

[[routes]]
name = "paid-orders-to-crm"
source = "shop"
event_types = ["order.paid"]
destinations = ["crm"]

[[routes]]
name = "first-order-to-erp"
source = "shop"
event_types = ["order.created"]
conditions = [{{ path = "$.order.id", op = "eq", value = 1000 }}]
destinations = ["legacy-erp"]
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

/// The gateway process, killed if the test fails before stopping it.
struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Starts `relay` and returns it with the bootstrap password it printed.
async fn serve(config: &Path, addr: SocketAddr) -> (Gateway, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
        .arg("--config")
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start relay");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    wait_healthy(&mut child, addr).await;
    let password = lines_rx
        .try_iter()
        .find_map(|line| {
            let rest = line.split("with password ").nth(1)?;
            rest.split_whitespace().next().map(str::to_owned)
        })
        .expect("the bootstrap password");
    (Gateway(child), password)
}

/// The browser and the Playwright modules, or `None` after saying why (a failure with
/// `RELAY_REQUIRE_BACKENDS=1`).
fn backends() -> Option<(PathBuf, PathBuf)> {
    let found = (|| {
        let chromium = PathBuf::from(
            std::env::var("RELAY_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        );
        if !chromium.exists() {
            return Err(format!("no Chromium at {}", chromium.display()));
        }
        let modules = std::env::var("RELAY_DASHBOARD_NODE_MODULES")
            .map_err(|_| "RELAY_DASHBOARD_NODE_MODULES is not set".to_owned())?;
        let modules = PathBuf::from(modules);
        if !modules.join("playwright-core").is_dir() {
            return Err(format!("no playwright-core in {}", modules.display()));
        }
        Ok((chromium, modules))
    })();
    match found {
        Ok(found) => Some(found),
        Err(why) => {
            assert!(
                std::env::var("RELAY_REQUIRE_BACKENDS").as_deref() != Ok("1"),
                "{why} (run scripts/dashboard/setup.sh)"
            );
            eprintln!("SKIPPED: {why} (run scripts/dashboard/setup.sh)");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_live_list_destination_pages_and_layout_in_a_real_browser() {
    let Some((chromium, modules)) = backends() else {
        return;
    };
    let warehouse = Receiver::ok().await;
    let crm = Receiver::start([], Answer::Status(503)).await;
    let erp = Receiver::start([], Answer::Status(410)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(dir.path(), addr, [&warehouse.url, &crm.url, &erp.url]);
    let (mut gateway, password) = serve(&config, addr).await;
    let client = relay_core::tls::client();
    let login = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let cookie = (login.headers().get("set-cookie"))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let get = |path: String| {
        let request = client
            .get(format!("http://{addr}/api/v1{path}"))
            .header("cookie", &cookie)
            .send();
        async move { request.await.ok()?.json::<Value>().await.ok() }
    };

    for i in 0..EVENTS {
        let kind = if i % 2 == 0 {
            "order.created"
        } else {
            "order.paid"
        };
        let response = client
            .post(format!("http://{addr}/webhooks/shop"))
            .header("idempotency-key", format!("order-{}", 1000 + i))
            .json(&json!({"type": kind, "order": {"id": 1000 + i, "total": 10 + i}}))
            .send()
            .await
            .expect("ingest");
        assert_eq!(response.status(), 200);
    }
    let paid = EVENTS / 2;
    // Dead letters: the paid orders at the CRM, and the first order at the ERP (410 Gone).
    eventually(Duration::from_secs(60), || async {
        let dead = get("/dead-letters".into()).await?;
        let erp = get("/destinations/legacy-erp".into()).await?;
        let settled = dead["items"].as_array()?.len() == paid + 1
            && erp["enabled"] == false
            && warehouse.count() >= EVENTS;
        settled.then_some(())
    })
    .await
    .expect(
        "every order delivered to the warehouse, the paid ones dead at the CRM, the ERP paused",
    );
    // The id of the third order's event and of its delivery to the warehouse.
    let third = get("/events?q=order-1002".into()).await.expect("events");
    let event_id = third["items"][0]["id"]
        .as_str()
        .expect("an event id")
        .to_owned();
    let detail = get(format!("/events/{event_id}")).await.expect("the event");
    let delivery_id = detail["deliveries"][0]["id"]
        .as_str()
        .expect("a delivery id")
        .to_owned();

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let screenshots = root.join("target/dashboard-screenshots");
    std::fs::create_dir_all(&screenshots).expect("screenshot dir");
    let output = Command::new("node")
        .arg(root.join("tests/dashboard/console.mjs"))
        .env("RELAY_URL", format!("http://{addr}"))
        .env("RELAY_USER", "admin")
        .env("RELAY_PASSWORD", &password)
        .env("RELAY_EVENT_ID", &event_id)
        .env("RELAY_DELIVERY_ID", &delivery_id)
        .env("RELAY_EVENTS", EVENTS.to_string())
        .env("RELAY_PAID", paid.to_string())
        .env("RELAY_CHROMIUM", &chromium)
        .env("RELAY_DASHBOARD_NODE_MODULES", &modules)
        .env("RELAY_SCREENSHOTS", &screenshots)
        .output()
        .expect("run node");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{log}");
    assert!(output.status.success(), "the browser test failed:\n{log}");
    for page in [
        "events-search",
        "events-live",
        "destination",
        "destination-paused",
        "destinations-1280",
        "overview-1280",
        "mobile-overview",
        "mobile-menu",
    ] {
        let file = screenshots.join(format!("{page}.png"));
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{} is a real screenshot", file.display());
    }
    assert_eq!(terminate(&mut gateway.0).code(), Some(0));
}
