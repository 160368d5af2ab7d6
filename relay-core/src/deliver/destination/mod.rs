//! Destinations: where deliveries go, an HTTP endpoint or a handler in the embedding app.

mod breaker;
mod forward;
mod spec;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::HeaderMap;

use crate::deliver::circuit::CircuitBreaker;
use crate::deliver::http::{HttpTransport, Timeouts};
use crate::deliver::ordering::OrderingKey;
use crate::deliver::policy::{DeliveryPolicy, RetryPolicy};
use crate::model::ids::{DeliveryId, EventId};
use crate::model::secret::Secret;

pub use breaker::{BreakerSettings, BreakerSettingsError};
pub use forward::{ForwardHeaderError, ForwardHeaders};
pub use spec::{DestinationSettings, HttpDestinationSpec, RetrySettings, RetrySettingsError};

/// A delivery handed to an in-process handler.
#[derive(Debug, Clone)]
pub struct Message {
    /// The delivery id (stable across attempts; what `webhook-id` carries over HTTP).
    pub delivery_id: DeliveryId,
    /// The event's id.
    pub event_id: EventId,
    /// The source it arrived on.
    pub source: String,
    /// Its event type.
    pub event_type: String,
    /// The attempt number, 1 for the first.
    pub attempt: u32,
    /// The transformed body.
    pub body: Bytes,
    /// The transformed headers (`content-type` among them).
    pub headers: HeaderMap,
}

/// An in-process handler's failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Temporary: retry with backoff.
    #[error("retry: {0}")]
    Retry(String),
    /// Permanent: dead-letter without retrying.
    #[error("reject: {0}")]
    Reject(String),
}

/// Receives deliveries inside the embedding application: verified, deduplicated, durable and
/// retried like any HTTP destination, without an HTTP hop. Any
/// `Fn(Message) -> impl Future<Output = Result<(), HandlerError>>` is a handler.
#[async_trait]
pub trait EventHandler: Send + Sync {
    /// Handles one delivery attempt.
    async fn handle(&self, message: Message) -> Result<(), HandlerError>;
}

#[async_trait]
impl<F, Fut> EventHandler for F
where
    F: Fn(Message) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), HandlerError>> + Send,
{
    async fn handle(&self, message: Message) -> Result<(), HandlerError> {
        self(message).await
    }
}

/// Where a destination's deliveries go.
#[derive(Clone)]
pub enum Target {
    /// POST to this URL.
    Http {
        /// The endpoint.
        url: reqwest::Url,
        /// Sent as `Authorization`, if set.
        auth_header: Option<Secret>,
    },
    /// Call this handler in process.
    Handler(Arc<dyn EventHandler>),
    /// Hand it to a connected [agent](crate::control::agent), which forwards it to its local target.
    Agent {
        /// The agent's name.
        agent: String,
        /// URL prefixes the agent's target must be inside.
        allow_targets: Vec<String>,
    },
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Http { url, auth_header } => f
                .debug_struct("Http")
                .field("url", &url.as_str())
                .field("auth_header", auth_header)
                .finish(),
            Self::Handler(_) => f.write_str("Handler"),
            Self::Agent {
                agent,
                allow_targets,
            } => f
                .debug_struct("Agent")
                .field("agent", agent)
                .field("allow_targets", allow_targets)
                .finish(),
        }
    }
}

/// A named destination and how deliveries to it are made.
///
/// ```
/// use relay_core::deliver::destination::{Destination, HandlerError, Message};
/// use std::time::Duration;
/// use relay_core::deliver::circuit::CircuitBreaker;
/// let http = Destination::http("slack", "https://hooks.slack.com/services/T/B/X").unwrap()
///     .signing_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
///     .timeout(Duration::from_secs(10))
///     .connect_timeout(Duration::from_secs(2))
///     .max_in_flight(8)
///     .circuit_breaker(CircuitBreaker { failure_percent: 80, ..CircuitBreaker::default() });
/// let inline = Destination::handler("billing", |message: Message| async move {
///     println!("{} {}", message.event_type, message.body.len());
///     Ok::<(), HandlerError>(())
/// });
/// ```
#[derive(Clone, Debug)]
pub struct Destination {
    name: String,
    target: Target,
    signing_secret: Option<Secret>,
    timeout: Duration,
    connect_timeout: Duration,
    max_in_flight: Option<usize>,
    max_per_second: Option<u32>,
    breaker: Option<CircuitBreaker>,
    policy: Arc<dyn DeliveryPolicy>,
    ordering_key: Option<OrderingKey>,
    forward: ForwardHeaders,
}

/// A destination URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DestinationError {
    /// Not a URL.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// Not http or https.
    #[error("unsupported URL scheme {0:?} (expected http or https)")]
    Scheme(String),
    /// The ordering key is neither `header:NAME` nor a JSONPath.
    #[error("invalid ordering_key: {0}")]
    OrderingKey(String),
    /// The retry settings cannot be used.
    #[error("invalid retry.{0}")]
    Retry(String),
    /// The circuit-breaker settings cannot be used.
    #[error("invalid circuit_breaker.{0}")]
    Breaker(String),
    /// A header in `forward_headers` cannot be forwarded.
    #[error(transparent)]
    ForwardHeader(#[from] ForwardHeaderError),
}

