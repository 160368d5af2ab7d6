//! Transformers: the payload shape each destination receives.
//!
//! Built-ins, one per file:
//!
//! | name | type | output |
//! |---|---|---|
//! | `identity` | [`Identity`] | the body as received |
//! | `github_to_slack` | [`GithubToSlack`] | Slack incoming-webhook `{"text": …}` for a GitHub push |
//! | `github_to_discord` | [`GithubToDiscord`] | Discord webhook with one embed for a GitHub push |
//! | `calendar_to_database` | [`CalendarToDatabase`] | a flat row for a Google Calendar push notification |
//! | — | [`FormToEmail`] | a transactional email `{to, from, reply_to, subject, text}` for a form POST |
//! | — | [`Template`] | a JSON template with `{{ $.json.path }}` placeholders, from configuration |
//!
//! The parameterless ones are registered under their names by [`builtin_transformers`] (the
//! [`Catalog`](crate::catalog::Catalog) adds them unless a transformer of the same name is
//! registered). A [`TransformError`] fails the attempt with `transform: <reason>` and
//! dead-letters the delivery without retrying.

mod calendar_to_database;
mod form_to_email;
mod github;
mod github_to_discord;
mod github_to_slack;
mod identity;
mod output;
mod template;

use std::fmt;
use std::sync::Arc;

use http::header::CONTENT_TYPE;
use serde_json::Value;

use crate::model::event::Event;
use crate::model::payload::Payload;

pub use calendar_to_database::CalendarToDatabase;
pub use form_to_email::FormToEmail;
pub use github_to_discord::GithubToDiscord;
pub use github_to_slack::GithubToSlack;
pub use identity::Identity;
pub use output::{TransformError, Transformed};
pub use template::{MAX_TEMPLATE_DEPTH, Template, TemplateError, TemplateSpec};

/// What a transformer reads: the stored event and its understood payload.
#[derive(Debug, Clone, Copy)]
pub struct TransformInput<'a> {
    /// The event as stored (raw body, headers, type, source).
    pub event: &'a Event,
    /// The payload as understood from the body.
    pub payload: &'a Payload,
    /// The destination the output is for.
    pub destination: &'a str,
}

/// Shapes an event's payload for a destination. Registered by name with
/// [`RelayBuilder::transformer`](crate::RelayBuilder::transformer) and referred to by routes.
///
/// Everything an implementation names is reachable through relay-core: the crate root
/// re-exports the transform types, and [`relay_core::http`](crate::http),
/// [`relay_core::bytes`](crate::bytes) and [`relay_core::serde_json`](crate::serde_json) are
/// the crates its types come from, so no direct dependency on them is needed.
///
/// ```
/// use relay_core::serde_json::json;
/// use relay_core::{Destination, EventRoute, HandlerError, IngestOutcome, IngestRequest};
/// use relay_core::{Message, NoSignature, Relay, WebhookSource, WorkerConfig};
/// use relay_core::{TransformError, TransformInput, Transformed, Transformer};
///
/// /// Sends `{"text": "<event type> from <source>: order <$.order>"}`.
/// #[derive(Debug)]
/// struct Announce;
///
/// impl Transformer for Announce {
///     fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
///         let payload = input.payload.json().ok_or_else(|| TransformError::new("not JSON"))?;
///         let order = &payload["order"];
///         let (event_type, source) = (&input.event.event_type, &input.event.source);
///         Transformed::json(&json!({ "text": format!("{event_type} from {source}: order {order}") }))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (sent, mut received) = tokio::sync::mpsc::unbounded_channel();
/// let relay = Relay::builder()
///     .source(WebhookSource::new("shop", NoSignature))
///     .transformer("announce", Announce)
///     .destination(Destination::handler("chat", move |m: Message| {
///         let sent = sent.clone();
///         async move { sent.send(m.body).map_err(|e| HandlerError::Reject(e.to_string())) }
///     }))
///     .route(EventRoute::new("orders").source("shop").to(["chat"]).transformer("announce"))
///     .build()
///     .unwrap();
/// let worker = relay.spawn_worker(WorkerConfig::default());
///
/// let mut headers = relay_core::http::HeaderMap::new();
/// headers.insert("x-event-type", "order.created".parse().unwrap());
/// headers.insert("content-type", "application/json".parse().unwrap());
/// let body = relay_core::bytes::Bytes::from_static(br#"{"order":42}"#);
/// let outcome = relay.ingest(IngestRequest::new("shop", headers, body)).await;
/// assert!(matches!(outcome, IngestOutcome::Accepted { .. }), "{outcome:?}");
///
/// let delivered = received.recv().await.unwrap();
/// assert_eq!(&delivered[..], br#"{"text":"order.created from shop: order 42"}"#);
/// worker.shutdown().await;
/// # }
/// ```
pub trait Transformer: Send + Sync + fmt::Debug {
    /// Produces the outbound body and headers.
    fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError>;

