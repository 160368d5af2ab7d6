use relay_core::control::admin::{Principal, Role};
use relay_core::model::ids::TenantId;

use super::*;

fn request(method: Method, path: &str, token: Option<&str>, body: &str) -> http::Request<Bytes> {
    let mut builder = http::Request::builder().method(method).uri(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder
        .body(Bytes::copy_from_slice(body.as_bytes()))
        .expect("request")
}

async fn call(plane: &ControlPlane, request: http::Request<Bytes>) -> (u16, serde_json::Value) {
    let reply = plane
        .handle(request, ClientInfo::default())
        .await
        .expect("the control plane's path");
    let body = serde_json::from_slice(reply.body()).unwrap_or(serde_json::Value::Null);
    (reply.status().as_u16(), body)
}

#[test]
fn every_path_of_the_table_is_a_valid_distinct_pattern() {
    let mut all = table::api();
    all.extend(table::dashboard());
    all.extend(table::health());
    let router = Router::new(all.clone()).expect("valid table");
    assert!(router.paths().len() > 40);
    assert!(answers(&all, &Method::GET, "/api/v1/events"));
    assert!(answers(&all, &Method::PATCH, "/api/v1/{*rest}"));
}

#[tokio::test]
async fn keys_roles_bodies_and_unknown_paths_answer_as_the_api_says() {
    let relay = Relay::builder().build().expect("relay");
    let admin = Principal::system(TenantId::default());
    let access = relay.access();
    let key = access
        .create_api_key(&admin, "ops", Role::Admin)
        .await
        .expect("key");
    let viewer = (access.create_api_key(&admin, "look", Role::Viewer).await).expect("key");
    let (key, viewer) = (
        key.token.expose().to_owned(),
        viewer.token.expose().to_owned(),
    );
    let plane = ControlPlane::new(relay, AdminOptions::default());

    let (status, body) = call(&plane, request(Method::GET, "/api/v1/events", None, "")).await;
    assert_eq!(
        (status, body),
        (401, serde_json::json!({"error": "unauthorized"}))
    );
    let (status, body) = call(
        &plane,
        request(Method::GET, "/api/v1/api-keys", Some(&key), ""),
    )
    .await;
    assert_eq!((status, body.as_array().map(Vec::len)), (200, Some(2)));
    let create = r#"{"name":"ci","role":"viewer"}"#;
    let (status, _) = call(
        &plane,
        request(Method::POST, "/api/v1/api-keys", Some(&viewer), create),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        &plane,
        request(Method::POST, "/api/v1/api-keys", Some(&key), create),
    )
    .await;
    assert_eq!((status, &body["name"]), (201, &serde_json::json!("ci")));
    let (status, body) = call(
        &plane,
        request(
            Method::POST,
            "/api/v1/api-keys",
            Some(&key),
            r#"{"name":"x","role":"god"}"#,
        ),
    )
    .await;
    assert_eq!(
        (status, &body["fields"][0]["field"]),
        (422, &serde_json::json!("role"))
    );
    let (status, body) = call(
        &plane,
        request(Method::GET, "/api/v1/nothing/here", Some(&key), ""),
    )
    .await;
    assert_eq!(
        (status, body),
        (404, serde_json::json!({"error": "not_found"}))
    );
    let reply = plane
        .handle(
            request(Method::DELETE, "/api/v1/events", Some(&key), ""),
            ClientInfo::default(),
        )
        .await
        .expect("the plane's path");
    assert_eq!(reply.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers()[header::ALLOW], "GET,HEAD,POST");
    let (status, body) = call(
        &plane,
        request(Method::GET, "/api/v1/sources/no%20such", Some(&key), ""),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (404, &serde_json::json!("not_found"))
    );
}

#[tokio::test]
async fn the_dashboard_shares_its_root_and_can_be_left_out() {
    let relay = Relay::builder().build().expect("relay");
    let plane = ControlPlane::new(relay.clone(), AdminOptions::default());
    assert!(plane.serves(&Method::GET, "/"));
    assert!(!plane.serves(&Method::POST, "/"));
    assert!(plane.serves(&Method::GET, "/dashboard/app.js"));
    assert!(!plane.serves(&Method::GET, "/healthz"));
    let options = AdminOptions {
        dashboard: false,
        ..AdminOptions::default()
    };
    let bare = ControlPlane::new(relay, options).with_health();
    assert!(!bare.serves(&Method::GET, "/"));
    assert!(bare.serves(&Method::GET, "/readyz"));
    let reply = (bare
        .handle(
            request(Method::HEAD, "/healthz", None, ""),
            ClientInfo::default(),
        )
        .await)
        .expect("health");
    assert_eq!((reply.status(), reply.body().len()), (StatusCode::OK, 0));
}

#[tokio::test]
async fn a_panicking_handler_answers_500_internal() {
    let relay = Relay::builder().build().expect("relay");
    let boom = Route {
        methods: Methods::One(Method::GET),
        path: "/boom",
        shared: false,
        handler: crate::handler::BoxHandler::new(|| async {
            assert!(Method::GET.as_str().is_empty(), "boom");
            reply::empty(StatusCode::OK)
        }),
    };
    let plane =
        ControlPlane::with_routes(AdminState::new(relay, AdminOptions::default()), vec![boom]);
    let (status, body) = call(&plane, request(Method::GET, "/boom", None, "")).await;
    assert_eq!(
        (status, body),
        (500, serde_json::json!({"error": "internal"}))
    );
}

#[tokio::test]
async fn under_a_prefix_the_page_and_redirects_name_it() {
    let relay = Relay::builder().build().expect("relay");
    let options = AdminOptions {
        prefix: "/ops/".into(),
        ..AdminOptions::default()
    };
    let plane = ControlPlane::new(relay, options);
    assert_eq!(plane.options().mount_prefix(), "/ops");
    // The framework strips the prefix, so the plane's own paths are unchanged.
    let page = (plane.handle(request(Method::GET, "/", None, ""), ClientInfo::default()))
        .await
        .expect("the page");
    let html = String::from_utf8_lossy(page.body()).into_owned();
    assert!(html.contains(r#"src="/ops/dashboard/app.js""#), "{html}");
    assert!(html.contains(r#"href="/ops/dashboard/app.css""#), "{html}");
    let docs = (plane.handle(
        request(Method::GET, "/api/v1/docs", None, ""),
        ClientInfo::default(),
    ))
    .await
    .expect("the docs redirect");
    assert_eq!(docs.status(), StatusCode::SEE_OTHER);
    assert_eq!(docs.headers()[header::LOCATION], "/ops/api/v1/docs/");
    let at_root = ControlPlane::new(
        Relay::builder().build().expect("relay"),
        AdminOptions::default(),
    );
    let docs = (at_root.handle(
        request(Method::GET, "/api/v1/docs", None, ""),
        ClientInfo::default(),
    ))
    .await
    .expect("the docs redirect");
    assert_eq!(docs.headers()[header::LOCATION], "/api/v1/docs/");
}
