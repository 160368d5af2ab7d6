//! Run with `cargo run -p relay-example-publish`.
//!
//! An axum app on `127.0.0.1:$PORT` (default 8082) that publishes `invoice.paid` from its
//! `POST /invoices/{id}/pay` handler, keeps events in SQLite at `$RELAY_DB` (default
//! `relay-publish.db`), and delivers them to `$WEBHOOK_URL`, signed with `$WEBHOOK_SECRET`
//! (Standard Webhooks, `whsec_…`; a demo secret when unset). Without `WEBHOOK_URL` it
//! delivers to its own `POST /demo-receiver`, which prints what a subscriber gets:
//!
//! ```text
//! curl -X POST localhost:8082/invoices/inv_42/pay -H 'content-type: application/json' -d '{"amount": 99.5}'
//! ```

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::routing::post;
use relay_core::deliver::guard::IpNet;
use relay_core::{Background, Relay};
use relay_store_sqlite::{SqliteOptions, SqliteStore};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").map_or(Ok(8082), |p| p.parse())?;
    let db = std::env::var("RELAY_DB").unwrap_or_else(|_| "relay-publish.db".into());
    let webhook_url = std::env::var("WEBHOOK_URL")
        .unwrap_or_else(|_| format!("http://127.0.0.1:{port}/demo-receiver"));
    let secret = std::env::var("WEBHOOK_SECRET")
        .unwrap_or_else(|_| "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
    let store = SqliteStore::open(&db, SqliteOptions::default())?;
    // The demo receiver is on loopback, which the SSRF guard refuses unless allowed.
    let loopback = IpNet::from(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let builder = Relay::builder()
        .store(Arc::new(store))
        .allow_cidrs([loopback]);
    let relay = relay_example_publish::relay(builder, &webhook_url, &secret)?;
    // The worker, the metric flush, the object sync and the pruner, stopped together below.
    let background = relay.spawn_background(Background::default());
    let app = relay_example_publish::app(relay).route("/demo-receiver", post(demo_receiver));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    background.shutdown().await;
    Ok(())
}

/// Prints each webhook as a subscriber receives it.
async fn demo_receiver(headers: HeaderMap, body: String) {
    let header = |name: &str| {
        (headers.get(name))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    println!(
        "subscriber got {} {} (webhook-id {}, attempt {}): {body}",
        header("x-relay-event-type"),
        header("x-relay-event-id"),
        header("webhook-id"),
        header("x-relay-attempt"),
    );
}
