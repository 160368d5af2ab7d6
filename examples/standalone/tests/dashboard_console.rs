//! The dashboard's search, live list, destination pages and layout in a real headless
//! Chromium, driven by Playwright (`tests/dashboard/console.mjs`), against the real `relay`
//! binary with seeded traffic: a working destination, one answering 503 (dead letters) and
//! one answering 410 Gone (paused by the gateway). The browser finds events by id, delivery
//! id, key prefix, type glob, destination and response status; sees an event ingested while
//! it watches appear as "1 new"; opens destination pages from links (the destinations list,
//! the overview, a dead letter's row, an event's delivery) and reads why one is paused; checks that the destinations table fits 1,280 px, that no KPI card sits alone on a
//! row, that the histogram's labels do not overlap, and that at 390 px the menu is collapsed
//! and the content fits. Screenshots go to `target/dashboard-screenshots/`.
//!
//! Needs `node`, Chromium (`RELAY_CHROMIUM`) and playwright-core
//! (`RELAY_DASHBOARD_NODE_MODULES`), from `scripts/dashboard/setup.sh`; without them the test
//! skips loudly, unless `RELAY_REQUIRE_BACKENDS=1`. The scaffolding (gateway, login, node,
//! screenshots) is `support::browser`, shared with `dashboard.rs`.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use relay_tests::{Answer, Receiver, eventually};
use serde_json::{Value, json};
use support::browser::{assert_screenshots, browser, run_script, serve, session};
use support::{free_port, terminate};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_live_list_destination_pages_and_layout_in_a_real_browser() {
    let Some(browser) = browser() else {
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
    let cookie = session(&client, addr, &password).await;
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

    let (events, paid) = (EVENTS.to_string(), paid.to_string());
    run_script(
        &browser,
        "console.mjs",
        addr,
        &password,
        &[
            ("RELAY_EVENT_ID", &event_id),
            ("RELAY_DELIVERY_ID", &delivery_id),
            ("RELAY_EVENTS", &events),
            ("RELAY_PAID", &paid),
        ],
    );
    assert_screenshots(&[
        "events-search",
        "events-live",
        "destination",
        "destination-paused",
        "destinations-1280",
        "overview-1280",
        "mobile-overview",
        "mobile-menu",
    ]);
    assert_eq!(terminate(&mut gateway.0).code(), Some(0));
}
