//! The dashboard in a real headless Chromium, driven by Playwright (`tests/dashboard/e2e.mjs`),
//! against the real `relay` binary with seeded traffic: a working and a failing destination,
//! so there are delivered events, dead letters and flushed metric points, plus (written before
//! the gateway starts, [`seed`]) the dead letter of an order received two hours ago. The
//! browser logs in with the bootstrap password, reads the overview chart, finds and opens an
//! event, replays a dead letter (after the failing receiver recovers) until it is delivered,
//! reads its attempt view, replays the old one from its row and reads the p99 as `> 60 s`,
//! filters the audit log by action, follows a link to an event through the login page, opens a one-time
//! consumer-portal link of a tenant (once; a used and an expired link are refused) and acts
//! as that tenant's portal, and saves a screenshot of every page to
//! `target/dashboard-screenshots/`.
//!
//! Needs `node`, Chromium (`RELAY_CHROMIUM`, default `/usr/bin/chromium`) and playwright-core
//! (`RELAY_DASHBOARD_NODE_MODULES`), both installed by `scripts/dashboard/setup.sh`; without
//! them the test skips loudly, unless `RELAY_REQUIRE_BACKENDS=1`.

#[path = "dashboard/seed.rs"]
mod seed;
mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use relay_tests::{Answer, Receiver, eventually};
use serde_json::{Value, json};
use support::browser::{assert_screenshots, browser, run_script, serve, session};
use support::{free_port, terminate};

/// Orders ingested; every third one (from the second) is too small for the CRM's route.
const EVENTS: usize = 8;
/// Orders routed to the failing CRM, hence dead letters.
const DEAD: usize = 5;
const VIEWER_PASSWORD: &str = "a viewer's long password";

fn config(dir: &Path, addr: SocketAddr, ok: &str, failing: &str) -> PathBuf {
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
signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
retry = {{ max_attempts = 2, initial_ms = 100, max_ms = 200 }}
circuit_breaker = {{ enabled = false }}

[[routes]]
name = "orders-to-warehouse"
source = "shop"
event_types = ["order.*"]
destinations = ["warehouse"]

[[routes]]
name = "big-orders-to-crm"
source = "shop"
event_types = ["order.*"]
conditions = [{{ path = "$.order.total", op = "gte", value = 10 }}]
destinations = ["crm"]
"#,
        db = dir.join("relay.db").display(),
    );
    std::fs::write(&path, toml).expect("write config");
    path
}

