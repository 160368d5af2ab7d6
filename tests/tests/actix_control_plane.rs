//! relay-actix's control plane beyond the shared contract rows: the agent WebSocket (actix-ws
//! plumbing, relay-admin's session), the tenant resolver for ingest, and the client address
//! from trusted proxies.

use std::net::SocketAddr;

use actix_web::{App, HttpMessage, HttpRequest, HttpServer, web};
use futures_util::StreamExt as _;
use relay_actix::{ClientInfo, ControlPlane, RelayMiddleware, TrustedProxies};
use relay_core::Relay;
use relay_core::control::admin::Principal;
use relay_core::model::ids::TenantId;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

/// Serves `plane` and `ingest` around an app whose `GET /whoami` answers the request's
/// `ClientInfo` address.
fn serve(plane: ControlPlane, ingest: RelayMiddleware) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        let whoami = |request: HttpRequest| async move {
            let client = request.extensions().get::<ClientInfo>().copied();
            format!("{:?}", client.and_then(|c| c.addr))
        };
        let app = move || {
            App::new()
                .wrap(ingest.clone())
                .wrap(plane.clone())
                .route("/whoami", web::get().to(whoami))
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

fn gateway(relay: &Relay) -> SocketAddr {
    let plane = ControlPlane::new(relay.clone(), Default::default()).agents();
    serve(plane, RelayMiddleware::new(relay.clone()))
}

#[tokio::test]
async fn an_agent_connects_over_actix_ws_and_is_welcomed() {
    let relay = Relay::builder().build().expect("relay");
    let system = Principal::system(TenantId::default());
    let agent = relay
        .agents()
        .create(&system, "laptop")
        .await
        .expect("agent");
    let addr = gateway(&relay);
    let url = format!("ws://{addr}/agent/v1/connect");

    let mut request = url.as_str().into_client_request().expect("request");
    let headers = request.headers_mut();
    let bearer = format!("Bearer {}", agent.token.expose());
    headers.insert("authorization", bearer.parse().expect("header"));
    headers.insert(
        "x-relay-agent-target",
        "http://127.0.0.1:3000/hooks".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    let frame = socket.next().await.expect("a frame").expect("readable");
    let Message::Text(text) = frame else {
        panic!("not text: {frame:?}");
    };
    let welcome: Value = serde_json::from_str(text.as_str()).expect("json");
    assert_eq!(
        (&welcome["type"], &welcome["agent"], &welcome["target"]),
        (
            &json!("welcome"),
            &json!("laptop"),
            &json!("http://127.0.0.1:3000/hooks")
        ),
        "{welcome}"
    );
    let held = relay.agents().hub().held();
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0].agent, "laptop");

    let http = relay_core::tls::client();
    let refused = http
        .get(format!("http://{addr}/agent/v1/connect"))
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "unauthorized");
    let plain = http
        .get(format!("http://{addr}/agent/v1/connect"))
        .bearer_auth(agent.token.expose())
        .header("x-relay-agent-target", "http://127.0.0.1:3000/hooks")
        .send()
        .await
        .expect("answer");
    assert_eq!(plain.status(), 400);
    let body: Value = plain.json().await.expect("json");
    assert_eq!(body["error"], "websocket_required");
}

#[tokio::test]
async fn a_subdomain_resolver_picks_the_ingest_tenant() {
    let relay = Relay::builder().build().expect("relay");
    let id = TenantId::new("acme");
    let scoped = relay.scoped(&id).await.expect("tenant relay");
    let spec = serde_json::from_value(json!({"name": "orders", "scheme": "none"})).expect("spec");
    (scoped
        .objects()
        .create_source(&Principal::system(id.clone()), spec)
        .await)
        .expect("source");
    let ingest =
        RelayMiddleware::new(relay.clone()).tenant_resolver(|parts: &http::request::Parts| {
            let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
            let (tenant, _) = host.split_once(".hooks.example.com")?;
            Some(TenantId::new(tenant))
        });
    let addr = serve(ControlPlane::new(relay.clone(), Default::default()), ingest);
    let send = |host: &'static str| {
        let request = relay_core::tls::client()
            .post(format!("http://{addr}/webhooks/orders"))
            .header("host", host)
            .body("{}");
        async move {
            let response = request.send().await.expect("answer");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = send("acme.hooks.example.com").await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("accepted")),
        "{body}"
    );
    let (status, body) = send("globex.hooks.example.com").await;
    assert_eq!((status, body), (404, json!({"error": "unknown_source"})));
    let (status, body) = send("localhost").await;
    assert_eq!((status, body), (404, json!({"error": "unknown_source"})));
}

#[tokio::test]
async fn the_client_address_comes_from_trusted_proxies_only() {
    let relay = Relay::builder().build().expect("relay");
    let whoami = |addr: SocketAddr| async move {
        let response = relay_core::tls::client()
            .get(format!("http://{addr}/whoami"))
            .header("x-forwarded-for", "6.6.6.6, 198.51.100.7")
            .send()
            .await
            .expect("answer");
        response.text().await.expect("body")
    };
    let plain = ControlPlane::new(relay.clone(), Default::default());
    let untrusting = serve(plain.clone(), RelayMiddleware::new(relay.clone()));
    assert_eq!(whoami(untrusting).await, "Some(127.0.0.1)");
    let loopback = TrustedProxies::new(vec!["127.0.0.0/8".parse().expect("cidr")]);
    let trusting = serve(plain.trusted_proxies(loopback), RelayMiddleware::new(relay));
    assert_eq!(whoami(trusting).await, "Some(198.51.100.7)");
}
