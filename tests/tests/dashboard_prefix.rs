//! The whole control plane nested under `/ops` in a host app (axum's `Router::nest`,
//! actix's `web::scope`), with the host app keeping its own `/`: the dashboard, driven by
//! headless Chromium (`tests/dashboard/prefix.mjs`), loads its files and calls the API under
//! the prefix only, logs in and opens its pages; Swagger UI reads the description under the
//! prefix; portal links and the docs redirect name the prefix.
//!
//! Needs `node`, Chromium (`RELAY_CHROMIUM`) and playwright-core
//! (`RELAY_DASHBOARD_NODE_MODULES`, from `scripts/dashboard/setup.sh`); without them the
//! browser parts skip loudly, unless `RELAY_REQUIRE_BACKENDS=1`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use axum::Router;
use axum::routing::get;
use relay_axum::admin::AdminOptions;
use relay_core::Relay;
use relay_core::control::admin::{Principal, Role};
use relay_core::model::ids::TenantId;
use relay_core::model::secret::Secret;
use relay_tests::interop::backend;
use relay_tests::serve;

const PREFIX: &str = "/ops";
const PASSWORD: &str = "a long enough password";

fn options() -> AdminOptions {
    AdminOptions {
        prefix: PREFIX.into(),
        ..AdminOptions::default()
    }
}

/// A relay with the dashboard user `admin`.
async fn relay() -> Relay {
    let relay = Relay::builder().build().expect("relay");
    let system = Principal::system(TenantId::default());
    (relay.access())
        .create_user(&system, "admin", &Secret::new(PASSWORD), Role::Admin)
        .await
        .expect("create the admin user");
    relay
}

/// An axum app with its own `/` and the control plane nested under [`PREFIX`].
async fn serve_axum(relay: Relay) -> SocketAddr {
    let app = Router::new()
        .route("/", get(|| async { "the host app" }))
        .nest(PREFIX, relay_axum::admin::router(relay, options()));
    serve(app).await
}

/// An actix app with its own `/` and the control plane wrapping a `web::scope(PREFIX)`.
fn serve_actix(relay: Relay) -> SocketAddr {
    let plane = relay_actix::ControlPlane::new(relay, options());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let app = move || {
            App::new()
                .service(web::scope(PREFIX).wrap(plane.clone()))
                .route("/", web::get().to(|| async { "the host app" }))
        };
        let server = HttpServer::new(app)
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        actix_web::rt::System::new()
            .block_on(server)
            .expect("serve");
    });
    addr
}

/// axum's `nest` routes the nested `/` at `/ops` only; an actix scope answers `/ops/` too.
const AXUM_ENTRIES: &[&str] = &["/ops"];
const ACTIX_ENTRIES: &[&str] = &["/ops", "/ops/"];

/// What every adapter must answer under the prefix, over HTTP; the page at each of `entries`.
async fn check_http(addr: SocketAddr, entries: &[&str]) {
    let client = relay_core::tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let text = |path: &'static str| {
        let request = client.get(format!("http://{addr}{path}")).send();
        async move {
            let response = request.await.expect("request");
            let status = response.status().as_u16();
            let location = (response.headers().get("location"))
                .map(|v| v.to_str().unwrap_or_default().to_owned());
            (status, location, response.text().await.unwrap_or_default())
        }
    };
    assert_eq!(text("/").await.2, "the host app");
    for &page in entries {
        let request = client.get(format!("http://{addr}{page}")).send();
        let response = request.await.expect("request");
        let status = response.status().as_u16();
        let html = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{page}");
        assert!(
            html.contains(r#"src="/ops/dashboard/app.js""#),
            "{page}: {html}"
        );
    }
    let (status, _, script) = text("/ops/dashboard/api.js").await;
    assert_eq!(status, 200);
    assert!(script.contains("import.meta.url"));
    assert_eq!(text("/ops/api/v1/events").await.0, 401);
    assert_eq!(text("/api/v1/events").await.0, 404, "nothing at the root");
    assert_eq!(
        text("/dashboard/app.js").await.0,
        404,
        "nothing at the root"
    );
    let (status, location, _) = text("/ops/api/v1/docs").await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/ops/api/v1/docs/"))
    );
}

/// Runs `tests/dashboard/prefix.mjs` against `addr` (opening the page at each of `entries`),
/// unless the browser is missing.
fn check_browser(addr: SocketAddr, entries: &[&str]) {
    let Some(chromium) = backend("RELAY_CHROMIUM", "the dashboard under a prefix") else {
        return;
    };
    let Some(modules) = backend(
        "RELAY_DASHBOARD_NODE_MODULES",
        "the dashboard under a prefix",
    ) else {
        return;
    };
    let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard/prefix.mjs");
    let output = Command::new("node")
        .arg(script)
        .env("RELAY_URL", format!("http://{addr}"))
        .env("RELAY_PREFIX", PREFIX)
        .env("RELAY_ENTRIES", entries.join(" "))
        .env("RELAY_USER", "admin")
        .env("RELAY_PASSWORD", PASSWORD)
        .env("RELAY_CHROMIUM", chromium)
        .env("RELAY_DASHBOARD_NODE_MODULES", modules)
        .output()
        .expect("run node");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{log}");
    assert!(output.status.success(), "the browser test failed:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_nested_under_a_prefix_in_axum() {
    let addr = serve_axum(relay().await).await;
    check_http(addr, AXUM_ENTRIES).await;
    tokio::task::spawn_blocking(move || check_browser(addr, AXUM_ENTRIES))
        .await
        .expect("browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_an_actix_scope() {
    let addr = serve_actix(relay().await);
    relay_tests::eventually(Duration::from_secs(10), || async {
        tokio::net::TcpStream::connect(addr).await.ok()
    })
    .await
    .expect("actix listens");
    check_http(addr, ACTIX_ENTRIES).await;
    tokio::task::spawn_blocking(move || check_browser(addr, ACTIX_ENTRIES))
        .await
        .expect("browser");
}

#[tokio::test]
async fn portal_links_and_their_landing_name_the_prefix() {
    let relay = relay().await;
    let system = Principal::system(TenantId::default());
    (relay.tenants())
        .create(&system, "acme", Default::default())
        .await
        .expect("a tenant");
    let key = (relay.access())
        .create_api_key(&system, "ops", Role::Admin)
        .await
        .expect("a key");
    let addr = serve_axum(relay).await;
    let client = relay_core::tls::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let link: serde_json::Value = client
        .post(format!(
            "http://{addr}/ops/api/v1/tenants/acme/portal-links"
        ))
        .bearer_auth(key.token.expose())
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("create a link")
        .json()
        .await
        .expect("json");
    let url = link["url"].as_str().expect("a url");
    assert!(
        url.starts_with(&format!("http://{addr}/ops/portal/")),
        "{url}"
    );
    let redeemed = client.get(url).send().await.expect("redeem");
    assert_eq!(redeemed.status(), 303);
    assert_eq!(redeemed.headers()["location"], "/ops#/events");
}
