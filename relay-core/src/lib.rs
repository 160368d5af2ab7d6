//! # relay-core
//!
//! The framework-free core of Relay, an embeddable webhook gateway: every incoming webhook is
//! verified, deduplicated, stored durably, routed by event type, transformed per destination
//! and delivered with retries, exponential backoff and a dead-letter queue.
//!
//! Adapters (`relay-axum`, `relay-actix`) turn framework requests into an
//! [`IngestRequest`] and the [`IngestOutcome`] back into a response; every decision lives
//! here.
//!
//! ## One event through the parts
//!
//! 1. [`ingest`]: a request names a source; the source's body limit and rate limit apply,
//!    its [signature scheme](ingest::signature) verifies the request, its
//!    [selectors](ingest::selector) pick the event type and idempotency key, and the
//!    [payload](model::payload) is normalised (JSON, form, raw).
//! 2. [`route`]: every route whose event-type globs and JSONPath conditions hold plans one
//!    delivery per destination (fan-out, priority, ordering keys).
//! 3. [`store`]: ONE atomic write ([`EventIngest`](store::EventIngest)) stores the event, its
//!    dedup key and its deliveries; a repeated key answers with the original event. Only then
//!    does ingest answer.
//! 4. [`deliver`]: the worker leases due deliveries ([`DeliveryQueue`](store::DeliveryQueue),
//!    fencing tokens), passes each through its gate (throttles, in-flight caps, the
//!    [circuit](deliver::circuit)), [transforms](transform) the payload, signs it (Standard
//!    Webhooks), sends it through the [SSRF guard](deliver::guard) to an HTTP receiver, an
//!    in-process handler or an agent, and lets the [retry policy](deliver::policy) decide:
//!    delivered, retry at a time, or dead-lettered.
//! 5. [`observe`]: at each of those points the relay's [`Observer`]s are told (metrics,
//!    per-minute rollups, alerts, traces, and any of the embedder's own).
//!
//! Beside the pipeline: [`control`] (admin operations, managed objects, tenancy, agents,
//! alerts, credentials, readiness), [`catalog`] (the live set of sources, destinations,
//! routes and transformers), [`model`] (the plain data all of them pass along) and
//! [`testing`] (backends named by the environment, for test suites). [`Relay`] is the handle
//! an application builds and clones; the types an embedding application names are
//! re-exported here, and so are the crates those types come from ([`http`], [`bytes`],
//! [`serde_json`]): a [`Transformer`] or an [`EventHandler`] needs no direct dependency on them.
//!
//! The [`Relay`] facade keeps the pipeline's own operations (`ingest`, `spawn_worker`,
//! `readiness`, pausing a destination, reaching a tenant) and hands out one part per group
//! of control operations, each a cheap view of one tenant:
//! [`relay.objects()`](control::manage::Objects) (sources, destinations, routes),
//! [`relay.access()`](control::admin::Access) (API keys, users, sessions, audit),
//! [`relay.events()`](control::admin::Events) (stored events, dead letters, replay),
//! [`relay.tenants()`](control::admin::Tenants) (the tenant registry),
//! [`relay.agents()`](control::agent::Agents) (agent credentials and connections) and
//! [`relay.metrics()`](control::admin::Metrics) (the per-minute metric points). A tenant's
//! state (its catalog, objects, pauses and per-destination counters) is a value the
//! handles of that tenant share ([`Relay::scoped`]).
//!
//! ```
//! use relay_core::bytes::Bytes;
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
//! let mut headers = relay_core::http::HeaderMap::new();
//! headers.insert("idempotency-key", "order-1".parse().unwrap());
//! let first = relay.ingest(IngestRequest::new("forms", headers.clone(), Bytes::from_static(b"{}"))).await;
//! let again = relay.ingest(IngestRequest::new("forms", headers, Bytes::from_static(b"{}"))).await;
//! let IngestOutcome::Accepted { event_id } = first else { panic!("{first:?}") };
//! assert_eq!(again, IngestOutcome::Duplicate { event_id });
//! # }
//! ```

#![warn(unreachable_pub)]

pub mod catalog;
pub mod control;
pub mod deliver;
pub mod ingest;
pub mod model;
pub mod observe;
pub mod publish;
mod relay;
pub mod route;
pub mod store;
pub mod testing;
pub mod transform;
pub mod unwind;

pub use relay::Relay;
pub use relay::background::{Background, BackgroundHandle};
pub use relay::builder::{BuildError, RelayBuilder};

// What an embedding application names, at the root: building a relay, its sources,
// destinations and routes, ingest, the worker, the store and the extension points.
pub use deliver::destination::{Destination, EventHandler, HandlerError, Message};
pub use deliver::{WorkerConfig, WorkerHandle};
pub use ingest::signature::{
    GenericHmac, GitHub, NoSignature, PublishOnly, Shopify, SignatureScheme, Slack,
    StandardWebhooks, Stripe, Svix,
};
pub use ingest::source::{Source, WebhookSource};
pub use ingest::{IngestOutcome, IngestRequest};
pub use observe::Observer;
pub use publish::{Publish, PublishError, Published};
pub use route::{EventRoute, Route};
pub use store::{Store, StoreError, Stores};
pub use transform::{TransformError, TransformInput, Transformed, Transformer};

// The crates whose types the embedding API names (`HeaderMap`, `Bytes`, `serde_json::Value`),
// so a `Transformer`, an `EventHandler` or an `IngestRequest` needs no direct dependency on
// them, and always gets the versions relay-core was built with.
pub use bytes;
pub use http;
pub use serde_json;

/// What an embedding application writes against, for one glob import: building a relay, its
/// sources, destinations, routes and event types, publishing, a transformer of its own, the
/// background work, and the crates their types come from.
///
/// ```
/// use relay_core::prelude::*;
///
/// #[derive(Debug)]
/// struct Wrap;
///
/// impl Transformer for Wrap {
///     fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
///         let data = input.payload.json().cloned().unwrap_or_default();
///         Transformed::json(&serde_json::json!({"type": input.event.event_type, "data": data}))
///     }
/// }
///
/// let relay = Relay::builder()
///     .source(WebhookSource::new("github", GitHub).secret("It's a Secret to Everybody"))
///     .transformer("wrap", Wrap)
///     .destination(Destination::handler("log", |m: Message| async move {
///         println!("{} {} bytes", m.event_type, m.body.len());
///         Ok::<(), HandlerError>(())
///     }))
///     .route(EventRoute::new("all").source("github").transformer("wrap").to(["log"]))
///     .event_type(EventType::new("invoice.paid"))
///     .build()
///     .unwrap();
/// # let _ = (relay, Background::default(), Publish::new("invoice.paid", serde_json::json!({})));
/// ```
pub mod prelude {
    pub use crate::publish::EventType;
    pub use crate::{
        Background, BackgroundHandle, BuildError, Destination, EventHandler, EventRoute,
        GenericHmac, GitHub, HandlerError, IngestOutcome, IngestRequest, Message, NoSignature,
        Publish, PublishError, PublishOnly, Published, Relay, RelayBuilder, Shopify,
        SignatureScheme, Slack, StandardWebhooks, Stripe, Svix, TransformError, TransformInput,
        Transformed, Transformer, WebhookSource, WorkerConfig,
    };
    pub use crate::{bytes, http, serde_json};
}
