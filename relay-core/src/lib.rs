//! # relay-core
//!
//! The framework-free core of Relay, an embeddable webhook gateway: every incoming webhook is
//! verified, deduplicated, stored durably, routed by event type, transformed per destination
//! and delivered with retries, exponential backoff and a dead-letter queue.
//!
//! Adapters (`relay-axum`, `relay-actix`) turn framework requests into an
//! [`IngestRequest`](ingest::IngestRequest) and the [`IngestOutcome`](ingest::IngestOutcome)
//! back into a response; every decision lives here.
//!
//! ```
//! use bytes::Bytes;
//! use relay_core::{Destination, EventRoute, HandlerError, IngestOutcome, IngestRequest};
//! use relay_core::{Message, NoSignature, Relay, WebhookSource};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = Relay::builder()
//!     .source(WebhookSource::new("forms", NoSignature))
//!     .destination(Destination::handler("app", |_m: Message| async { Ok::<(), HandlerError>(()) }))
//!     .route(EventRoute::new("all").to(["app"]))
//!     .build()
//!     .unwrap();
//! let mut headers = http::HeaderMap::new();
//! headers.insert("idempotency-key", "order-1".parse().unwrap());
//! let first = relay.ingest(IngestRequest::new("forms", headers.clone(), Bytes::from_static(b"{}"))).await;
//! let again = relay.ingest(IngestRequest::new("forms", headers, Bytes::from_static(b"{}"))).await;
//! let IngestOutcome::Accepted { event_id } = first else { panic!("{first:?}") };
//! assert_eq!(again, IngestOutcome::Duplicate { event_id });
//! # }
//! ```

#![warn(unreachable_pub)]

pub mod admin;
pub mod agent;
pub mod alert;
pub mod catalog;
pub mod circuit;
pub mod credentials;
pub mod definition;
pub mod deliver;
pub mod destination;
pub mod event;
pub mod guard;
pub mod ids;
pub mod ingest;
pub mod jsonpath;
pub mod limit;
pub mod manage;
pub mod memory;
pub mod observe;
pub mod ordering;
#[cfg(feature = "opentelemetry")]
pub mod otel;
pub mod payload;
pub mod policy;
pub mod readiness;
mod relay;
mod replay;
pub mod route;
pub mod secret;
pub mod selector;
pub mod signature;
pub mod source;
pub mod store;
pub mod telemetry;
pub mod tenancy;
pub mod testing;
pub mod time;
pub mod transform;

pub use relay::{BuildError, Relay, RelayBuilder};

// What an embedding application names, at the root: building a relay, its sources,
// destinations and routes, ingest, the worker, the store and the extension points.
pub use deliver::{WorkerConfig, WorkerHandle};
pub use destination::{Destination, EventHandler, HandlerError, Message};
pub use ingest::{IngestOutcome, IngestRequest};
pub use observe::Observer;
pub use route::{EventRoute, Route};
pub use signature::{
    GenericHmac, GitHub, NoSignature, Shopify, SignatureScheme, Slack, StandardWebhooks, Stripe,
    Svix,
};
pub use source::{Source, WebhookSource};
pub use store::{Store, StoreError, Stores};
pub use transform::Transformer;
