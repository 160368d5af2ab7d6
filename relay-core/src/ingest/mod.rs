//! Ingest: from an inbound request to a committed event and its deliveries.
//!
//! Resolve source → body limit → source rate limit → verify signature → normalise payload
//! → answer a provider's endpoint handshake (Slack `url_verification`) without storing
//! anything → event type and idempotency key → match routes → ONE atomic write → reply.

mod outcome;
mod prefix;

use bytes::Bytes;
use http::HeaderMap;

pub use outcome::{IngestOutcome, Reply};
pub use prefix::IngestPrefix;

use crate::event::{Event, EventStatus};
use crate::ids::{EventId, TenantId};
use crate::limit::RateDecision;
use crate::payload::Payload;
use crate::relay::Relay;
use crate::route::RouteInput;
use crate::store::{InsertOutcome, NewEvent};
use crate::time::Timestamp;

/// An inbound webhook in framework-neutral form.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// The owning tenant (`default` unless multi-tenancy is configured).
    pub tenant: TenantId,
    /// The source name from the URL.
    pub source: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The complete body.
    pub body: Bytes,
}

impl IngestRequest {
    /// A request for the default tenant.
    pub fn new(source: impl Into<String>, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            tenant: TenantId::default(),
            source: source.into(),
            headers,
            body: body.into(),
        }
    }
}

impl Relay {
    /// Decides, before the body is read, whether a request to `source` may go on: returns the
    /// most bytes an adapter may read, [`IngestOutcome::UnknownSource`] for an unknown source,
    /// or [`IngestOutcome::PayloadTooLarge`] when the declared `Content-Length` is already over
    /// the limit (so nothing past the limit is ever read).
    pub fn admit(&self, source: &str, content_length: Option<u64>) -> Result<usize, IngestOutcome> {
        let catalog = self.catalog();
        let limit = catalog
            .source(source)
            .ok_or(IngestOutcome::UnknownSource)?
            .max_body_bytes();
        match content_length {
            Some(length) if length > limit as u64 => Err(IngestOutcome::PayloadTooLarge),
            _ => Ok(limit),
        }
    }

    /// Runs the ingest pipeline. Answers `Accepted` only after the event, its dedup entry and
    /// its deliveries are committed in one store operation.
    pub async fn ingest(&self, request: IngestRequest) -> IngestOutcome {
        let catalog = self.catalog();
        let Some(source) = catalog.source(&request.source) else {
            return IngestOutcome::UnknownSource;
        };
        if request.body.len() > source.max_body_bytes() {
            return IngestOutcome::PayloadTooLarge;
        }
        let now = Timestamp::now();
        if let Some(limit) = source.rate_limit() {
            let key = format!("source:{}:{}", request.tenant, source.name());
            match self.limiter().acquire(&key, limit, now).await {
                Ok(RateDecision::Allowed) => {}
                Ok(RateDecision::Limited { retry_after }) => {
                    let retry_after_secs =
                        retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                    return IngestOutcome::RateLimited {
                        retry_after_secs: retry_after_secs.max(1),
                    };
                }
                Err(error) => {
                    tracing::warn!(%error, source = source.name(), "rate limiter down; admitting")
                }
            }
        }
        if let Err(error) = source.verify(&request.headers, &request.body, now) {
            tracing::info!(
                source = source.name(),
                reason = error.kind(),
                "signature verification failed"
            );
            self.note_signature_failure(source.name());
            return IngestOutcome::InvalidSignature;
        }
        let payload = Payload::parse(&request.headers, &request.body);
        if let Some(challenge) = source.handshake(&payload) {
            tracing::info!(source = source.name(), "answered an endpoint handshake");
            return IngestOutcome::Challenge { challenge };
        }
        let identity = source.identify(&request.headers, &request.body, &payload);
        let deliveries = catalog.plan_deliveries(&RouteInput {
            source: source.name(),
            event_type: &identity.event_type,
            headers: &request.headers,
            payload: payload.json(),
        });
        let event_id = EventId::new();
        let event = Event {
            tenant: request.tenant,
            id: event_id,
            source: source.name().to_owned(),
            event_type: identity.event_type,
            idempotency_key: identity.idempotency_key,
            headers: request.headers,
            body: request.body,
            received_at: now,
            status: if deliveries.is_empty() {
                EventStatus::NoRoute
            } else {
                EventStatus::Routed
            },
        };
        let has_deliveries = !deliveries.is_empty();
        let new = NewEvent {
            event,
            dedup_until: now.plus(source.dedup_window()),
            deliveries,
        };
        match self.store().insert_event(new).await {
            Ok(InsertOutcome::Inserted) => {
                if has_deliveries {
                    self.wake_workers();
                }
                IngestOutcome::Accepted { event_id }
            }
            Ok(InsertOutcome::Duplicate { original }) => {
                IngestOutcome::Duplicate { event_id: original }
            }
            Err(error) => {
                tracing::error!(error = %error, source = ?std::error::Error::source(&error), "ingest commit failed");
                IngestOutcome::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests;
