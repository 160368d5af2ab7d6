//! The admin router in an app that has its own `GET /`: with the dashboard left out it
//! merges without a clash, the API answers, and `/` and `/dashboard/…` stay the app's.

#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use axum::routing::get;
use relay_axum::admin::{AdminOptions, router};
use tower::ServiceExt;

async fn get_path(app: &Router, path: &str) -> (StatusCode, String) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 24).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn without_the_dashboard_the_api_mounts_beside_the_apps_own_root() {
    let relay = relay_core::Relay::builder().build().unwrap();
    let options = AdminOptions {
        dashboard: false,
        ..AdminOptions::default()
    };
    let app: Router = Router::new()
        .route("/", get(|| async { "the app" }))
        .merge(router(relay, options));
    assert_eq!(
        get_path(&app, "/").await,
        (StatusCode::OK, "the app".into())
    );
    let (status, spec) = get_path(&app, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(spec.contains("\"openapi\""), "{spec}");
    let (status, _) = get_path(&app, "/dashboard/app.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get_path(&app, "/api/v1/events").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn by_default_the_dashboard_comes_with_the_api() {
    let relay = relay_core::Relay::builder().build().unwrap();
    let app: Router = router(relay, AdminOptions::default());
    let (status, page) = get_path(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<html"), "{page}");
    assert_eq!(get_path(&app, "/dashboard/app.js").await.0, StatusCode::OK);
}

#[tokio::test]
async fn swagger_ui_shows_the_description_from_the_binary() {
    let relay = relay_core::Relay::builder().build().unwrap();
    let app: Router = router(relay, AdminOptions::default());
    let request = Request::get("/api/v1/docs/").body(Body::empty()).unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let body = to_bytes(response.into_body(), 1 << 24).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("swagger-ui"));
    let (status, init) = get_path(&app, "/api/v1/docs/swagger-initializer.js").await;
    assert_eq!(status, StatusCode::OK);
    // Relative to `/api/v1/docs/`, so the viewer works under a prefix too.
    assert!(init.contains("\"../openapi.json\""), "{init}");
    let (status, bundle) = get_path(&app, "/api/v1/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        bundle.len() > 100_000,
        "the vendored bundle: {} bytes",
        bundle.len()
    );
}