/// The total of order `i`: 5 (under the CRM route's condition) for i = 1, 4, 7.
fn total(i: usize) -> f64 {
    if i % 3 == 1 { 5.0 } else { 25.5 + i as f64 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_a_real_browser() {
    let Some(browser) = browser() else {
        return;
    };
    let warehouse = Receiver::ok().await;
    let crm = Receiver::start([], Answer::Status(503)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = free_port();
    let config = config(dir.path(), addr, &warehouse.url, &crm.url);
    let old_event = seed::old_dead_letter(&dir.path().join("relay.db")).await;
    let (mut gateway, password) = serve(&config, addr).await;
    let client = relay_core::tls::client();
    let cookie = session(&client, addr, &password).await;
    let get = |path: &str| {
        let request = client
            .get(format!("http://{addr}/api/v1{path}"))
            .header("cookie", &cookie)
            .send();
        async move { request.await.ok()?.json::<Value>().await.ok() }
    };

    let viewer = client
        .post(format!("http://{addr}/api/v1/users"))
        .header("cookie", &cookie)
        .json(&json!({"username": "watcher", "password": VIEWER_PASSWORD, "role": "viewer"}))
        .send()
        .await
        .expect("create a viewer");
    assert_eq!(viewer.status(), 201);
    let target = client
        .post(format!("http://{addr}/api/v1/users"))
        .header("cookie", &cookie)
        .json(&json!({"username": "target", "password": VIEWER_PASSWORD, "role": "viewer"}))
        .send()
        .await
        .expect("create a user to lock out");
    assert_eq!(target.status(), 201);

    for i in 0..EVENTS {
        let response = client
            .post(format!("http://{addr}/webhooks/shop"))
            .header("idempotency-key", format!("order-{}", 1001 + i))
            .json(&json!({
                "type": "order.created",
                "order": {"id": 1001 + i, "total": total(i), "currency": "EUR"},
                "customer": {"email": format!("buyer{i}@example.com")},
            }))
            .send()
            .await
            .expect("ingest");
        assert_eq!(response.status(), 200);
    }
    let report = eventually(Duration::from_secs(60), || async {
        let dead = get("/dead-letters").await?;
        let report = get("/metrics/points").await?;
        let t = &report["totals"];
        let settled = dead["items"].as_array()?.len() == DEAD + 1
            && t["delivered"] == EVENTS
            && t["dead_lettered"] == DEAD
            && t["received"] == EVENTS;
        settled.then_some(report)
    })
    .await
    .expect("every event delivered to the warehouse and dead-lettered at the CRM, and counted");
    assert!(report["success_rate"].as_f64().is_some());
    // The CRM recovers, so replaying its dead letters from the browser delivers them.
    crm.answer_from_now(Answer::Status(200));
    let crm_before = crm.count();

    let (events, dead) = (EVENTS.to_string(), DEAD.to_string());
    let stdout = run_script(
        &browser,
        "e2e.mjs",
        addr,
        &password,
        &[
            ("RELAY_VIEWER_PASSWORD", VIEWER_PASSWORD),
            ("RELAY_EVENT_KEY", "order-1003"),
            ("RELAY_EVENTS", &events),
            ("RELAY_DEAD", &dead),
            ("RELAY_OLD_EVENT", &old_event),
        ],
    );

    // The source the browser created verifies both its first secret (still in its overlap)
    // and the rotated one, and nothing else.
    let rotated = stdout
        .lines()
        .find_map(|l| l.strip_prefix("ROTATED ").map(str::to_owned))
        .expect("the secrets the browser saw");
    let (old, new) = rotated.split_once(' ').expect("two secrets");
    let body = br#"{"zen":"Keep it logically awesome."}"#;
    for (i, (secret, expected)) in [(old, 200), (new, 200), ("not-the-secret", 401)]
        .into_iter()
        .enumerate()
    {
        let response = client
            .post(format!("http://{addr}/webhooks/github-app"))
            .header("x-github-event", "ping")
            .header("x-github-delivery", format!("delivery-{i}"))
            .header(
                "x-hub-signature-256",
                relay_tests::github_signature(secret, body),
            )
            .header("content-type", "application/json")
            .body(&body[..])
            .send()
            .await
            .expect("ingest");
        assert_eq!(response.status(), expected, "signed with secret {i}");
    }

    // What the browser did reached the gateway: two dead letters replayed and delivered (the
    // old one among them), one discarded, audited as the logged-in user.
    assert!(
        crm.count() > crm_before,
        "the replayed delivery reached the CRM"
    );
    let dead = get("/dead-letters").await.expect("dead letters");
    assert_eq!(dead["items"].as_array().map(Vec::len), Some(DEAD - 2));
    let audit = get("/audit").await.expect("audit");
    let actions: Vec<(String, String)> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| (e["actor"].to_string(), e["action"].to_string()))
        .collect();
    for action in ["\"replay\"", "\"discard\""] {
        assert!(
            actions
                .iter()
                .any(|(actor, a)| actor == "\"user:admin\"" && a == action),
            "{action} by user:admin in {actions:?}"
        );
    }
    assert_screenshots(&[
        "login",
        "overview",
        "events",
        "event",
        "dead-letters",
        "attempt-view",
        "overview-slow-replay",
        "sources",
        "destinations",
        "routes",
        "audit",
        "portal-destinations",
    ]);
    assert_eq!(terminate(&mut gateway.0).code(), Some(0));
}
