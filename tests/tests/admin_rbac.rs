//! The RBAC matrix: every admin endpoint × no key / viewer / operator / admin → the expected
//! status, and every endpoint of the OpenAPI description is in the matrix.

use std::collections::BTreeSet;
use std::time::Duration;

use relay_core::control::admin::Role;
use relay_core::model::event::DeliveryStatus;
use relay_tests::admin::{AdminApi, DESTINATION};
use relay_tests::{Answer, Receiver, eventually};
use reqwest::Method;
use serde_json::{Value, json};

/// One endpoint: the documented path, a concrete request, the lowest role that may call it
/// (`None`: public) and the status a permitted call gets.
struct Row {
    method: Method,
    template: &'static str,
    path: String,
    body: Option<Value>,
    needs: Option<Role>,
    ok: u16,
}

fn row(
    method: Method,
    template: &'static str,
    path: impl Into<String>,
    needs: Option<Role>,
    ok: u16,
) -> Row {
    Row {
        method,
        template,
        path: path.into(),
        body: None,
        needs,
        ok,
    }
}

fn with(mut r: Row, body: Value) -> Row {
    r.body = Some(body);
    r
}

/// A running admin API with a dead letter, and the matrix's rows for it, in order (each
/// row may rely on what the rows before it made).
async fn setup(receiver: &Receiver) -> (AdminApi, Vec<Row>) {
    let api = AdminApi::start(receiver, 1).await;
    let event = api.pipeline.send("rbac-1").await;
    let relay = api.pipeline.relay.clone();
    let dead = eventually(Duration::from_secs(15), || {
        let relay = relay.clone();
        async move {
            let deliveries = relay
                .store()
                .deliveries(&Default::default(), event)
                .await
                .ok()?;
            deliveries
                .into_iter()
                .find(|d| d.status == DeliveryStatus::DeadLettered)
        }
    })
    .await
    .expect("the delivery dead-letters");
    let (status, key) = api
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&api.admin),
            Some(json!({"name": "doomed", "role": "viewer"})),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    let doomed_key = key["id"].as_str().expect("id").to_owned();
    let (status, _) = api
        .call(Method::POST, "/api/v1/users", Some(&api.admin),
            Some(json!({"username": "doomed", "password": "a long enough password", "role": "viewer"})))
        .await;
    assert_eq!(status, 201);

    let rows = matrix(&event.to_string(), &dead.id.to_string(), &doomed_key);
    (api, rows)
}

