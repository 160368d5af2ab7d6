//! Publishing: an application's own events into the pipeline (outbound webhooks), with the
//! guarantee ingest gives: [`Relay::publish`] returns only once the event and its deliveries
//! are committed, with the event's id (or the original's, for a repeated idempotency key).
//!
//! A published event comes from a source: `app` unless [`Publish::source`] names another.
//! Every tenant has a publish source named `app` ([`PUBLISH_SOURCE`]) unless its catalog
//! defines a source of that name; a source of scheme [`PublishOnly`] (`scheme = "publish"`)
//! takes published events only (`POST /webhooks/{it}` answers 404 `unknown_source`). Without
//! [`Publish::destinations`] the routes decide, exactly as for an ingested event from that
//! source (event-type globs, JSONPath conditions, fan-out, transformers, ordering keys); with
//! them, the event goes to exactly those destinations, unchanged. A payload whose
//! [`EventType`] has a schema must match it ([`PublishError::InvalidPayload`]).
//!
//! ```
//! use relay_core::{Destination, EventRoute, HandlerError, Message, Relay};
//! use relay_core::publish::{Publish, Published};
//! use serde_json::json;
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let relay = Relay::builder()
//!     .destination(Destination::handler("billing", |_m: Message| async {
//!         Ok::<(), HandlerError>(())
//!     }))
//!     .route(EventRoute::new("invoices").source("app").event_types(["invoice.*"]).to(["billing"]))
//!     .build()
//!     .unwrap();
//! let publish = Publish::new("invoice.paid", json!({"id": "inv_42", "amount": 99.5}))
//!     .idempotency_key("inv_42");
//! let Published::Accepted { event_id } = relay.publish(publish.clone()).await.unwrap() else {
//!     panic!("a new event")
//! };
//! assert_eq!(relay.publish(publish).await.unwrap(), Published::Duplicate { event_id });
//! # }
//! ```

pub(crate) mod event_type;

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, header};
use serde_json::Value;
use tracing::Instrument as _;

pub use crate::ingest::signature::PublishOnly;
pub use event_type::{EventType, PayloadError, SchemaError};

use crate::catalog::Catalog;
use crate::ingest::source::WebhookSource;
use crate::model::event::{Event, EventStatus};
use crate::model::ids::{DeliveryId, EventId};
use crate::model::time::Timestamp;
use crate::relay::Relay;
use crate::route::RouteInput;
use crate::store::{InsertOutcome, NewDelivery, NewEvent, StoreError};

pub use crate::ingest::source::PUBLISH_SOURCE;

/// The route name recorded on deliveries of an event published to explicit destinations
/// (no route planned them; no transformer applies). Route names cannot contain parentheses.
pub const DIRECT_ROUTE: &str = "(direct)";

/// The longest event type accepted.
pub const MAX_EVENT_TYPE_LEN: usize = 256;

/// An event to publish: its type and JSON payload, and optionally an idempotency key, the
/// destinations to send it to, and the source it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    event_type: String,
    payload: Value,
    idempotency_key: Option<String>,
    destinations: Option<Vec<String>>,
    source: Option<String>,
    event_id: Option<EventId>,
}

impl Publish {
    /// An event of type `event_type` carrying `payload` (sent as the JSON body).
    pub fn new(event_type: impl Into<String>, payload: Value) -> Self {
        Self {
            event_type: event_type.into(),
            payload,
            idempotency_key: None,
            destinations: None,
            source: None,
            event_id: None,
        }
    }

    /// Fixes the event's id (a transactional outbox fixes it when the app writes the row).
    /// Without an idempotency key, publishing the same id again within the dedup window is a
    /// duplicate, so moving an outbox row twice sends it once.
    pub fn event_id(mut self, id: EventId) -> Self {
        self.event_id = Some(id);
        self
    }

    /// Deduplicates: publishing again with the same key (same tenant and source, within the
    /// source's dedup window) answers the original event's id and sends nothing. Without a
    /// key an event is never a duplicate.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Sends the event to exactly these destinations (no routing, no transformer).
    pub fn destinations<I, S>(mut self, destinations: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.destinations = Some(destinations.into_iter().map(Into::into).collect());
        self
    }

    /// The source the event comes from (default [`PUBLISH_SOURCE`]); routes match on it.
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The event type.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The payload.
    pub fn payload(&self) -> &Value {
        &self.payload
    }
}

/// A committed publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Published {
    /// A new event; its deliveries are queued.
    Accepted {
        /// The new event's id.
        event_id: EventId,
    },
    /// The idempotency key was seen within the dedup window: nothing new is sent.
    Duplicate {
        /// The original event's id.
        event_id: EventId,
    },
}

impl Published {
    /// The event's id (the original's for a duplicate).
    pub fn event_id(&self) -> EventId {
        match self {
            Self::Accepted { event_id } | Self::Duplicate { event_id } => *event_id,
        }
    }
}

