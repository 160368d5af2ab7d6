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
mod template;

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use crate::model::event::Event;
use crate::model::payload::Payload;

pub use calendar_to_database::CalendarToDatabase;
pub use form_to_email::FormToEmail;
pub use github_to_discord::GithubToDiscord;
pub use github_to_slack::GithubToSlack;
pub use identity::Identity;
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

/// The body and headers sent to a destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Transformed {
    /// The outbound body.
    pub body: Bytes,
    /// Extra outbound headers (`content-type` among them).
    pub headers: HeaderMap,
}

/// A transformer could not shape this event. The delivery is dead-lettered at once (retrying
/// cannot fix it) with this reason in the attempt log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

/// Shapes an event's payload for a destination. Registered by name with
/// [`RelayBuilder::transformer`](crate::RelayBuilder::transformer) and referred to by routes.
///
/// ```
/// use bytes::Bytes;
/// use http::HeaderMap;
/// use relay_core::transform::{Transformer, TransformInput, Transformed, TransformError};
///
/// /// Sends `{"text": "<event type> from <source>"}`.
/// #[derive(Debug)]
/// struct Announce;
///
/// impl Transformer for Announce {
///     fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
///         let text = format!("{} from {}", input.event.event_type, input.event.source);
///         let body = serde_json::to_vec(&serde_json::json!({ "text": text }))
///             .map_err(|e| TransformError(e.to_string()))?;
///         let mut headers = HeaderMap::new();
///         headers.insert("content-type", "application/json".parse().unwrap());
///         Ok(Transformed { body: Bytes::from(body), headers })
///     }
/// }
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

