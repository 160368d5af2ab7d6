//! Transformers: the payload shape each destination receives.

use std::fmt;

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};

use crate::event::Event;
use crate::payload::Payload;

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

/// Sends the body exactly as received, with its original `content-type`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl Transformer for Identity {
    fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        let mut headers = HeaderMap::new();
        let content_type = input
            .event
            .headers
            .get(CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        headers.insert(CONTENT_TYPE, content_type);
        Ok(Transformed {
            body: input.event.body.clone(),
            headers,
        })
    }
}
