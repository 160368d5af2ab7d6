//! The consumer portal over HTTP: a platform admin's link logs a customer in once (a second
//! use and an expired link are refused), its session has the `portal` role in that tenant
//! only, bad requests are refused with the project's JSON errors, and both the link and its
//! use are in the tenant's audit log.

use std::time::Duration;

use relay_tests::Receiver;
use relay_tests::portal::{self, create_link, open};
use relay_tests::tenants::Gateway;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_link_logs_in_once_and_its_session_is_a_portal_of_that_tenant() {
    let gw = Gateway::start().await;
    let receiver = Receiver::ok().await;
    let acme = gw.tenant("acme", json!({})).await;
    gw.objects(&acme, &receiver).await;

    let (status, link) = create_link(&gw.base, &gw.platform, "acme", json!({})).await;
    assert_eq!(status, 201, "{link}");
    let url = link["url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!("{}/portal/rpl_", gw.base)),
        "{url}"
    );
    assert!(
        link["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{link}"
    );

    let first = open(url).await;
    assert_eq!(first.status, 303, "{first:?}");
    assert_eq!(first.location.as_deref(), Some("/#/events"));
    let cookie = first.cookie.clone().expect("a session cookie");
    let second = open(url).await;
    assert_eq!(second.status, 401, "a second use is refused: {second:?}");
    assert!(second.cookie.is_none() && second.body.contains("already used"));

    let (status, me) = portal::call(&gw.base, Method::GET, "/api/v1/auth/me", &cookie, None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["tenant"].as_str(), me["role"].as_str()),
        (Some("acme"), Some("portal"))
    );
    let actor = me["actor"].as_str().expect("actor").to_owned();
    assert_eq!(
        actor,
        format!("portal:{}", link["id"].as_str().expect("id"))
    );

    // It manages the tenant's endpoints and subscriptions and sees its traffic...
    let call = |method: Method, path: &'static str, body: Option<serde_json::Value>| {
        let (base, cookie) = (gw.base.clone(), cookie.clone());
        async move { portal::call(&base, method, path, &cookie, body).await }
    };
    let endpoint = json!({"name": "customer-endpoint", "url": receiver.url});
    assert_eq!(
        call(Method::POST, "/api/v1/destinations", Some(endpoint))
            .await
            .0,
        201
    );
    let subscription = json!({"name": "customer-orders", "event_types": ["order.*"],
        "destinations": ["customer-endpoint"]});
    assert_eq!(
        call(Method::POST, "/api/v1/routes", Some(subscription))
            .await
            .0,
        201
    );
    for path in ["/api/v1/events", "/api/v1/dead-letters", "/api/v1/sources"] {
        assert_eq!(call(Method::GET, path, None).await.0, 200, "{path}");
    }
    // ...and nothing else.
    for (method, path, body) in [
        (Method::GET, "/api/v1/audit", None),
        (Method::GET, "/api/v1/api-keys", None),
        (Method::GET, "/api/v1/users", None),
        (Method::GET, "/api/v1/metrics/points", None),
        (Method::GET, "/api/v1/agents", None),
        (
            Method::POST,
            "/api/v1/sources",
            Some(json!({"name": "mine", "scheme": "none"})),
        ),
        (
            Method::POST,
            "/api/v1/events",
            Some(json!({"event_type": "order.created", "payload": {}})),
        ),
        (
            Method::POST,
            "/api/v1/sources/orders/rotate-secret",
            Some(json!({})),
        ),
        (Method::POST, "/api/v1/sources/orders/disable", None),
    ] {
        let (status, answer) = call(method.clone(), path, body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (403, Some("forbidden")),
            "{method} {path}"
        );
    }
    for path in ["/api/v1/tenants", "/api/v1/tenants/acme"] {
        assert_eq!(call(Method::GET, path, None).await.0, 404, "{path}");
    }

    // Created and used, both audited in the tenant (what its own admin sees).
    let (_, audit) = gw
        .call(
            Method::GET,
            "/api/v1/audit?object_kind=portal_link",
            &acme,
            None,
        )
        .await;
    let entries: Vec<(&str, &str)> = (audit["items"].as_array().expect("items").iter())
        .map(|e| {
            (
                e["action"].as_str().unwrap_or(""),
                e["actor"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(entries.contains(&("login", actor.as_str())), "{audit}");
    assert!(
        entries.iter().any(|(action, _)| *action == "create"),
        "{audit}"
    );
    let made = call(Method::GET, "/api/v1/audit", None).await;
    assert_eq!(made.0, 403);

    // Logging out ends the session.
    assert_eq!(
        call(Method::POST, "/api/v1/auth/logout", Some(json!({})))
            .await
            .0,
        204
    );
    assert_eq!(call(Method::GET, "/api/v1/auth/me", None).await.0, 401);
}

#[tokio::test]
async fn an_expired_link_is_refused_and_concurrent_uses_log_in_once() {
    let gw = Gateway::start().await;
    gw.tenant("acme", json!({})).await;
    let (status, link) = create_link(&gw.base, &gw.platform, "acme", json!({"ttl_secs": 1})).await;
    assert_eq!(status, 201, "{link}");
    // Wait until the link has expired (nothing is timed: it only has to be later).
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let late = open(link["url"].as_str().expect("url")).await;
    assert_eq!(late.status, 401, "{late:?}");
    assert!(late.cookie.is_none());

    let (_, link) = create_link(&gw.base, &gw.platform, "acme", json!({"ttl_secs": 600})).await;
    let url = link["url"].as_str().expect("url").to_owned();
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { open(&url).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.expect("task"));
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 401, 401, 401, 401, 401, 401, 401]);
}

#[tokio::test]
async fn bad_requests_unknown_tenants_and_non_platform_admins_are_refused() {
    let gw = Gateway::start().await;
    let acme = gw.tenant("acme", json!({})).await;
    for (body, field) in [
        (json!({"ttl_secs": 0}), "ttl_secs"),
        (json!({"ttl_secs": 86_401}), "ttl_secs"),
        (json!({"ttl_secs": "soon"}), "ttl_secs"),
        (json!({"ttl_secs": -5}), "ttl_secs"),
        (json!({"role": "admin"}), "body"),
    ] {
        let (status, answer) = create_link(&gw.base, &gw.platform, "acme", body.clone()).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (422, Some("invalid")),
            "{body}: {answer}"
        );
        let named = answer["fields"][0]["field"].as_str().unwrap_or_default();
        assert!(named.contains(field) || field == "body", "{body}: {answer}");
    }
    let (status, answer) = create_link(&gw.base, &gw.platform, "nope", json!({})).await;
    assert_eq!((status, answer["error"].as_str()), (404, Some("not_found")));
    let (status, _) =
        create_link(&gw.base, &gw.platform, "acme", json!({"ttl_secs": 86_400})).await;
    assert_eq!(status, 201, "24 hours is allowed");
    // A tenant's own admin is not a platform admin: the tenant registry is not theirs (404).
    let (status, _) = create_link(&gw.base, &acme, "acme", json!({})).await;
    assert_eq!(status, 404);
    // A default-tenant key below admin: 403.
    let viewer = gw
        .ok(
            Method::POST,
            "/api/v1/api-keys",
            &gw.platform,
            json!({"name": "v", "role": "viewer"}),
        )
        .await;
    let viewer = viewer["token"].as_str().expect("token");
    let (status, answer) = create_link(&gw.base, viewer, "acme", json!({})).await;
    assert_eq!((status, answer["error"].as_str()), (403, Some("forbidden")));
    // Without credentials: 401. An unknown token: 401 with a page, no cookie.
    let (status, _) = create_link(&gw.base, "", "acme", json!({})).await;
    assert_eq!(status, 401);
    let unknown = open(&format!("{}/portal/rpl_nothing", gw.base)).await;
    assert_eq!((unknown.status, unknown.cookie), (401, None));
}