impl Destination {
    /// Default total timeout of one attempt.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// An HTTP destination (`http` or `https` only).
    pub fn http(name: impl Into<String>, url: &str) -> Result<Self, DestinationError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| DestinationError::InvalidUrl {
            url: url.to_owned(),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DestinationError::Scheme(parsed.scheme().to_owned()));
        }
        Ok(Self::new(
            name,
            Target::Http {
                url: parsed,
                auth_header: None,
            },
        ))
    }

    /// An in-process handler destination.
    pub fn handler(name: impl Into<String>, handler: impl EventHandler + 'static) -> Self {
        Self::new(name, Target::Handler(Arc::new(handler)))
    }

    /// A destination delivered through the [agent](crate::control::agent) named `agent`, which may only
    /// forward to targets inside `allow_targets` (URL prefixes).
    pub fn agent(
        name: impl Into<String>,
        agent: impl Into<String>,
        allow_targets: Vec<String>,
    ) -> Self {
        Self::new(
            name,
            Target::Agent {
                agent: agent.into(),
                allow_targets,
            },
        )
    }

    /// A destination with the given target and default settings.
    pub fn new(name: impl Into<String>, target: Target) -> Self {
        Self {
            name: name.into(),
            target,
            signing_secret: None,
            timeout: Self::DEFAULT_TIMEOUT,
            connect_timeout: HttpTransport::DEFAULT_CONNECT_TIMEOUT,
            max_in_flight: None,
            max_per_second: None,
            breaker: Some(CircuitBreaker::default()),
            policy: Arc::new(RetryPolicy::default()),
            ordering_key: None,
            forward: ForwardHeaders::default(),
        }
    }

    /// Copies these inbound headers onto every delivery (unless the transformer sets them).
    pub fn forward_headers(mut self, headers: ForwardHeaders) -> Self {
        self.forward = headers;
        self
    }

    /// The inbound headers copied onto every delivery.
    pub fn forwarded_headers(&self) -> &ForwardHeaders {
        &self.forward
    }

    /// Signs outbound requests (Standard Webhooks) with this secret (`whsec_…` or raw).
    pub fn signing_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.signing_secret = Some(secret.into());
        self
    }

    /// Sends this value as the `Authorization` header (HTTP destinations).
    pub fn auth_header(mut self, value: impl Into<Secret>) -> Self {
        if let Target::Http { auth_header, .. } = &mut self.target {
            *auth_header = Some(value.into());
        }
        self
    }

    /// The total timeout of one attempt (connecting, sending, reading the answer).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long connecting (DNS, TCP, TLS) may take; never longer than the total timeout.
    /// Default: [`HttpTransport::DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// At most `limit` attempts to this destination in flight at once, per process (`1`: one
    /// at a time, however many workers the process runs); deliveries over the cap wait in the
    /// queue (they are not attempted early and not counted).
    pub fn max_in_flight(mut self, limit: usize) -> Self {
        self.max_in_flight = Some(limit.max(1));
        self
    }

    /// At most `per_second` attempts to this destination per second (a token bucket with a
    /// burst of a fifth of a second's worth; shared by every node when the relay's limiter is
    /// shared, e.g. Redis). Deliveries over the rate go back to the queue, spread out at the
    /// rate, without an attempt being made or counted.
    pub fn max_per_second(mut self, per_second: u32) -> Self {
        self.max_per_second = Some(per_second.max(1));
        self
    }

    /// The circuit breaker (default: [`CircuitBreaker::default`]).
    pub fn circuit_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// No circuit breaker: every due delivery is attempted, however the destination fares.
    pub fn without_circuit_breaker(mut self) -> Self {
        self.breaker = None;
        self
    }

    /// The policy deciding retries and dead-lettering.
    pub fn policy(mut self, policy: impl DeliveryPolicy + 'static) -> Self {
        self.policy = Arc::new(policy);
        self
    }

    /// Delivers events with the same key one at a time, in ingest order (see
    /// [`ordering`](crate::deliver::ordering)); a route's own ordering key takes precedence.
    pub fn ordering(mut self, key: OrderingKey) -> Self {
        self.ordering_key = Some(key);
        self
    }

    /// The ordering key, if any.
    pub fn ordering_key(&self) -> Option<&OrderingKey> {
        self.ordering_key.as_ref()
    }

    /// The destination's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where deliveries go.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The agent that delivers for it, when it is of kind `agent`.
    pub fn agent_name(&self) -> Option<&str> {
        match &self.target {
            Target::Agent { agent, .. } => Some(agent),
            _ => None,
        }
    }

    /// The outbound signing secret.
    pub fn secret(&self) -> Option<&Secret> {
        self.signing_secret.as_ref()
    }

    /// The attempt timeout.
    pub fn attempt_timeout(&self) -> Duration {
        self.timeout
    }

    /// The connect and total timeouts of an attempt.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: self.connect_timeout.min(self.timeout),
            total: self.timeout,
        }
    }

    /// The cap on attempts in flight, if any.
    pub fn in_flight_cap(&self) -> Option<usize> {
        self.max_in_flight
    }

    /// The cap on attempts per second, if any.
    pub fn per_second_cap(&self) -> Option<u32> {
        self.max_per_second
    }

    /// The circuit breaker, if any.
    pub fn breaker(&self) -> Option<&CircuitBreaker> {
        self.breaker.as_ref()
    }

    /// The delivery policy.
    pub fn delivery_policy(&self) -> &dyn DeliveryPolicy {
        self.policy.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_and_secrets_stay_hidden() {
        assert!(matches!(
            Destination::http("d", "ftp://x"),
            Err(DestinationError::Scheme(_))
        ));
        assert!(matches!(
            Destination::http("d", "not a url"),
            Err(DestinationError::InvalidUrl { .. })
        ));
        let d = Destination::http("d", "https://example.com/hook")
            .unwrap()
            .auth_header("Bearer topsecret")
            .signing_secret("whsec_abc");
        let debug = format!("{d:?}");
        assert!(
            !debug.contains("topsecret") && !debug.contains("whsec_abc"),
            "{debug}"
        );
    }
}
