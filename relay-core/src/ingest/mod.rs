//! Ingest: from an inbound request to a committed event and its deliveries, with what it
//! uses on the way: [`source`]s, [`signature`] schemes (verify), [`selector`]s (event type and
//! idempotency key) and rate [`limit`]s.
//!
//! Resolve source → body limit → source rate limit → verify signature → normalise payload
//! → answer a provider's endpoint handshake (Slack `url_verification`) without storing
//! anything → event type and idempotency key → match routes → ONE atomic write → reply.

pub mod limit;
pub(crate) mod outcome;
mod prefix;
mod request_id;
pub mod selector;
pub mod sig_failure;
pub mod signature;
pub mod source;

use std::net::IpAddr;
use std::time::Instant;

use bytes::Bytes;
use http::HeaderMap;
use tracing::Instrument as _;

pub use outcome::{IngestOutcome, Reply};
pub use prefix::IngestPrefix;
pub use request_id::{MAX_REQUEST_ID_LEN, REQUEST_ID_HEADER, RequestId};

use crate::catalog::Catalog;
use crate::ingest::limit::RateDecision;
use crate::model::event::{Event, EventStatus};
use crate::model::ids::{EventId, TenantId};
use crate::model::payload::Payload;
use crate::model::time::Timestamp;
use crate::observe::{IngestSeen, Observer as _, RefusedSeen};
use crate::publish::event_type::PayloadError;
use crate::relay::Relay;
use crate::route::RouteInput;
use crate::store::{InsertOutcome, NewEvent};

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
    /// The request id (see [`RequestId`]); stored with the event under `x-request-id`.
    pub request_id: RequestId,
    /// The client's address, when the adapter knows it (behind a trusted proxy, the address
    /// the proxy reports): what the per-client rate limit counts and what the record of a
    /// refused signature shows. `None` (the default): not limited per client, not shown.
    pub client: Option<IpAddr>,
}

impl IngestRequest {
    /// A request for the default tenant, with the id of its `x-request-id` header (or a new
    /// one, see [`RequestId::from_headers`]).
    pub fn new(source: impl Into<String>, headers: HeaderMap, body: impl Into<Bytes>) -> Self {
        Self {
            tenant: TenantId::default(),
            source: source.into(),
            request_id: RequestId::from_headers(&headers),
            headers,
            body: body.into(),
            client: None,
        }
    }

    /// The same request from this client address (what an adapter sets from the connection,
    /// or from a trusted proxy's `X-Forwarded-For`/`Forwarded`).
    pub fn with_client(mut self, client: IpAddr) -> Self {
        self.client = Some(client);
        self
    }

    /// The same request with this id (an adapter that answered early with it already).
    pub fn with_request_id(mut self, request_id: RequestId) -> Self {
        self.request_id = request_id;
        self
    }
}

/// An [`IngestRequest`] taken apart: the pipeline owns the headers and the body, and borrows
/// the rest, which the observers are told about afterwards.
struct Inbound<'a> {
    tenant: &'a TenantId,
    source: &'a str,
    headers: HeaderMap,
    body: Bytes,
    request_id: &'a RequestId,
    client: Option<IpAddr>,
}

impl Relay {
    /// Decides, before the body is read, whether a request to `source` may go on: returns the
    /// most bytes an adapter may read, [`IngestOutcome::UnknownSource`] for an unknown source,
    /// or [`IngestOutcome::PayloadTooLarge`] when the declared `Content-Length` is already over
    /// the limit (so nothing past the limit is ever read).
    pub fn admit(&self, source: &str, content_length: Option<u64>) -> Result<usize, IngestOutcome> {
        self.admit_for(self.tenant_id(), source, content_length)
    }

    /// [`Relay::admit`] for a source of `tenant` (an unknown tenant:
    /// [`IngestOutcome::UnknownSource`]).
    pub fn admit_for(
        &self,
        tenant: &TenantId,
        source: &str,
        content_length: Option<u64>,
    ) -> Result<usize, IngestOutcome> {
        let catalog = if tenant == self.tenant_id() {
            self.catalog()
        } else {
            (self.tenant_relay(tenant))
                .ok_or(IngestOutcome::UnknownSource)?
                .catalog()
        };
        let limit = catalog
            .inbound_source(source)
            .ok_or(IngestOutcome::UnknownSource)?
            .max_body_bytes();
        match content_length {
            Some(length) if length > limit as u64 => Err(IngestOutcome::PayloadTooLarge),
            _ => Ok(limit),
        }
    }

    /// Runs the ingest pipeline. Answers `Accepted` only after the event, its dedup entry and
    /// its deliveries are committed in one store operation.
    ///
    /// Runs in an `ingest` tracing span with the source and the request id, and tells the
    /// relay's [observers](crate::observe) the outcome and its duration.
    pub async fn ingest(&self, request: IngestRequest) -> IngestOutcome {
        let span = tracing::info_span!(
            "ingest",
            source = %request.source,
            request_id = %request.request_id
        );
        let IngestRequest {
            tenant,
            source,
            headers,
            body,
            request_id,
            client,
        } = request;
        let started = Instant::now();
        let observers = self.observers();
        let wall_start = observers.start_time();
        let inbound = Inbound {
            tenant: &tenant,
            source: &source,
            headers,
            body,
            request_id: &request_id,
            client,
        };
        let outcome = if tenant == *self.tenant_id() {
            self.run_ingest(inbound).instrument(span).await
        } else {
            match self.tenant_relay(&tenant) {
                Some(relay) => relay.run_ingest(inbound).instrument(span).await,
                None => IngestOutcome::UnknownSource,
            }
        };
        observers.on_ingest(&IngestSeen {
            tenant: &tenant,
            source: &source,
            source_known: !matches!(outcome, IngestOutcome::UnknownSource),
            request_id: request_id.as_str(),
            outcome: &outcome,
            elapsed: started.elapsed(),
            started: wall_start,
        });
        outcome
    }