/// Every documented endpoint, in an order in which each call can succeed.
fn matrix(event: &str, dead: &str, doomed_key: &str) -> Vec<Row> {
    let (v, o, a) = (Some(Role::Viewer), Some(Role::Operator), Some(Role::Admin));
    vec![
        row(
            Method::GET,
            "/api/v1/openapi.json",
            "/api/v1/openapi.json",
            None,
            200,
        ),
        with(
            row(
                Method::POST,
                "/api/v1/auth/login",
                "/api/v1/auth/login",
                None,
                200,
            ),
            json!({"username": "doomed", "password": "a long enough password"}),
        ),
        row(
            Method::POST,
            "/api/v1/auth/logout",
            "/api/v1/auth/logout",
            None,
            204,
        ),
        row(Method::GET, "/api/v1/auth/me", "/api/v1/auth/me", v, 200),
        row(Method::GET, "/api/v1/events", "/api/v1/events", v, 200),
        with(
            row(Method::POST, "/api/v1/events", "/api/v1/events", o, 202),
            json!({"event_type": "rbac.published", "payload": {"n": 1}}),
        ),
        row(
            Method::GET,
            "/api/v1/event-types",
            "/api/v1/event-types",
            v,
            200,
        ),
        row(
            Method::GET,
            "/api/v1/events/{id}",
            format!("/api/v1/events/{event}"),
            v,
            200,
        ),
        with(
            row(
                Method::POST,
                "/api/v1/events/{id}/replay",
                format!("/api/v1/events/{event}/replay"),
                o,
                200,
            ),
            json!({}),
        ),
        with(
            row(
                Method::POST,
                "/api/v1/events/replay",
                "/api/v1/events/replay",
                o,
                200,
            ),
            json!({"dry_run": true}),
        ),
        row(
            Method::GET,
            "/api/v1/dead-letters",
            "/api/v1/dead-letters",
            v,
            200,
        ),
        row(
            Method::POST,
            "/api/v1/dead-letters/{id}/replay",
            format!("/api/v1/dead-letters/{dead}/replay"),
            o,
            200,
        ),
        row(
            Method::POST,
            "/api/v1/dead-letters/{id}/discard",
            format!("/api/v1/dead-letters/{dead}/discard"),
            o,
            200,
        ),
        with(
            row(
                Method::POST,
                "/api/v1/dead-letters/replay",
                "/api/v1/dead-letters/replay",
                o,
                200,
            ),
            json!({"destination": DESTINATION}),
        ),
        with(
            row(
                Method::POST,
                "/api/v1/dead-letters/discard",
                "/api/v1/dead-letters/discard",
                o,
                200,
            ),
            json!({}),
        ),
        row(Method::GET, "/api/v1/audit", "/api/v1/audit", v, 200),
        row(
            Method::GET,
            "/api/v1/signature-failures",
            "/api/v1/signature-failures",
            v,
            200,
        ),
        row(
            Method::GET,
            "/api/v1/metrics/points",
            "/api/v1/metrics/points",
            v,
            200,
        ),
        row(Method::GET, "/api/v1/sources", "/api/v1/sources", v, 200),
        with(
            row(Method::POST, "/api/v1/sources", "/api/v1/sources", a, 201),
            json!({"name": "forms", "scheme": "standard_webhooks"}),
        ),
        row(
            Method::GET,
            "/api/v1/sources/{name}",
            "/api/v1/sources/forms",
            v,
            200,
        ),
        with(
            row(
                Method::PUT,
                "/api/v1/sources/{name}",
                "/api/v1/sources/forms",
                a,
                200,
            ),
            json!({"name": "forms", "scheme": "standard_webhooks", "max_body_bytes": 4096}),
        ),
        with(
            row(
                Method::POST,
                "/api/v1/sources/{name}/rotate-secret",
                "/api/v1/sources/forms/rotate-secret",
                a,
                200,
            ),
            json!({"overlap_secs": 60}),
        ),
        row(
            Method::POST,
            "/api/v1/sources/{name}/disable",
            "/api/v1/sources/forms/disable",
            o,
            204,
        ),
        row(
            Method::POST,
            "/api/v1/sources/{name}/enable",
            "/api/v1/sources/forms/enable",
            o,
            204,
        ),
        row(
            Method::GET,
            "/api/v1/destinations",
            "/api/v1/destinations",
            v,
            200,
        ),
        with(
            row(
                Method::POST,
                "/api/v1/destinations",
                "/api/v1/destinations",
                a,
                201,
            ),
            json!({"name": "crm", "url": "http://127.0.0.1:9/hooks"}),
        ),
        row(
            Method::GET,
            "/api/v1/destinations/{name}",
            "/api/v1/destinations/crm",
            v,
            200,
        ),
        with(
            row(
                Method::PUT,
                "/api/v1/destinations/{name}",
                "/api/v1/destinations/crm",
                a,
                200,
            ),
            json!({"name": "crm", "url": "http://127.0.0.1:9/v2", "timeout_ms": 2000}),
        ),
        row(
            Method::POST,
            "/api/v1/destinations/{name}/disable",
            format!("/api/v1/destinations/{DESTINATION}/disable"),
            o,
            204,
        ),
        row(
            Method::POST,
            "/api/v1/destinations/{name}/enable",
            format!("/api/v1/destinations/{DESTINATION}/enable"),
            o,
            204,
        ),
        row(Method::GET, "/api/v1/routes", "/api/v1/routes", v, 200),
        row(
            Method::GET,
            "/api/v1/transformers",
            "/api/v1/transformers",
            v,
            200,
        ),
        // This app has no configuration file: 409 for whoever may ask.
        row(
            Method::POST,
            "/api/v1/config/reload",
            "/api/v1/config/reload",
            a,
            409,
        ),
        with(
            row(Method::POST, "/api/v1/routes", "/api/v1/routes", a, 201),
            json!({"name": "form-posts", "source": "forms", "destinations": ["crm"]}),
        ),
        row(
            Method::GET,
            "/api/v1/routes/{name}",
            "/api/v1/routes/form-posts",
            v,
            200,
        ),
        with(
            row(
                Method::PUT,
                "/api/v1/routes/{name}",
                "/api/v1/routes/form-posts",
                a,
                200,
            ),
            json!({"name": "form-posts", "source": "forms", "destinations": ["crm"], "priority": 5}),
        ),
        with(
            row(
                Method::POST,
                "/api/v1/routes/{name}/test",
                "/api/v1/routes/form-posts/test",
                v,
                200,
            ),
            json!({"event_type": "form.submitted", "payload": {"email": "a@example.com"}}),
        ),
        row(
            Method::POST,
            "/api/v1/routes/{name}/disable",
            "/api/v1/routes/form-posts/disable",
            o,
            204,
        ),
        row(
            Method::POST,
            "/api/v1/routes/{name}/enable",
            "/api/v1/routes/form-posts/enable",
            o,
            204,
        ),
        with(
            row(
                Method::POST,
                "/api/v1/subscriptions",
                "/api/v1/subscriptions",
                a,
                201,
            ),
            json!({"destination": {"name": "acme", "url": "http://127.0.0.1:9/acme"},
                "source": "forms", "event_types": ["form.*"]}),
        ),
        row(
            Method::DELETE,
            "/api/v1/subscriptions/{name}",
            "/api/v1/subscriptions/acme",
            a,
            204,
        ),
        row(
            Method::DELETE,
            "/api/v1/routes/{name}",
            "/api/v1/routes/form-posts",
            a,
            204,
        ),
        row(
            Method::DELETE,
            "/api/v1/destinations/{name}",
            "/api/v1/destinations/crm",
            a,
            204,
        ),
        row(
            Method::DELETE,
            "/api/v1/sources/{name}",
            "/api/v1/sources/forms",
            a,
            204,
        ),
        row(Method::GET, "/api/v1/agents", "/api/v1/agents", v, 200),
        with(
            row(Method::POST, "/api/v1/agents", "/api/v1/agents", a, 201),
            json!({"name": "rbac-agent"}),
        ),
        row(
            Method::POST,
            "/api/v1/agents/{name}/rotate",
            "/api/v1/agents/rbac-agent/rotate",
            a,
            200,
        ),
        row(
            Method::POST,
            "/api/v1/agents/{name}/revoke",
            "/api/v1/agents/rbac-agent/revoke",
            a,
            200,
        ),
        row(
            Method::DELETE,
            "/api/v1/agents/{name}",
            "/api/v1/agents/rbac-agent",
            a,
            204,
        ),
        row(Method::GET, "/api/v1/api-keys", "/api/v1/api-keys", a, 200),
        with(
            row(Method::POST, "/api/v1/api-keys", "/api/v1/api-keys", a, 201),
            json!({"name": "new", "role": "viewer"}),
        ),
        row(
            Method::DELETE,
            "/api/v1/api-keys/{id}",
            format!("/api/v1/api-keys/{doomed_key}"),
            a,
            204,
        ),
        row(Method::GET, "/api/v1/users", "/api/v1/users", a, 200),
        with(
            row(Method::POST, "/api/v1/users", "/api/v1/users", a, 201),
            json!({"username": "new-user", "password": "a long enough password", "role": "operator"}),
        ),
        row(
            Method::DELETE,
            "/api/v1/users/{username}",
            "/api/v1/users/doomed",
            a,
            204,
        ),
        row(Method::GET, "/api/v1/tenants", "/api/v1/tenants", a, 200),
        with(
            row(Method::POST, "/api/v1/tenants", "/api/v1/tenants", a, 201),
            json!({"name": "rbac-tenant", "limits": {"daily_quota": 100}}),
        ),
        row(
            Method::GET,
            "/api/v1/tenants/{name}",
            "/api/v1/tenants/rbac-tenant",
            a,
            200,
        ),
        with(
            row(
                Method::PUT,
                "/api/v1/tenants/{name}",
                "/api/v1/tenants/rbac-tenant",
                a,
                200,
            ),
            json!({"limits": {"rate_per_second": 10}}),
        ),
        with(
            row(
                Method::POST,
                "/api/v1/tenants/{name}/api-keys",
                "/api/v1/tenants/default/api-keys",
                a,
                201,
            ),
            json!({"name": "more", "role": "viewer"}),
        ),
        with(
            row(
                Method::POST,
                "/api/v1/tenants/{name}/portal-links",
                "/api/v1/tenants/rbac-tenant/portal-links",
                a,
                201,
            ),
            json!({"ttl_secs": 60}),
        ),
        row(
            Method::DELETE,
            "/api/v1/tenants/{name}",
            "/api/v1/tenants/rbac-tenant",
            a,
            204,
        ),
    ]
}

