//! An in-memory gateway with the admin API, for trying the API out.
//!
//! Run with `cargo run -p relay-axum --example admin`; it prints an admin API key, then serves
//! `POST /webhooks/demo` and `/api/v1/*` on 127.0.0.1:8081 (or the address in `RELAY_ADMIN_ADDR`).

use relay_axum::RelayLayer;
use relay_axum::admin::{AdminOptions, router};
use relay_core::Relay;
use relay_core::control::admin::{Principal, Role};
use relay_core::control::credentials::Keyring;
use relay_core::ingest::signature::NoSignature;
use relay_core::ingest::source::WebhookSource;
use relay_core::model::ids::TenantId;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The keyring seals the secrets of sources and destinations created through the API.
    let relay = Relay::builder()
        .keyring(Keyring::generate())
        .source(WebhookSource::new("demo", NoSignature))
        .build()?;
    relay.objects().sync_objects().await?;
    let admin = Principal::system(TenantId::default());
    let key = relay
        .access()
        .create_api_key(&admin, "example", Role::Admin)
        .await?;
    println!("admin API key: {}", key.token.expose());
    let app = axum::Router::new()
        .merge(router(relay.clone(), AdminOptions::default()))
        .layer(RelayLayer::new(relay));
    let addr = std::env::var("RELAY_ADMIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{addr}");
    axum::serve(listener, app).await?;
    Ok(())
}
