#![doc = include_str!("../README.md")]
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
pub mod tls;
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