/// What a consumer-portal session may call (besides the public endpoints): its tenant's
/// traffic (read, replay, redrive, discard), destinations, routes and subscriptions
/// (everything), sources (read only). Everything else answers it 403.
const PORTAL_MAY: &[(&str, &str)] = &[
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/event-types"),
    ("GET", "/api/v1/events/{id}"),
    ("POST", "/api/v1/events/{id}/replay"),
    ("POST", "/api/v1/events/replay"),
    ("GET", "/api/v1/dead-letters"),
    ("POST", "/api/v1/dead-letters/{id}/replay"),
    ("POST", "/api/v1/dead-letters/{id}/discard"),
    ("POST", "/api/v1/dead-letters/replay"),
    ("POST", "/api/v1/dead-letters/discard"),
    ("GET", "/api/v1/sources"),
    ("GET", "/api/v1/sources/{name}"),
    ("GET", "/api/v1/destinations"),
    ("POST", "/api/v1/destinations"),
    ("GET", "/api/v1/destinations/{name}"),
    ("PUT", "/api/v1/destinations/{name}"),
    ("DELETE", "/api/v1/destinations/{name}"),
    ("POST", "/api/v1/destinations/{name}/enable"),
    ("POST", "/api/v1/destinations/{name}/disable"),
    ("GET", "/api/v1/routes"),
    ("POST", "/api/v1/routes"),
    ("GET", "/api/v1/routes/{name}"),
    ("PUT", "/api/v1/routes/{name}"),
    ("DELETE", "/api/v1/routes/{name}"),
    ("POST", "/api/v1/routes/{name}/enable"),
    ("POST", "/api/v1/routes/{name}/disable"),
    ("POST", "/api/v1/routes/{name}/test"),
    ("POST", "/api/v1/subscriptions"),
    ("DELETE", "/api/v1/subscriptions/{name}"),
    ("GET", "/api/v1/transformers"),
];

