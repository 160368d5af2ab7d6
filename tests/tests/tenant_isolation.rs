//! The isolation suite: for EVERY operation of the OpenAPI description (iterated, so a new
//! endpoint is covered as soon as it is documented), tenant B's admin key and then a
//! consumer-portal session of B, aimed at tenant A's objects, get 404 (the portal: 404 or
//! 403) or see nothing of them, and afterwards A's objects, events, dead letters, keys and
//! users are exactly as they were and nothing of A's was replayed. It runs
//! on every store: memory, SQLite and PostgreSQL (the Redis layer wraps one of these).

use std::sync::Arc;
use std::time::Duration;

use relay_store_postgres::{PgOptions, PgStore};
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use relay_tests::portal;
use relay_tests::tenants::Gateway;
use relay_tests::{Answer, Receiver, eventually};
use reqwest::Method;
use serde_json::{Value, json};

/// A's identifiers; none may appear in an answer to B.
struct Owned {
    event: String,
    delivery: String,
    key: String,
    names: [&'static str; 6],
}

impl Owned {
    fn path_value(&self, template: &str, param: &str) -> String {
        match (template, param) {
            (t, "id") if t.starts_with("/api/v1/events/") => self.event.clone(),
            (t, "id") if t.starts_with("/api/v1/dead-letters/") => self.delivery.clone(),
            (t, "id") if t.starts_with("/api/v1/api-keys/") => self.key.clone(),
            (t, "name") if t.starts_with("/api/v1/sources/") => "acme-orders".into(),
            (t, "name") if t.starts_with("/api/v1/destinations/") => "acme-app".into(),
            (t, "name") if t.starts_with("/api/v1/routes/") => "acme-all".into(),
            (t, "name") if t.starts_with("/api/v1/subscriptions/") => "acme-app".into(),
            (t, "name") if t.starts_with("/api/v1/tenants/") => "acme".into(),
            (t, "name") if t.starts_with("/api/v1/agents/") => "acme-laptop".into(),
            (_, "username") => "acme-alice".into(),
            (t, p) => panic!("{t}: no value of A's for {{{p}}}; add one to the isolation suite"),
        }
    }

    fn leaked(&self, answer: &Value) -> Option<String> {
        let text = answer.to_string();
        let ids = [&self.event, &self.delivery, &self.key];
        (ids.into_iter().map(String::as_str))
            .chain(self.names)
            .find(|id| text.contains(id))
            .map(str::to_owned)
    }
}

/// A request body the endpoint accepts, so that a refusal is about the object, not the body.
fn body_for(method: &Method, template: &str, b_receiver: &str) -> Option<Value> {
    let body = match (method.as_str(), template) {
        ("GET" | "DELETE", _) => return None,
        ("PUT", "/api/v1/sources/{name}") => json!({"name": "acme-orders", "scheme": "none"}),
        ("PUT", "/api/v1/destinations/{name}") => json!({"name": "acme-app", "url": b_receiver}),
        ("PUT", "/api/v1/routes/{name}") => {
            json!({"name": "acme-all", "source": "orders", "destinations": ["app"]})
        }
        ("PUT", "/api/v1/tenants/{name}") => json!({"limits": {}}),
        ("POST", "/api/v1/routes/{name}/test") => json!({"event_type": "x", "payload": {}}),
        ("POST", "/api/v1/tenants/{name}/api-keys") => json!({"name": "x", "role": "admin"}),
        // B's own new objects (names of A's in B are B's own: see tests/tenancy.rs).
        ("POST", "/api/v1/sources") => json!({"name": "b-orders", "scheme": "none"}),
        ("POST", "/api/v1/destinations") => json!({"name": "b-app", "url": b_receiver}),
        ("POST", "/api/v1/routes") => {
            json!({"name": "b-all", "source": "orders", "destinations": ["app"]})
        }
        ("POST", "/api/v1/api-keys") => json!({"name": "b-key", "role": "viewer"}),
        ("POST", "/api/v1/users") => {
            json!({"username": "b-user", "password": "a long enough password", "role": "viewer"})
        }
        ("POST", "/api/v1/auth/login") => {
            json!({"username": "acme-alice", "password": "a long enough password"})
        }
        ("POST", "/api/v1/tenants") => json!({"name": "acme"}),
        ("POST", "/api/v1/agents") => json!({"name": "b-laptop"}),
        _ => json!({}),
    };
    Some(body)
}

/// What A has, as A's admin sees it (objects, events, dead letters, keys, users, audit).
async fn snapshot(gw: &Gateway, a: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for path in [
        "/api/v1/sources",
        "/api/v1/destinations",
        "/api/v1/routes",
        "/api/v1/events",
        "/api/v1/dead-letters",
        "/api/v1/api-keys",
        "/api/v1/users",
        "/api/v1/signature-failures",
        "/api/v1/agents",
    ] {
        let (status, answer) = gw.call(Method::GET, path, a, None).await;
        assert_eq!(status, 200, "{path}: {answer}");
        all.push(answer);
    }
    all
}

#[tokio::test]
async fn on_memory() {
    tenant_b_never_sees_changes_replays_or_counts_tenant_a_objects(Gateway::start().await).await;
}

#[tokio::test]
async fn on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())
        .expect("sqlite store");
    tenant_b_never_sees_changes_replays_or_counts_tenant_a_objects(
        Gateway::on(Arc::new(store)).await,
    )
    .await;
}

