//! Tenants end to end over HTTP: each tenant's admin creates objects with the same names,
//! ingest at `/webhooks/{tenant}/{source}` resolves them in that tenant only, deliveries go
//! to that tenant's destinations, the same idempotency key in two tenants is two events,
//! and one tenant's key sees nothing of the other's.

use std::time::Duration;

use relay_tests::tenants::Gateway;
use relay_tests::{Receiver, eventually};
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn tenants_ingest_deliver_and_administer_only_their_own_objects() {
    let (receiver_a, receiver_b) = (Receiver::ok().await, Receiver::ok().await);
    let gw = Gateway::start().await;
    let a = gw.tenant("acme", json!({})).await;
    gw.objects(&a, &receiver_a).await;
    let b = gw.tenant("globex", json!({})).await;
    gw.objects(&b, &receiver_b).await;

    // The same source name and idempotency key in two tenants: two events, one delivery each.
    let (status, _, first) = gw
        .ingest("/webhooks/acme/orders", "order-1", r#"{"for":"acme"}"#)
        .await;
    assert_eq!(
        (status, first["status"].as_str()),
        (200, Some("accepted")),
        "{first}"
    );
    let (status, _, second) = gw
        .ingest("/webhooks/globex/orders", "order-1", r#"{"for":"globex"}"#)
        .await;
    assert_eq!(
        (status, second["status"].as_str()),
        (200, Some("accepted")),
        "{second}"
    );
    assert_ne!(first["event_id"], second["event_id"]);
    let (_, _, again) = gw
        .ingest("/webhooks/acme/orders/", "order-1", r#"{"for":"acme"}"#)
        .await;
    assert_eq!(
        (again["status"].as_str(), &again["event_id"]),
        (Some("duplicate"), &first["event_id"])
    );
    for (receiver, body) in [(&receiver_a, "acme"), (&receiver_b, "globex")] {
        eventually(Duration::from_secs(10), || async {
            (receiver.count() >= 1).then_some(())
        })
        .await
        .expect("delivered");
        let got: Vec<Value> = (receiver.received().iter())
            .map(|r| serde_json::from_slice(&r.body).expect("json"))
            .collect();
        assert_eq!(
            got,
            [json!({"for": body})],
            "each tenant's destination gets its own event only"
        );
    }

    // Unknown tenant, and the default tenant (which has no source `orders`): 404.
    for path in [
        "/webhooks/initech/orders",
        "/webhooks/orders",
        "/webhooks/default/orders",
    ] {
        let (status, _, body) = gw.ingest(path, "x", "{}").await;
        assert_eq!(
            (status, body["error"].as_str()),
            (404, Some("unknown_source")),
            "{path}"
        );
    }

    // Each tenant's admin sees its own objects and events only.
    for (token, own, other) in [(&a, &first, &second), (&b, &second, &first)] {
        for kind in ["sources", "destinations", "routes"] {
            let (status, list) = gw
                .call(Method::GET, &format!("/api/v1/{kind}"), token, None)
                .await;
            assert_eq!(status, 200);
            assert_eq!(list.as_array().map(Vec::len), Some(1), "{kind}: {list}");
        }
        // The ingest path a tenant's admin is shown is the one that resolves in its tenant.
        let (_, sources) = gw.call(Method::GET, "/api/v1/sources", token, None).await;
        let tenant = if token == &a { "acme" } else { "globex" };
        assert_eq!(
            sources[0]["ingest_path"].as_str(),
            Some(format!("/webhooks/{tenant}/orders").as_str()),
            "{sources}"
        );
        let (_, events) = gw.call(Method::GET, "/api/v1/events", token, None).await;
        let ids: Vec<&Value> = events["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| &e["id"])
            .collect();
        assert_eq!(ids, [&own["event_id"]], "{events}");
        let other_id = other["event_id"].as_str().expect("id");
        for (method, path) in [
            (Method::GET, format!("/api/v1/events/{other_id}")),
            (Method::POST, format!("/api/v1/events/{other_id}/replay")),
        ] {
            let (status, body) = gw.call(method.clone(), &path, token, Some(json!({}))).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (404, Some("not_found")),
                "{method} {path}: {body}"
            );
        }
    }
    // Changing one tenant's object leaves the other's of the same name alone.
    let (status, _) = gw
        .call(Method::POST, "/api/v1/sources/orders/disable", &a, None)
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = gw.ingest("/webhooks/acme/orders", "order-2", "{}").await;
    assert_eq!(status, 404, "acme's source is disabled");
    let (status, _, _) = gw.ingest("/webhooks/globex/orders", "order-2", "{}").await;
    assert_eq!(status, 200, "globex's source of the same name is not");
    eventually(Duration::from_secs(10), || async {
        (receiver_b.count() >= 2).then_some(())
    })
    .await
    .expect("delivered to globex");
    let (status, _) = gw
        .call(Method::DELETE, "/api/v1/routes/all", &b, None)
        .await;
    assert_eq!(status, 204);
    let (_, routes) = gw.call(Method::GET, "/api/v1/routes", &a, None).await;
    assert_eq!(
        routes.as_array().map(Vec::len),
        Some(1),
        "acme keeps its route: {routes}"
    );

    // A replay in its own tenant goes to its own destination again.
    let own_id = first["event_id"].as_str().expect("id");
    let (status, body) = gw
        .call(
            Method::POST,
            &format!("/api/v1/events/{own_id}/replay"),
            &a,
            Some(json!({"force": true})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    eventually(Duration::from_secs(10), || async {
        (receiver_a.count() >= 2).then_some(())
    })
    .await
    .expect("replayed to acme's destination");
    assert_eq!(
        receiver_b.count(),
        2,
        "globex got its two events and nothing of acme's"
    );
}