#[tokio::test]
async fn every_endpoint_answers_each_role_as_documented() {
    let receiver = Receiver::start([], Answer::Status(500)).await;
    let (api, rows) = setup(&receiver).await;
    let mut failures = Vec::new();
    let callers: [(&str, Option<Role>); 4] = [
        ("no key", None),
        ("viewer", Some(Role::Viewer)),
        ("operator", Some(Role::Operator)),
        ("admin", Some(Role::Admin)),
    ];
    for r in &rows {
        for (who, role) in callers {
            let token = role.map(|role| api.token(role).to_owned());
            let (status, body) = api
                .call(r.method.clone(), &r.path, token.as_deref(), r.body.clone())
                .await;
            let expected = match (r.needs, role) {
                (None, _) => r.ok,
                (Some(_), None) => 401,
                (Some(needed), Some(role)) if role < needed => 403,
                _ => r.ok,
            };
            if status != expected {
                failures.push(format!(
                    "{} {} as {who}: {status} (expected {expected}) {body}",
                    r.method, r.path
                ));
            }
            if status >= 400 {
                assert!(
                    body["error"].is_string(),
                    "{} {} as {who}: error body {body}",
                    r.method,
                    r.path
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "RBAC mismatches:\n{}",
        failures.join("\n")
    );

    let spec = api.get("/api/v1/openapi.json").await;
    assert_eq!(spec["openapi"].as_str().map(|v| &v[..3]), Some("3.1"));
    let documented: BTreeSet<(String, String)> = spec["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let tested: BTreeSet<(String, String)> = rows
        .iter()
        .filter(|r| r.template != "/api/v1/openapi.json")
        .map(|r| (r.method.as_str().to_owned(), r.template.to_owned()))
        .collect();
    assert_eq!(
        documented, tested,
        "the matrix covers exactly the documented endpoints"
    );
}

/// The portal column: the same rows, in order, with a fresh portal session of the default
/// tenant each (a row may log out). A row the portal may not call must answer it 403 (and is
/// then made by an admin, so that the rows after it find what they need); a row it may call
/// must answer it exactly as it answers an admin.
#[tokio::test]
async fn a_portal_session_may_manage_endpoints_and_traffic_and_nothing_else() {
    let receiver = Receiver::start([], Answer::Status(500)).await;
    let (api, rows) = setup(&receiver).await;
    let allowed: BTreeSet<(&str, &str)> = PORTAL_MAY.iter().copied().collect();
    let mut failures = Vec::new();
    for r in &rows {
        let cookie = relay_tests::portal::session(&api.base, &api.admin, "default").await;
        let (status, body) = relay_tests::portal::call(
            &api.base,
            r.method.clone(),
            &r.path,
            &cookie,
            r.body.clone(),
        )
        .await;
        let may = r.needs.is_none() || allowed.contains(&(r.method.as_str(), r.template));
        let expected = if may { r.ok } else { 403 };
        if status != expected {
            failures.push(format!(
                "{} {} as portal: {status} (expected {expected}) {body}",
                r.method, r.path
            ));
        }
        if !may {
            let (status, body) = api
                .call(r.method.clone(), &r.path, Some(&api.admin), r.body.clone())
                .await;
            assert_eq!(status, r.ok, "{} {} as admin: {body}", r.method, r.path);
        }
    }
    assert!(
        failures.is_empty(),
        "portal mismatches:\n{}",
        failures.join("\n")
    );
    let listed: BTreeSet<(&str, &str)> = (rows.iter())
        .map(|r| (r.method.as_str(), r.template))
        .collect();
    for endpoint in PORTAL_MAY {
        assert!(
            listed.contains(endpoint),
            "{endpoint:?} is not in the matrix"
        );
    }
}

#[tokio::test]
async fn bad_credentials_and_unknown_paths_get_json_errors() {
    let receiver = Receiver::ok().await;
    let api = AdminApi::start(&receiver, 1).await;
    for token in [
        "",
        "rk_",
        "rk_0123456789abcdef_wrong",
        "not-a-key",
        &format!("{}x", api.admin),
    ] {
        let (status, body) = api
            .call(Method::GET, "/api/v1/events", Some(token), None)
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized")),
            "{token:?}"
        );
    }
    // (method, path, body, status, where the answer names the problem)
    let cases = [
        (
            Method::GET,
            "/api/v1/nope",
            None,
            404,
            ("error", "not_found"),
        ),
        (
            Method::GET,
            "/api/v1/events/evt_nope",
            None,
            404,
            ("error", "not_found"),
        ),
        (
            Method::GET,
            "/api/v1/events?limit=0",
            None,
            422,
            ("field", "limit"),
        ),
        (
            Method::GET,
            "/api/v1/events?since=yesterday",
            None,
            422,
            ("field", "since"),
        ),
        (
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({"name": "x", "role": "root"})),
            422,
            ("field", "role"),
        ),
        (
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({"name": 5, "role": "viewer"})),
            422,
            ("field", "name"),
        ),
    ];
    for (method, path, body, expected, (key, named)) in cases {
        let (status, answer) = api.call(method, path, Some(&api.admin), body).await;
        let found = match key {
            "error" => answer["error"].as_str(),
            _ => answer["fields"][0]["field"].as_str(),
        };
        assert_eq!((status, found), (expected, Some(named)), "{path}: {answer}");
    }
}

#[tokio::test]
async fn the_dashboard_is_public_static_files_outside_the_api_description() {
    let receiver = Receiver::ok().await;
    let api = AdminApi::start(&receiver, 1).await;
    let client = relay_core::tls::client();
    let files = relay_axum::dashboard::ASSETS.iter().map(|a| {
        let path = match a.name {
            "index.html" => "/".to_owned(),
            name => format!("/dashboard/{name}"),
        };
        (path, a)
    });
    for (path, asset) in files {
        let response = client
            .get(format!("{}{path}", api.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200, "{path} without credentials");
        let header = |name: &str| {
            let value = response.headers().get(name).and_then(|v| v.to_str().ok());
            value.unwrap_or_default().to_owned()
        };
        assert_eq!(header("content-type"), asset.content_type, "{path}");
        assert!(
            header("content-security-policy").starts_with("default-src 'self'"),
            "{path}"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("cache-control"), "no-cache");
        let etag = header("etag");
        // The page links its files relative to itself (`dashboard/…`); served at `/` it names
        // them under the mount point (the root here).
        let expected = match path.as_str() {
            "/" => asset.body.replace("=\"dashboard/", "=\"/dashboard/"),
            _ => asset.body.to_owned(),
        };
        assert_eq!(response.text().await.expect("body"), expected);
        let again = client
            .get(format!("{}{path}", api.base))
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("answer");
        assert_eq!(again.status(), 304, "{path} revalidates with its ETag");
    }
    for path in [
        "/dashboard/nope.js",
        "/dashboard/index.html",
        "/dashboard/..%2FCargo.toml",
        "/dashboard/app.js/x",
    ] {
        let response = client
            .get(format!("{}{path}", api.base))
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 404, "{path}");
    }
    let spec = api.get("/api/v1/openapi.json").await;
    let paths = spec["paths"].as_object().expect("paths");
    assert!(
        paths.keys().all(|p| p.starts_with("/api/v1/")),
        "static pages are not API operations: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
}