/// Why an event was not published. Nothing is stored in any of these cases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The event type is empty or longer than [`MAX_EVENT_TYPE_LEN`].
    #[error("event_type must be 1 to {MAX_EVENT_TYPE_LEN} characters")]
    InvalidEventType,
    /// The source is not in the tenant's catalog (and is not the implicit `app`).
    #[error("unknown source {0:?}")]
    UnknownSource(String),
    /// A listed destination is not in the tenant's catalog.
    #[error("unknown destination {name:?}")]
    UnknownDestination {
        /// Its position in the list.
        index: usize,
        /// The name given.
        name: String,
    },
    /// The payload does not match its event type's schema (every mismatch).
    #[error("the payload does not match the schema of its event type")]
    InvalidPayload(Vec<PayloadError>),
    /// The list of destinations is empty.
    #[error("destinations must name at least one destination")]
    NoDestinations,
    /// The store could not commit the event.
    #[error("store unavailable: {0}")]
    Unavailable(#[source] StoreError),
}

impl Relay {
    /// Publishes an event of this relay's tenant (use [`Relay::scoped`] for another tenant's)
    /// and returns once it and its deliveries are committed. See [`crate::publish`].
    pub async fn publish(&self, publish: Publish) -> Result<Published, PublishError> {
        let span = tracing::info_span!("publish", event_type = %publish.event_type);
        self.commit_published(publish).instrument(span).await
    }

    async fn commit_published(&self, publish: Publish) -> Result<Published, PublishError> {
        if publish.event_type.is_empty() || publish.event_type.len() > MAX_EVENT_TYPE_LEN {
            return Err(PublishError::InvalidEventType);
        }
        let catalog = self.catalog();
        let source = publish.source.as_deref().unwrap_or(PUBLISH_SOURCE);
        let dedup_window = dedup_window(&catalog, source)?;
        if let Some(event_type) = catalog.event_type(&publish.event_type) {
            event_type
                .validate(&publish.payload)
                .map_err(PublishError::InvalidPayload)?;
        }
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let body = Bytes::from(serde_json::to_vec(&publish.payload).unwrap_or_default());
        let deliveries = match &publish.destinations {
            Some(names) => direct_deliveries(&catalog, names, &headers, &publish.payload)?,
            None => catalog.plan_deliveries(&RouteInput {
                source,
                event_type: &publish.event_type,
                headers: &headers,
                payload: Some(&publish.payload),
            }),
        };
        let event_id = publish.event_id.unwrap_or_default();
        let now = Timestamp::now();
        let has_deliveries = !deliveries.is_empty();
        let new = NewEvent {
            event: Event {
                tenant: self.tenant_id().clone(),
                id: event_id,
                source: source.to_owned(),
                event_type: publish.event_type,
                idempotency_key: (publish.idempotency_key).unwrap_or_else(|| event_id.to_string()),
                headers,
                body,
                received_at: now,
                status: if has_deliveries {
                    EventStatus::Routed
                } else {
                    EventStatus::NoRoute
                },
            },
            dedup_until: now.plus(dedup_window),
            deliveries,
        };
        match self.commit_event(new).await {
            Ok(InsertOutcome::Inserted) => Ok(Published::Accepted { event_id }),
            Ok(InsertOutcome::Duplicate { original }) => {
                Ok(Published::Duplicate { event_id: original })
            }
            Err(error) => {
                tracing::error!(%error, "publish commit failed");
                Err(PublishError::Unavailable(error))
            }
        }
    }
}

/// The dedup window of `source`, which must be in `catalog` unless it is the implicit `app`.
fn dedup_window(catalog: &Catalog, source: &str) -> Result<Duration, PublishError> {
    match catalog.source(source) {
        Some(source) => Ok(source.dedup_window()),
        None if source == PUBLISH_SOURCE => Ok(WebhookSource::DEFAULT_DEDUP_WINDOW),
        None => Err(PublishError::UnknownSource(source.to_owned())),
    }
}

/// One delivery to each of `names` (each once), in order, with the destination's ordering key.
fn direct_deliveries(
    catalog: &Catalog,
    names: &[String],
    headers: &HeaderMap,
    payload: &Value,
) -> Result<Vec<NewDelivery>, PublishError> {
    if names.is_empty() {
        return Err(PublishError::NoDestinations);
    }
    let mut deliveries: Vec<NewDelivery> = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        let Some(destination) = catalog.destination(name) else {
            return Err(PublishError::UnknownDestination {
                index,
                name: name.clone(),
            });
        };
        if deliveries.iter().any(|d| d.destination == *name) {
            continue;
        }
        deliveries.push(NewDelivery {
            id: DeliveryId::new(),
            destination: name.clone(),
            route: DIRECT_ROUTE.to_owned(),
            ordering: (destination.ordering_key()).and_then(|key| key.read(headers, Some(payload))),
            agent: destination.agent_name().map(str::to_owned),
        });
    }
    Ok(deliveries)
}

#[cfg(test)]
mod tests;
