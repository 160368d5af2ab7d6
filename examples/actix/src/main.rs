//! An actix-web 4 app embedding the whole Relay gateway: ingest at `POST /webhooks/{source}`
//! (a `demo` source, no signature), `/healthz`, `/readyz`, `/metrics`, the admin API under
//! `/api/v1` with Swagger UI at `/api/v1/docs/`, and the dashboard at `/`, on SQLite.
//!
//! Run: `cargo run -p relay-example-actix` (`PORT`, default 8081; `RELAY_DB`, default
//! `relay-actix.db`). The first start prints an admin API key (`admin token: rk_…`).

use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use relay_actix::{ControlPlane, RelayMiddleware};
use relay_core::control::admin::{Principal, Role};
use relay_core::model::ids::TenantId;
use relay_core::{Background, NoSignature, Relay, WebhookSource};
use relay_store_sqlite::{SqliteOptions, SqliteStore};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    actix_web::rt::System::new().block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").map_or(Ok(8081), |p| p.parse())?;
    let db = std::env::var("RELAY_DB").unwrap_or_else(|_| "relay-actix.db".into());
    let store = SqliteStore::open(&db, SqliteOptions::default())?;
    let relay = Relay::builder()
        .store(Arc::new(store))
        .source(WebhookSource::new("demo", NoSignature)) // POST /webhooks/demo
        .build()?;
    let background = relay.spawn_background(Background::default()); // worker, metrics, pruner
    let system = Principal::system(TenantId::default());
    if relay
        .store()
        .api_keys(&TenantId::default())
        .await?
        .is_empty()
    {
        let key = relay
            .access()
            .create_api_key(&system, "admin", Role::Admin)
            .await?;
        println!("admin token: {}", key.token.expose()); // shown this once; stored hashed
    }
    let plane = ControlPlane::new(relay.clone(), Default::default()) // /api/v1, /api/v1/docs/, /
        .health() // GET /healthz, GET /readyz
        .metrics(None)? // GET /metrics, public
        .agents(); // GET /agent/v1/connect
    let app = move || {
        App::new()
            .wrap(RelayMiddleware::new(relay.clone())) // POST /webhooks/{source}
            .wrap(plane.clone())
            .route("/hello", web::get().to(|| async { "my app" }))
    };
    HttpServer::new(app)
        .bind(("127.0.0.1", port))?
        .run()
        .await?;
    background.shutdown().await;
    Ok(())
}
