//! # relay-axum
//!
//! Mounts the [Relay](relay_core) webhook gateway in any axum or tower application with one
//! layer. [`RelayLayer`] answers `POST {prefix}/{source}` (prefix `/webhooks` by default) with
//! the ingest pipeline and passes every other request to the inner service untouched. It only
//! converts types: every decision (status codes, JSON bodies, limits) lives in `relay-core`.
//! [`health::routes`] serves `/healthz` and `/readyz`; with the `metrics` feature (on by
//! default), `metrics::routes` serves `GET /metrics` in the Prometheus text format.
//! [`admin::router`] serves the admin API under `/api/v1` and the web [`dashboard`] at `/`.
//! A server may record the client's address on each request as a [`ClientAddr`] extension.
//! A panic while Relay's ingest serves a request answers `500 {"error":"internal"}`; add
//! [`CatchPanicLayer`] around the whole app for the same outcome on every route.
//!
//! ```
//! use axum::{Router, routing::get};
//! use relay_axum::RelayLayer;
//! use relay_core::{Relay, route::EventRoute, ingest::source::WebhookSource, ingest::signature::GitHub};
//! use relay_core::deliver::destination::{Destination, HandlerError, Message};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let relay = Relay::builder()
//!     .source(WebhookSource::new("github", GitHub).secret("It's a Secret to Everybody"))
//!     .destination(Destination::handler("deploys", |m: Message| async move {
//!         println!("verified, deduplicated {} event: {} bytes", m.event_type, m.body.len());
//!         Ok::<(), HandlerError>(())
//!     }))
//!     .route(EventRoute::new("pushes").source("github").event_types(["push"]).to(["deploys"]))
//!     .build()?;
//! let worker = relay.spawn_worker(Default::default());
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "my app" }))
//!     .layer(RelayLayer::new(relay)); // POST /webhooks/github now ingests
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! # drop(worker); let _ = (app, listener); Ok(()) }
//! // axum::serve(listener, app).await?;
//! ```

pub mod admin;
pub mod agent;
pub mod catch_panic;
mod client;
pub mod dashboard;
pub mod health;
mod ingest;
#[cfg(feature = "metrics")]
pub mod metrics;

pub use catch_panic::CatchPanicLayer;
pub use client::ClientAddr;
pub use ingest::{RelayLayer, RelayService, ResponseBody, ResponseFuture, TenantResolver};
