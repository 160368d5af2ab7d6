//! The tenant registry through the admin API: platform admins (admins of `default`) manage
//! tenants and give each its first API key; a tenant's key sees none of it.

use relay_tests::Receiver;
use relay_tests::admin::AdminApi;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn platform_admins_manage_tenants_and_tenant_keys_see_404() {
    let receiver = Receiver::ok().await;
    let api = AdminApi::start(&receiver, 1).await;
    let call = |method: Method, path: &'static str, token: String, body| {
        let api = &api;
        async move { api.call(method, path, Some(&token), body).await }
    };
    let admin = api.admin.clone();

    let (status, body) = call(Method::GET, "/api/v1/tenants", admin.clone(), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["name"], "default", "default always exists: {body}");

    let acme = json!({"name": "acme", "limits": {"rate_per_second": 5, "daily_quota": 1000}});
    let (status, body) = call(
        Method::POST,
        "/api/v1/tenants",
        admin.clone(),
        Some(acme.clone()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["limits"],
        json!({"rate_per_second": 5, "daily_quota": 1000})
    );
    let (status, body) = call(Method::POST, "/api/v1/tenants", admin.clone(), Some(acme)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    for (bad, field) in [
        (json!({"name": "no/slash"}), "name"),
        (json!({"name": "default"}), ""),
        (
            json!({"name": "z", "limits": {"daily_quota": 0}}),
            "limits.daily_quota",
        ),
        (json!({"name": "z", "limits": {"burst": 3}}), "limits.burst"),
        (
            json!({"name": "z", "limits": {"rate_per_second": 1_000_001}}),
            "limits.rate_per_second",
        ),
        (
            json!({"name": "z", "limits": {"max_routes": 2_000_000}}),
            "limits.max_routes",
        ),
        (json!({"name": "z", "limits": [null]}), "limits"),
    ] {
        let (status, body) = call(
            Method::POST,
            "/api/v1/tenants",
            admin.clone(),
            Some(bad.clone()),
        )
        .await;
        if field.is_empty() {
            assert_eq!(status, 409, "{bad}: {body}");
        } else {
            assert_eq!(
                (status, body["fields"][0]["field"].as_str()),
                (422, Some(field)),
                "{bad}: {body}"
            );
        }
    }

    let (status, key) = call(
        Method::POST,
        "/api/v1/tenants/acme/api-keys",
        admin.clone(),
        Some(json!({"name": "acme-admin", "role": "admin"})),
    )
    .await;
    assert_eq!(status, 201, "{key}");
    let acme_token = key["token"].as_str().expect("token").to_owned();
    let (status, me) = call(Method::GET, "/api/v1/auth/me", acme_token.clone(), None).await;
    assert_eq!((status, me["tenant"].as_str()), (200, Some("acme")), "{me}");
    let (status, _) = call(
        Method::POST,
        "/api/v1/tenants/nope/api-keys",
        admin.clone(),
        Some(json!({"name": "x", "role": "admin"})),
    )
    .await;
    assert_eq!(status, 404, "no key for a tenant that does not exist");

    // The tenant's own admin is no platform admin: every registry operation is a 404.
    for (method, path, body) in [
        (Method::GET, "/api/v1/tenants", None),
        (Method::GET, "/api/v1/tenants/acme", None),
        (
            Method::POST,
            "/api/v1/tenants",
            Some(json!({"name": "mine"})),
        ),
        (
            Method::PUT,
            "/api/v1/tenants/acme",
            Some(json!({"limits": {}})),
        ),
        (Method::DELETE, "/api/v1/tenants/acme", None),
        (
            Method::POST,
            "/api/v1/tenants/default/api-keys",
            Some(json!({"name": "x", "role": "admin"})),
        ),
    ] {
        let (status, answer) = call(method.clone(), path, acme_token.clone(), body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (404, Some("not_found")),
            "{method} {path}: {answer}"
        );
    }
    // The tenant's keys are its own: the platform's list does not show them.
    let (_, keys) = call(Method::GET, "/api/v1/api-keys", admin.clone(), None).await;
    assert!(
        keys.as_array()
            .expect("keys")
            .iter()
            .all(|k| k["name"] != "acme-admin"),
        "{keys}"
    );

    let (status, body) = call(
        Method::PUT,
        "/api/v1/tenants/acme",
        admin.clone(),
        Some(json!({"limits": {"max_sources": 2}})),
    )
    .await;
    assert_eq!(
        (status, body["limits"].clone()),
        (200, json!({"max_sources": 2})),
        "{body}"
    );
    let (status, body) = call(Method::DELETE, "/api/v1/tenants/acme", admin.clone(), None).await;
    assert_eq!(status, 409, "the tenant still has a key: {body}");
    let (status, _) = call(
        Method::DELETE,
        "/api/v1/tenants/default",
        admin.clone(),
        None,
    )
    .await;
    assert_eq!(status, 409, "default cannot be deleted");
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/api-keys/{}", key["id"].as_str().expect("id")),
            Some(&acme_token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = call(Method::DELETE, "/api/v1/tenants/acme", admin.clone(), None).await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = call(Method::GET, "/api/v1/tenants/acme", admin.clone(), None).await;
    assert_eq!(status, 404);
    let (_, audit) = call(Method::GET, "/api/v1/audit?object_kind=tenant", admin, None).await;
    let actions: Vec<_> = audit["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["object_kind"] == "tenant")
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(actions, ["delete", "update", "create"], "{audit}");
}

#[tokio::test]
async fn a_tenants_users_log_in_with_their_tenant() {
    let receiver = Receiver::ok().await;
    let api = AdminApi::start(&receiver, 1).await;
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v1/tenants",
            Some(&api.admin),
            Some(json!({"name": "acme"})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, key) = api
        .call(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            Some(&api.admin),
            Some(json!({"name": "acme-admin", "role": "admin"})),
        )
        .await;
    let token = key["token"].as_str().expect("token");
    let user = json!({"username": "ada", "password": "a long enough password", "role": "operator"});
    let (status, _) = api
        .call(Method::POST, "/api/v1/users", Some(token), Some(user))
        .await;
    assert_eq!(status, 201);
    let login = |tenant: Option<&str>| {
        let mut body = json!({"username": "ada", "password": "a long enough password"});
        if let Some(tenant) = tenant {
            body["tenant"] = json!(tenant);
        }
        api.call(Method::POST, "/api/v1/auth/login", None, Some(body))
    };
    let (status, me) = login(Some("acme")).await;
    assert_eq!((status, me["tenant"].as_str()), (200, Some("acme")), "{me}");
    for other in [None, Some("default"), Some("globex"), Some("no/such")] {
        let (status, body) = login(other).await;
        assert_eq!(status, 401, "{other:?}: {body}");
    }
}