    /// Whether it reads [`TransformInput::payload`] (default `true`). A transformer that only
    /// passes the stored body on answers `false`, and the delivery worker then skips parsing
    /// the body: the payload it is given is [`Payload::Raw`].
    fn reads_payload(&self) -> bool {
        true
    }
}

/// The parameterless built-in transformers under the names routes refer to them by:
/// `identity`, `github_to_slack`, `github_to_discord`, `calendar_to_database`.
///
/// ```
/// let names: Vec<String> = relay_core::transform::builtin_transformers()
///     .into_iter()
///     .map(|(name, _)| name)
///     .collect();
/// assert_eq!(names, ["identity", "github_to_slack", "github_to_discord", "calendar_to_database"]);
/// ```
pub fn builtin_transformers() -> Vec<(String, Arc<dyn Transformer>)> {
    vec![
        (Identity::NAME.to_owned(), Arc::new(Identity)),
        (GithubToSlack::NAME.to_owned(), Arc::new(GithubToSlack)),
        (GithubToDiscord::NAME.to_owned(), Arc::new(GithubToDiscord)),
        (
            CalendarToDatabase::NAME.to_owned(),
            Arc::new(CalendarToDatabase),
        ),
    ]
}

/// The payload's JSON, or an error naming the transformer when the body is not JSON.
fn require_json<'a>(name: &str, input: &TransformInput<'a>) -> Result<&'a Value, TransformError> {
    input.payload.json().ok_or_else(|| {
        TransformError(format!(
            "{name}: the payload is not JSON (content-type {:?})",
            input
                .event
                .headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none")
        ))
    })
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Building a [`TransformInput`] in tests.

    use bytes::Bytes;
    use http::HeaderMap;

    use crate::model::event::{Event, EventStatus};
    use crate::model::ids::{EventId, TenantId};
    use crate::model::payload::Payload;
    use crate::model::time::Timestamp;

    /// A stored event with these headers and body, received at 2024-05-14T09:22:10.123Z.
    pub(crate) fn event(
        event_type: &str,
        headers: HeaderMap,
        body: impl Into<Bytes>,
    ) -> (Event, Payload) {
        let body = body.into();
        let payload = Payload::parse(&headers, &body);
        let event = Event {
            tenant: TenantId::default_tenant(),
            id: EventId::new(),
            source: "test".into(),
            event_type: event_type.into(),
            idempotency_key: "k".into(),
            headers,
            body,
            received_at: Timestamp::from_millis(1_715_678_530_123),
            status: EventStatus::Routed,
        };
        (event, payload)
    }

    /// The fixture GitHub push payload.
    pub(crate) const GITHUB_PUSH: &str = include_str!("fixtures/github_push.json");

    /// The output body as JSON.
    pub(crate) fn body_json(t: &super::Transformed) -> serde_json::Value {
        serde_json::from_slice(&t.body).expect("JSON output")
    }
}

#[cfg(test)]
mod pipeline_tests;
