//! The book's embedding example (docs/src/embedding-axum.md), compiled by `cargo clippy --all-targets` so it cannot rot.
//! Run: `GITHUB_WEBHOOK_SECRET=s cargo run -p relay-tests --example embed_axum`.

use axum::{Router, routing::get};
use relay_axum::RelayLayer;
use relay_core::Relay;
use relay_core::deliver::destination::{Destination, HandlerError, Message};
use relay_core::ingest::signature::GitHub;
use relay_core::ingest::source::WebhookSource;
use relay_core::route::EventRoute;
use relay_store_sqlite::{SqliteOptions, SqliteStore};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = SqliteStore::open("relay.db", SqliteOptions::default())?;
    let relay = Relay::builder()
        .store(Arc::new(store))
        .source(
            WebhookSource::new("github", GitHub).secret(std::env::var("GITHUB_WEBHOOK_SECRET")?),
        )
        // deliver to an HTTP endpoint (signed with Standard Webhooks headers) …
        .destination(Destination::http("ci", "https://ci.example.com/hooks")?)
        // … or to an async function in this process
        .destination(Destination::handler("deploys", |m: Message| async move {
            println!("{} event, {} bytes", m.event_type, m.body.len());
            Ok::<(), HandlerError>(())
        }))
        .route(
            EventRoute::new("pushes")
                .source("github")
                .event_types(["push"])
                .to(["ci", "deploys"]),
        )
        .build()?;
    let worker = relay.spawn_worker(Default::default()); // the delivery worker
    let app: Router = Router::new()
        .route("/", get(|| async { "my app" }))
        .merge(relay_axum::health::routes(relay.clone())) // GET /healthz, GET /readyz
        .layer(RelayLayer::new(relay)); // POST /webhooks/{source}; everything else passes through
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await?;
    worker.shutdown().await;
    Ok(())
}