    /// [`Relay::ingest`], answered as a [`Reply`] carrying the request's id in `x-request-id`.
    pub async fn answer(&self, request: IngestRequest) -> Reply {
        let id = request.request_id.clone();
        self.ingest(request).await.into_reply().with_request_id(&id)
    }

    /// The reply to a request an adapter refused before the pipeline ran ([`Relay::admit`]
    /// said no, or the body could not be read): counts the outcome like [`Relay::ingest`]
    /// does and answers with the request's id in `x-request-id`.
    pub fn refuse(&self, source: &str, request_id: &RequestId, outcome: IngestOutcome) -> Reply {
        let known = self.catalog().inbound_source(source).is_some();
        tracing::debug!(source, %request_id, outcome = outcome.code(), "ingest refused");
        self.observers().on_refused(&RefusedSeen {
            tenant: self.tenant_id(),
            source,
            source_known: known,
            request_id: request_id.as_str(),
            outcome: &outcome,
        });
        outcome.into_reply().with_request_id(request_id)
    }

    async fn run_ingest(&self, mut request: Inbound<'_>) -> IngestOutcome {
        let catalog = self.catalog();
        let Some(source) = catalog.inbound_source(request.source) else {
            return IngestOutcome::UnknownSource;
        };
        if request.body.len() > source.max_body_bytes() {
            return IngestOutcome::PayloadTooLarge;
        }
        let now = Timestamp::now();
        if let Some(refused) = self.tenant_rate_refusal(now).await {
            return refused;
        }
        if let (Some(limit), Some(client)) = (self.client_limit(), request.client) {
            let key = format!("client:{client}");
            if let Some(refused) = self.rate_refusal(&key, limit, now).await {
                return refused;
            }
        }
        if let Some(limit) = source.rate_limit() {
            let key = format!("source:{}:{}", request.tenant, source.name());
            if let Some(refused) = self.rate_refusal(&key, limit, now).await {
                return refused;
            }
        }
        if let Err(error) = source.verify(&request.headers, &request.body, now) {
            tracing::info!(
                source = source.name(),
                reason = error.kind(),
                "signature verification failed"
            );
            self.record_sig_failure(&request, source.name(), &error, now)
                .await;
            return IngestOutcome::InvalidSignature;
        }
        let payload = Payload::parse(&request.headers, &request.body);
        if let Some(challenge) = source.handshake(&payload) {
            tracing::info!(source = source.name(), "answered an endpoint handshake");
            return IngestOutcome::Challenge { challenge };
        }
        let identity = source.identify(&request.headers, &request.body, &payload);
        if source.validates_payload()
            && let Some(refused) = invalid_payload(&catalog, &identity.event_type, &payload)
        {
            return refused;
        }
        if let Some(refused) = self.take_daily_quota(now).await {
            return refused;
        }
        let deliveries = catalog.plan_deliveries(&RouteInput {
            source: source.name(),
            event_type: &identity.event_type,
            headers: &request.headers,
            payload: payload.json(),
        });
        let event_id = EventId::new();
        // Kept with the event (after identification and routing saw the headers as sent), so
        // every attempt logs it.
        request
            .headers
            .insert(REQUEST_ID_HEADER, request.request_id.header_value());
        let event = Event {
            tenant: request.tenant.clone(),
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
        let new = NewEvent {
            event,
            dedup_until: now.plus(source.dedup_window()),
            deliveries,
        };
        match self.commit_event(new).await {
            Ok(InsertOutcome::Inserted) => IngestOutcome::Accepted { event_id },
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

impl Relay {
    /// The answer to one more request counted under `key` when it is over `limit`, `None`
    /// when it may go on (also when the limiter is down: it admits, with a warning).
    async fn rate_refusal(
        &self,
        key: &str,
        limit: limit::RateLimit,
        now: Timestamp,
    ) -> Option<IngestOutcome> {
        match self.limiter().acquire(key, limit, now).await {
            Ok(RateDecision::Allowed) => None,
            Ok(RateDecision::Limited { retry_after }) => {
                let retry_after_secs =
                    retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
                Some(IngestOutcome::RateLimited {
                    retry_after_secs: retry_after_secs.max(1),
                })
            }
            Err(error) => {
                tracing::warn!(%error, key, "rate limiter down; admitting");
                None
            }
        }
    }
}

/// The refusal of a payload that does not match the schema of its event type (a body that
/// is not JSON does not match any schema); `None` when it matches or the type has none.
fn invalid_payload(
    catalog: &Catalog,
    event_type: &str,
    payload: &Payload,
) -> Option<IngestOutcome> {
    let event_type = catalog.event_type(event_type)?;
    event_type.schema_json()?;
    let fields = match payload.json() {
        Some(json) => event_type.validate(json).err()?,
        None => vec![PayloadError {
            field: String::new(),
            message: "the body is not JSON".to_owned(),
        }],
    };
    Some(IngestOutcome::InvalidPayload { fields })
}

#[cfg(test)]
mod payload_tests;
#[cfg(test)]
mod tests;
