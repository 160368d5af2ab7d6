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

use crate::event::Event;
use crate::payload::Payload;

pub use calendar_to_database::CalendarToDatabase;
pub use form_to_email::FormToEmail;
pub use github_to_discord::GithubToDiscord;
pub use github_to_slack::GithubToSlack;
pub use identity::Identity;
pub use template::{Template, TemplateError, TemplateSpec};

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

    use crate::event::{Event, EventStatus};
    use crate::ids::{EventId, TenantId};
    use crate::payload::Payload;
    use crate::time::Timestamp;

    /// A stored event with these headers and body, received at 2024-05-14T09:22:10.123Z.
    pub fn event(event_type: &str, headers: HeaderMap, body: impl Into<Bytes>) -> (Event, Payload) {
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
    pub const GITHUB_PUSH: &str = include_str!("fixtures/github_push.json");

    /// The output body as JSON.
    pub fn body_json(t: &super::Transformed) -> serde_json::Value {
        serde_json::from_slice(&t.body).expect("JSON output")
    }
}
