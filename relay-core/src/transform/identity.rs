//! `identity`: the body exactly as received.

use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};

use super::{TransformError, TransformInput, Transformed, Transformer};

/// Sends the body exactly as received, with its original `content-type`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity;

impl Identity {
    /// The name it is registered under.
    pub const NAME: &'static str = "identity";
}

impl Transformer for Identity {
    fn reads_payload(&self) -> bool {
        false
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_support::event;

    #[test]
    fn passes_body_and_content_type_through() {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        let (event, payload) = event("x", headers, &b"hello"[..]);
        let input = TransformInput {
            event: &event,
            payload: &payload,
            destination: "d",
        };
        let out = Identity.transform(&input).unwrap();
        assert_eq!(&out.body[..], b"hello");
        assert_eq!(out.headers[CONTENT_TYPE], "text/plain");
        let (event, payload) = event_without_type();
        let input = TransformInput {
            event: &event,
            payload: &payload,
            destination: "d",
        };
        assert_eq!(
            Identity.transform(&input).unwrap().headers[CONTENT_TYPE],
            "application/octet-stream"
        );
    }

    fn event_without_type() -> (crate::model::event::Event, crate::model::payload::Payload) {
        event("x", HeaderMap::new(), &b"\x00"[..])
    }
}