#[tokio::test]
async fn on_postgres() {
    let Some(url) = relay_core::testing::backend_from_env(
        "RELAY_TEST_POSTGRES_URL",
        "the tenant isolation suite on PostgreSQL",
        "run `eval \"$(scripts/services.sh)\"` to start PostgreSQL",
    ) else {
        return;
    };
    // A schema of its own, dropped after a passing run (a failing one leaves it to look at).
    let schema = format!("relay_t_isolation_{:016x}", rand::random::<u64>());
    let store = PgStore::connect(&url, PgOptions::default().schema(&schema))
        .await
        .expect("postgres store");
    let pool = store.pool().clone();
    tenant_b_never_sees_changes_replays_or_counts_tenant_a_objects(
        Gateway::on(Arc::new(store)).await,
    )
    .await;
    let client = pool.get().await.expect("a connection");
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .expect("drop the test schema");
}

/// The suite, on the gateway's store.
async fn tenant_b_never_sees_changes_replays_or_counts_tenant_a_objects(gw: Gateway) {
    let failing = Receiver::start([], Answer::Status(500)).await;
    let b_receiver = Receiver::ok().await;
    let a = gw.tenant("acme", json!({})).await;
    let b = gw.tenant("globex", json!({})).await;
    gw.objects(&b, &b_receiver).await;
    // A's objects, with names B does not have; its destination fails once and dead-letters.
    gw.ok(
        Method::POST,
        "/api/v1/sources",
        &a,
        json!({"name": "acme-orders", "scheme": "none"}),
    )
    .await;
    let destination = json!({"name": "acme-app", "url": failing.url, "retry": {"max_attempts": 1}});
    gw.ok(Method::POST, "/api/v1/destinations", &a, destination)
        .await;
    let route = json!({"name": "acme-all", "source": "acme-orders", "destinations": ["acme-app"]});
    gw.ok(Method::POST, "/api/v1/routes", &a, route).await;
    let user =
        json!({"username": "acme-alice", "password": "a long enough password", "role": "viewer"});
    gw.ok(Method::POST, "/api/v1/users", &a, user).await;
    // A refused signature of A's leaves a record of A's.
    let signed = json!({"name": "acme-signed", "scheme": "github", "secrets": ["acme-secret-1"]});
    gw.ok(Method::POST, "/api/v1/sources", &a, signed).await;
    let (status, _, _) = gw
        .ingest("/webhooks/acme/acme-signed", "unsigned", "{}")
        .await;
    assert_eq!(status, 401);
    let (_, refused) = gw
        .call(Method::GET, "/api/v1/signature-failures", &a, None)
        .await;
    assert_eq!(refused["items"][0]["source"], "acme-signed", "{refused}");
    let agent = gw
        .ok(
            Method::POST,
            "/api/v1/agents",
            &a,
            json!({"name": "acme-laptop"}),
        )
        .await;
    assert!(
        (agent["token"].as_str()).is_some_and(|t| t.starts_with("rag_acme~acme-laptop_")),
        "{agent}"
    );
    let keys = gw.call(Method::GET, "/api/v1/api-keys", &a, None).await.1;
    let key = keys[0]["id"].as_str().expect("A's key").to_owned();
    let (status, _, accepted) = gw
        .ingest("/webhooks/acme/acme-orders", "same-key", "{}")
        .await;
    assert_eq!(status, 200, "{accepted}");
    let event = accepted["event_id"].as_str().expect("id").to_owned();
    let dead = eventually(Duration::from_secs(10), || async {
        let (_, page) = gw.call(Method::GET, "/api/v1/dead-letters", &a, None).await;
        page["items"][0]["id"].as_str().map(str::to_owned)
    })
    .await
    .expect("A's delivery dead-letters");
    let owned = Owned {
        event,
        delivery: dead,
        key,
        names: [
            "acme-orders",
            "acme-app",
            "acme-all",
            "acme-alice",
            "acme-signed",
            "acme-laptop",
        ],
    };
    // The same idempotency key in B is another event.
    let (status, _, b_event) = gw.ingest("/webhooks/globex/orders", "same-key", "{}").await;
    assert_eq!(
        (status, b_event["status"].as_str()),
        (200, Some("accepted"))
    );
    assert_ne!(b_event["event_id"].as_str(), Some(owned.event.as_str()));
    let before = snapshot(&gw, &a).await;
    let attempts_before = failing.count();

    let (_, spec) = gw.call(Method::GET, "/api/v1/openapi.json", &b, None).await;
    let mut checked = 0;
    for (template, operations) in spec["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("method");
            let mut path = template.clone();
            let params: Vec<String> = (template.split('/'))
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            for param in &params {
                path = path.replace(&format!("{{{param}}}"), &owned.path_value(template, param));
            }
            let body = body_for(&method, template, &b_receiver.url);
            let (status, answer) = gw.call(method.clone(), &path, &b, body).await;
            let what = format!("{method} {path} as tenant B: {status} {answer}");
            if !params.is_empty() {
                assert_eq!(status, 404, "{what}");
                assert_eq!(answer["error"].as_str(), Some("not_found"), "{what}");
            } else {
                assert!(status != 500 && status != 403, "{what}");
                if let Some(leak) = owned.leaked(&answer) {
                    panic!("{what} shows A's {leak}");
                }
                if let Some(count) = answer["count"].as_u64() {
                    assert_eq!(count, 0, "{what} counted A's dead letters");
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 45,
        "every documented operation is checked ({checked})"
    );
    portal_of_b_sees_and_changes_nothing_of_a(&gw, &spec, &owned, &b_receiver.url).await;

    // A's side is exactly as it was, and nothing of A's was attempted again.
    let after = snapshot(&gw, &a).await;
    assert_eq!(before, after, "tenant B changed something of tenant A's");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        failing.count(),
        attempts_before,
        "nothing of A's was replayed"
    );
    let (status, _) = gw.call(Method::GET, "/api/v1/auth/me", &a, None).await;
    assert_eq!(status, 200, "A's key still works");
}

/// Every documented operation again, as a consumer-portal session of B (a fresh one per
/// operation: one of them logs out): aimed at A's objects it gets 404, or 403 where the
/// portal role may not act at all; elsewhere it never sees or counts anything of A's.
async fn portal_of_b_sees_and_changes_nothing_of_a(
    gw: &Gateway,
    spec: &Value,
    owned: &Owned,
    b_receiver: &str,
) {
    let mut checked = 0;
    for (template, operations) in spec["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            let method: Method = method.to_uppercase().parse().expect("method");
            let mut path = template.clone();
            let params: Vec<String> = (template.split('/'))
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            for param in &params {
                path = path.replace(&format!("{{{param}}}"), &owned.path_value(template, param));
            }
            let body = body_for(&method, template, b_receiver);
            let cookie = portal::session(&gw.base, &gw.platform, "globex").await;
            let (status, answer) =
                portal::call(&gw.base, method.clone(), &path, &cookie, body).await;
            let what = format!("{method} {path} as tenant B's portal: {status} {answer}");
            if !params.is_empty() {
                assert!(status == 404 || status == 403, "{what}");
                assert!(answer["error"].is_string(), "{what}");
            } else {
                assert!(status != 500, "{what}");
                if let Some(leak) = owned.leaked(&answer) {
                    panic!("{what} shows A's {leak}");
                }
                if let Some(count) = answer["count"].as_u64() {
                    assert_eq!(count, 0, "{what} counted A's dead letters");
                }
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 45,
        "every documented operation is checked ({checked})"
    );
    // The portal session is B's, and B's only.
    let cookie = portal::session(&gw.base, &gw.platform, "globex").await;
    let (status, me) = portal::call(&gw.base, Method::GET, "/api/v1/auth/me", &cookie, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["tenant"].as_str(), me["role"].as_str()),
        (Some("globex"), Some("portal"))
    );
}
