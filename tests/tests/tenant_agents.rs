//! Agents and tenants, on every store (memory, SQLite and PostgreSQL): tenants A and B each
//! have an agent named `dc1`; an agent delivers only its own tenant's destinations, and each
//! tenant's admin creates, rotates and revokes only its own agents. (The isolation suite of
//! every API operation is `tenant_isolation.rs`.)

use std::sync::Arc;
use std::time::Duration;

use relay_core::control::agent::AgentTargets;
use relay_store_postgres::{PgOptions, PgStore};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::tenants::Gateway;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn agents_on_memory() {
    agents_deliver_only_their_own_tenants_destinations(Gateway::start().await).await;
}

#[tokio::test]
async fn agents_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())
        .expect("sqlite store");
    agents_deliver_only_their_own_tenants_destinations(Gateway::on(Arc::new(store)).await).await;
}

#[tokio::test]
async fn agents_on_postgres() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "the tenant agent suite on PostgreSQL",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    // A schema of its own, dropped after a passing run (a failing one leaves it to look at).
    let schema = format!("relay_t_agents_{:016x}", rand::random::<u64>());
    let store = PgStore::connect(&url, PgOptions::default().schema(&schema))
        .await
        .expect("postgres store");
    let pool = store.pool().clone();
    agents_deliver_only_their_own_tenants_destinations(Gateway::on(Arc::new(store)).await).await;
    let client = pool.get().await.expect("a connection");
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .expect("drop the test schema");
}

/// Tenants A and B each have an agent named `dc1`; A has an agent destination bound to it.
/// B's `dc1`, connected, is sent nothing of A's (and A's delivery waits, unattempted); A's
/// `dc1` gets it. Each tenant's admin manages its own agents only.
async fn agents_deliver_only_their_own_tenants_destinations(gw: Gateway) {
    let a = gw.tenant("acme", json!({})).await;
    let b = gw.tenant("globex", json!({})).await;
    let target = "http://127.0.0.1:9/hook";
    gw.ok(
        Method::POST,
        "/api/v1/sources",
        &a,
        json!({"name": "orders", "scheme": "none"}),
    )
    .await;
    let destination = json!({"name": "private", "kind": "agent", "agent": "dc1",
        "allow_targets": ["http://127.0.0.1:9/"]});
    gw.ok(Method::POST, "/api/v1/destinations", &a, destination)
        .await;
    let route = json!({"name": "all", "source": "orders", "destinations": ["private"]});
    gw.ok(Method::POST, "/api/v1/routes", &a, route).await;
    let a_agent = gw
        .ok(Method::POST, "/api/v1/agents", &a, json!({"name": "dc1"}))
        .await;
    let b_agent = gw
        .ok(Method::POST, "/api/v1/agents", &b, json!({"name": "dc1"}))
        .await;
    let (a_token, b_token) = (
        a_agent["token"].as_str().expect("A's token"),
        b_agent["token"].as_str().expect("B's token"),
    );
    let b_held = gw
        .relay
        .agents()
        .authenticate(b_token)
        .await
        .expect("B's agent");
    assert_eq!(b_held.tenant.as_str(), "globex");
    let a_held = gw
        .relay
        .agents()
        .authenticate(a_token)
        .await
        .expect("A's agent");
    assert_eq!(a_held.tenant.as_str(), "acme");
    // B's admin revoking "dc1" revokes B's own, never A's.
    gw.ok(Method::POST, "/api/v1/agents/dc1/revoke", &b, json!({}))
        .await;
    assert!(gw.relay.agents().authenticate(b_token).await.is_err());
    assert!(gw.relay.agents().authenticate(a_token).await.is_ok());
    let (_, listed) = gw.call(Method::GET, "/api/v1/agents", &a, None).await;
    assert_eq!(listed[0]["revoked"], false, "{listed}");
    let rotated = gw
        .ok(Method::POST, "/api/v1/agents/dc1/rotate", &b, json!({}))
        .await;
    let b_token = rotated["token"].as_str().expect("B's new token");
    assert!(gw.relay.agents().authenticate(a_token).await.is_ok());

    let (status, _, accepted) = gw.ingest("/webhooks/acme/orders", "k1", "{}").await;
    assert_eq!(status, 200, "{accepted}");
    let event = accepted["event_id"].as_str().expect("id").to_owned();
    let globex = gw.relay.scoped(&b_held.tenant).await.expect("B's relay");
    let b_held = globex
        .agents()
        .authenticate(b_token)
        .await
        .expect("B's agent");
    let mut b_session = globex
        .agents()
        .connect(&b_held.agent, AgentTargets::single(target), "test")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        b_session.frames.try_recv().is_err(),
        "B's agent got A's delivery"
    );
    let (_, detail) = gw
        .call(Method::GET, &format!("/api/v1/events/{event}"), &a, None)
        .await;
    assert_eq!(detail["deliveries"][0]["status"], "pending", "{detail}");
    assert_eq!(detail["deliveries"][0]["attempts"], 0, "{detail}");
    let (_, b_agents) = gw.call(Method::GET, "/api/v1/agents", &b, None).await;
    assert_eq!(b_agents[0]["online"], true, "{b_agents}");
    let (_, a_agents) = gw.call(Method::GET, "/api/v1/agents", &a, None).await;
    assert_eq!(
        a_agents[0]["online"], false,
        "A's dc1 is not B's: {a_agents}"
    );

    let acme = gw.relay.scoped(&a_held.tenant).await.expect("A's relay");
    let mut a_session = acme
        .agents()
        .connect(&a_held.agent, AgentTargets::single(target), "test")
        .await;
    let frame = tokio::time::timeout(Duration::from_secs(10), a_session.frames.recv())
        .await
        .expect("A's agent is sent A's delivery")
        .expect("a frame");
    assert_eq!(frame.destination, "private");
    assert_eq!(frame.target, target);
    assert!(
        b_session.frames.try_recv().is_err(),
        "B's agent got A's delivery"
    );
    acme.agents().disconnect(&a_session, "test over").await;
    globex.agents().disconnect(&b_session, "test over").await;
}
