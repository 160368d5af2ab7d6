//! Sources: the named inbound endpoints (`POST /webhooks/{source}`) and how each is verified.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::ingest::limit::RateLimit;
use crate::ingest::selector::Selector;
use crate::ingest::signature::{SignatureScheme, SignedRequest, VerifyError};
use crate::model::payload::Payload;
use crate::model::secret::SourceSecret;
use crate::model::time::Timestamp;

/// The event type used when a source cannot tell one.
pub const UNKNOWN_EVENT_TYPE: &str = "unknown";

/// The source of published events every tenant has unless its catalog defines a source of
/// this name (see [`crate::publish`]); routes may name it.
pub const PUBLISH_SOURCE: &str = "app";

/// What a source says about an inbound request once it is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The event type routes match on (`push`, `invoice.paid`, or `unknown`).
    pub event_type: String,
    /// The key that deduplicates deliveries of the same event by the provider.
    pub idempotency_key: String,
}

/// A named inbound endpoint: how requests to it are limited, verified and identified.
///
/// [`WebhookSource`] is the built-in implementation; implement this trait for a source that
/// needs logic of its own.
pub trait Source: Send + Sync + fmt::Debug {
    /// The name in the ingest URL (`POST /webhooks/{name}`).
    fn name(&self) -> &str;

    /// The largest body accepted; larger ones answer 413.
    fn max_body_bytes(&self) -> usize;

    /// The ingest rate limit, if any.
    fn rate_limit(&self) -> Option<RateLimit>;

    /// How long an idempotency key keeps deduplicating.
    fn dedup_window(&self) -> Duration;

    /// Checks the request's signature.
    fn verify(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<(), VerifyError>;

    /// The event type and idempotency key of a verified request.
    fn identify(&self, headers: &HeaderMap, body: &[u8], payload: &Payload) -> Identity;

    /// The signature scheme's name (`github`, `stripe`, …), if it has one, for display.
    fn scheme_name(&self) -> Option<&str> {
        None
    }

    /// The challenge to echo when a verified request is an endpoint check by the provider
    /// (Slack's `url_verification`), not an event: ingest answers `200 {"challenge":…}` and
    /// stores nothing. `None` (the default) for an event.
    fn handshake(&self, payload: &Payload) -> Option<String> {
        let _ = payload;
        None
    }

    /// Whether requests to `POST /webhooks/{name}` reach this source. `false` for a source
    /// of published events only ([`PublishOnly`](crate::ingest::signature::PublishOnly)),
    /// which ingest answers 404 `unknown_source`.
    fn accepts_requests(&self) -> bool {
        true
    }

    /// Whether a payload of an [event type](crate::publish::EventType) with a schema must
    /// match it (otherwise ingest answers 422 `invalid_payload` and stores nothing).
    /// `false` by default.
    fn validates_payload(&self) -> bool {
        false
    }

    /// Whether this source verifies signatures but has no secret to verify them with (it
    /// would refuse every request): a relay refuses to build with it. `false` by default.
    fn lacks_secrets(&self) -> bool {
        false
    }
}

/// A source defined by a [`SignatureScheme`], its secrets, limits and selectors.
///
/// ```
/// use relay_core::ingest::source::WebhookSource;
/// use relay_core::ingest::signature::GitHub;
/// let github = WebhookSource::new("github", GitHub)
///     .secret("It's a Secret to Everybody")
///     .max_body_bytes(1 << 20);
/// ```
#[derive(Debug, Clone)]
pub struct WebhookSource {
    name: String,
    scheme: Arc<dyn SignatureScheme>,
    secrets: Vec<SourceSecret>,
    max_body_bytes: usize,
    rate_limit: Option<RateLimit>,
    dedup_window: Duration,
    event_type: Option<Selector>,
    idempotency_key: Option<Selector>,
    validate_payload: bool,
}

impl WebhookSource {
    /// Default body limit: 1 MiB.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1 << 20;
    /// Default dedup window: 24 hours.
    pub const DEFAULT_DEDUP_WINDOW: Duration = Duration::from_secs(86_400);

    /// A source named `name` verified by `scheme`, with no secrets yet.
    pub fn new(name: impl Into<String>, scheme: impl SignatureScheme + 'static) -> Self {
        Self::with_scheme(name, Arc::new(scheme))
    }

    /// Like [`WebhookSource::new`] with a shared scheme.
    pub fn with_scheme(name: impl Into<String>, scheme: Arc<dyn SignatureScheme>) -> Self {
        Self {
            name: name.into(),
            scheme,
            secrets: Vec::new(),
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            rate_limit: None,
            dedup_window: Self::DEFAULT_DEDUP_WINDOW,
            event_type: None,
            idempotency_key: None,
            validate_payload: false,
        }
    }