impl TransformError {
    /// An error with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
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

/// A JSON body with `content-type: application/json`.
fn json_body(value: &Value) -> Result<Transformed, TransformError> {
    let body = serde_json::to_vec(value).map_err(|e| TransformError(e.to_string()))?;
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(Transformed {
        body: Bytes::from(body),
        headers,
    })
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
mod pipeline_tests {
    //! Conditions and transformers through ingest and the delivery worker.

    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use bytes::Bytes;
    use http::HeaderMap;
    use serde_json::{Value, json};

    use crate::Relay;
    use crate::deliver::WorkerConfig;
    use crate::deliver::destination::{Destination, HandlerError, Message};
    use crate::ingest::signature::NoSignature;
    use crate::ingest::source::WebhookSource;
    use crate::ingest::{IngestOutcome, IngestRequest};
    use crate::model::event::{AttemptOutcome, DeliveryStatus};
    use crate::model::ids::{EventId, TenantId};
    use crate::route::{ConditionSpec, EventRoute, Op};

    type Received = Arc<Mutex<Vec<(String, Value)>>>;

    fn recording(name: &'static str, received: &Received) -> Destination {
        let received = received.clone();
        Destination::handler(name, move |m: Message| {
            let received = received.clone();
            async move {
                let body = serde_json::from_slice(&m.body).unwrap_or(Value::Null);
                received
                    .lock()
                    .map_err(|_| HandlerError::Reject("poisoned".into()))?
                    .push((name.to_owned(), body));
                Ok::<(), HandlerError>(())
            }
        })
    }

    async fn ingest(
        relay: &Relay,
        source: &str,
        headers: HeaderMap,
        body: &'static str,
    ) -> EventId {
        match relay
            .ingest(IngestRequest::new(
                source,
                headers,
                Bytes::from_static(body.as_bytes()),
            ))
            .await
        {
            IngestOutcome::Accepted { event_id } => event_id,
            other => panic!("{other:?}"),
        }
    }

    /// Waits until every delivery of the event is delivered or dead-lettered.
    async fn settled(relay: &Relay, event: EventId) -> Vec<crate::model::event::Delivery> {
        let tenant = TenantId::default();
        for _ in 0..200 {
            let deliveries = relay.store().deliveries(&tenant, event).await.unwrap();
            if deliveries.iter().all(|d| {
                matches!(
                    d.status,
                    DeliveryStatus::Delivered | DeliveryStatus::DeadLettered
                )
            }) {
                return deliveries;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("deliveries of {event} did not settle");
    }

    #[tokio::test]
    async fn conditions_route_and_transform_errors_dead_letter_without_retry() {
        let received = Received::default();
        let relay = Relay::builder()
            .source(WebhookSource::new("github", NoSignature))
            .source(WebhookSource::new("calendar", NoSignature))
            .destination(recording("slack", &received))
            .destination(recording("rows", &received))
            .route(
                EventRoute::new("main-to-slack")
                    .source("github")
                    .conditions([ConditionSpec::new(
                        "$.ref",
                        Op::StartsWith,
                        Some(json!("refs/heads/")),
                    )])
                    .unwrap()
                    .to(["slack"])
                    .transformer("github_to_slack"),
            )
            .route(
                EventRoute::new("calendar-changes")
                    .source("calendar")
                    .conditions([ConditionSpec::new(
                        "$.__goog_meta.resource_state",
                        Op::In,
                        Some(json!(["exists", "not_exists"])),
                    )])
                    .unwrap()
                    .to(["rows"])
                    .transformer("calendar_to_database"),
            )
            .build()
            .unwrap();
        let worker = relay.spawn_worker(WorkerConfig::default());

        // A push-shaped payload that github_to_slack cannot read: one attempt, dead-lettered.
        let bad = ingest(
            &relay,
            "github",
            HeaderMap::new(),
            r#"{"ref": "refs/heads/x"}"#,
        )
        .await;
        let deliveries = settled(&relay, bad).await;
        assert_eq!(deliveries.len(), 1);
        assert_eq!(deliveries[0].status, DeliveryStatus::DeadLettered);
        let attempts = relay
            .store()
            .attempts(&TenantId::default(), deliveries[0].id)
            .await
            .unwrap();
        assert_eq!(attempts.len(), 1, "a transform error is not retried");
        assert_eq!(attempts[0].outcome, AttemptOutcome::DeadLettered);
        assert_eq!(
            attempts[0].error.as_deref(),
            Some(
                "transform: github_to_slack: not a GitHub push payload (no string `repository.full_name`)"
            )
        );

        // A condition that does not hold routes nowhere.
        let tag = ingest(
            &relay,
            "github",
            HeaderMap::new(),
            r#"{"ref": "refs/tags/v1"}"#,
        )
        .await;
        assert!(
            relay
                .store()
                .deliveries(&TenantId::default(), tag)
                .await
                .unwrap()
                .is_empty()
        );

        // Google headers with an empty body: routed on `$.__goog_meta`, shaped into a row.
        let mut headers = HeaderMap::new();
        headers.insert("x-goog-channel-id", "chan".parse().unwrap());
        headers.insert("x-goog-resource-state", "exists".parse().unwrap());
        headers.insert("x-goog-message-number", "42".parse().unwrap());
        let sync_headers = {
            let mut h = headers.clone();
            h.insert("x-goog-resource-state", "sync".parse().unwrap());
            h.insert("idempotency-key", "sync-1".parse().unwrap());
            h
        };
        let change = ingest(&relay, "calendar", headers, "").await;
        assert_eq!(
            settled(&relay, change).await[0].status,
            DeliveryStatus::Delivered
        );
        let sync = ingest(&relay, "calendar", sync_headers, "").await;
        assert!(
            relay
                .store()
                .deliveries(&TenantId::default(), sync)
                .await
                .unwrap()
                .is_empty()
        );
        worker.shutdown().await;

        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 1, "{received:?}");
        let (destination, row) = &received[0];
        assert_eq!(destination, "rows");
        assert_eq!(
            (
                row["channel_id"].as_str(),
                row["resource_state"].as_str(),
                row["message_number"].as_u64()
            ),
            (Some("chan"), Some("exists"), Some(42))
        );
        assert_eq!(row["event_id"], change.to_string());
    }
}
