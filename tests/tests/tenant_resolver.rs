//! `RelayLayer::tenant_resolver`: the embedding application names the tenant (here from the
//! subdomain) instead of a path segment.

use axum::Router;
use axum::routing::post;
use relay_core::Relay;
use relay_core::control::admin::Principal;
use relay_core::model::ids::TenantId;
use relay_tests::serve;
use serde_json::{Value, json};

#[tokio::test]
async fn a_subdomain_resolver_picks_the_tenant() {
    let relay = Relay::builder().build().expect("relay");
    for tenant in ["acme", "globex"] {
        let id = TenantId::new(tenant);
        let scoped = relay.scoped(&id).await.expect("tenant relay");
        let spec =
            serde_json::from_value(json!({"name": "orders", "scheme": "none"})).expect("spec");
        scoped
            .objects()
            .create_source(&Principal::system(id), spec)
            .await
            .expect("source");
    }
    let layer = relay_axum::RelayLayer::new(relay.clone()).tenant_resolver(
        |parts: &http::request::Parts| {
            let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
            let (tenant, _) = host.split_once(".hooks.example.com")?;
            Some(TenantId::new(tenant))
        },
    );
    let app = Router::new()
        .route("/webhooks/{a}/{b}", post(|| async { "the app's" }))
        .layer(layer);
    let base = format!("http://{}", serve(app).await);
    let client = relay_core::tls::client();
    let send = |host: &'static str, path: &'static str| {
        let request = client
            .post(format!("{base}{path}"))
            .header("host", host)
            .header("idempotency-key", "same-key")
            .body("{}");
        async move {
            let response = request.send().await.expect("answer");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        }
    };

    let (status, acme) = send("acme.hooks.example.com", "/webhooks/orders").await;
    assert_eq!(status, 200, "{acme}");
    let (status, globex) = send("globex.hooks.example.com", "/webhooks/orders").await;
    assert_eq!(status, 200, "{globex}");
    let id = |text: &str| serde_json::from_str::<Value>(text).expect("json")["event_id"].clone();
    assert_ne!(
        id(&acme),
        id(&globex),
        "the same key in two tenants is two events"
    );
    for (tenant, answer) in [("acme", &acme), ("globex", &globex)] {
        let event_id = id(answer).as_str().expect("id").parse().expect("event id");
        let event = (relay.store().event(&TenantId::new(tenant), event_id))
            .await
            .expect("store");
        assert_eq!(event.map(|e| e.tenant), Some(TenantId::new(tenant)));
    }
    for host in ["initech.hooks.example.com", "elsewhere.example.org"] {
        let (status, body) = send(host, "/webhooks/orders").await;
        assert_eq!(
            (status, body.as_str()),
            (404, r#"{"error":"unknown_source"}"#),
            "{host}"
        );
    }
    // With a resolver, the tenant is never taken from the path: that path is the app's.
    let (status, body) = send("acme.hooks.example.com", "/webhooks/acme/orders").await;
    assert_eq!((status, body.as_str()), (200, "the app's"));
}