    /// Adds a verification secret without expiry.
    pub fn secret(self, secret: impl Into<crate::model::secret::Secret>) -> Self {
        self.source_secret(SourceSecret::new(secret))
    }

    /// Adds a verification secret (possibly expiring, for rotation).
    pub fn source_secret(mut self, secret: SourceSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Sets the body limit.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the ingest rate limit.
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Sets the dedup window.
    pub fn dedup_window(mut self, window: Duration) -> Self {
        self.dedup_window = window;
        self
    }

    /// Overrides where the event type comes from.
    pub fn event_type(mut self, selector: Selector) -> Self {
        self.event_type = Some(selector);
        self
    }

    /// Overrides where the idempotency key comes from.
    pub fn idempotency_key(mut self, selector: Selector) -> Self {
        self.idempotency_key = Some(selector);
        self
    }

    /// Makes payloads match their event type's schema (see [`Source::validates_payload`]).
    pub fn validate_payload(mut self, validate: bool) -> Self {
        self.validate_payload = validate;
        self
    }

    /// The signature scheme.
    pub fn scheme(&self) -> &dyn SignatureScheme {
        self.scheme.as_ref()
    }
}

impl Source for WebhookSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn scheme_name(&self) -> Option<&str> {
        Some(self.scheme.name())
    }

    fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        self.rate_limit
    }

    fn dedup_window(&self) -> Duration {
        self.dedup_window
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8], now: Timestamp) -> Result<(), VerifyError> {
        self.scheme
            .verify(&SignedRequest { headers, body }, &self.secrets, now)
    }

    fn identify(&self, headers: &HeaderMap, body: &[u8], payload: &Payload) -> Identity {
        let read = |own: &Option<Selector>, default: Option<Selector>| {
            own.clone()
                .or(default)
                .and_then(|s| s.read(headers, payload.json()))
        };
        let event_type = read(&self.event_type, self.scheme.default_event_type())
            .unwrap_or_else(|| UNKNOWN_EVENT_TYPE.to_owned());
        let idempotency_key = read(&self.idempotency_key, self.scheme.default_idempotency_key())
            .unwrap_or_else(|| hex::encode(Sha256::digest(body)));
        Identity {
            event_type,
            idempotency_key,
        }
    }

    fn handshake(&self, payload: &Payload) -> Option<String> {
        self.scheme.handshake(payload.json()?)
    }

    fn accepts_requests(&self) -> bool {
        self.scheme.accepts_requests()
    }

    fn validates_payload(&self) -> bool {
        self.validate_payload
    }

    fn lacks_secrets(&self) -> bool {
        self.scheme.needs_secrets() && self.secrets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::signature::{GitHub, NoSignature};

    #[test]
    fn github_defaults_come_from_headers() {
        let source = WebhookSource::new("gh", GitHub);
        let mut headers = HeaderMap::new();
        headers.insert("x-github-event", "push".parse().unwrap());
        headers.insert("x-github-delivery", "abc-123".parse().unwrap());
        let id = source.identify(&headers, b"{}", &Payload::Raw);
        assert_eq!(
            id,
            Identity {
                event_type: "push".into(),
                idempotency_key: "abc-123".into()
            }
        );
    }

    #[test]
    fn without_selectors_the_type_is_unknown_and_the_key_is_the_body_hash() {
        let source = WebhookSource::new("plain", NoSignature);
        let id = source.identify(&HeaderMap::new(), b"hello", &Payload::Raw);
        assert_eq!(id.event_type, UNKNOWN_EVENT_TYPE);
        assert_eq!(
            id.idempotency_key,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
    }

    #[test]
    fn only_a_slack_source_answers_url_verification() {
        let handshake = Payload::Json(serde_json::json!({
            "type": "url_verification",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
        }));
        let slack = WebhookSource::new("slack", crate::ingest::signature::Slack::new());
        assert_eq!(
            slack.handshake(&handshake).as_deref(),
            Some("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        );
        assert_eq!(slack.handshake(&Payload::Raw), None);
        let event = Payload::Json(serde_json::json!({"type": "event_callback", "challenge": "c"}));
        assert_eq!(slack.handshake(&event), None);
        assert_eq!(WebhookSource::new("gh", GitHub).handshake(&handshake), None);
    }

    #[test]
    fn overrides_win_over_scheme_defaults() {
        let source = WebhookSource::new("s", NoSignature)
            .event_type("$.kind".parse().unwrap())
            .idempotency_key("$.id".parse().unwrap());
        let payload = Payload::Json(serde_json::json!({"kind": "order.created", "id": 7}));
        let id = source.identify(&HeaderMap::new(), b"", &payload);
        assert_eq!(id.event_type, "order.created");
        assert_eq!(id.idempotency_key, "7");
    }
}
