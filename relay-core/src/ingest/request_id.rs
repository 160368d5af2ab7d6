//! Request ids: every ingest request has one, taken from a sane incoming `x-request-id` or
//! generated. It is answered back in `x-request-id`, recorded in the `ingest` tracing span,
//! and kept in the stored event's headers under `x-request-id`, so every delivery attempt of
//! the event logs it in its `attempt` span too. Stored headers are never forwarded to
//! destinations, so it does not leak downstream.

use std::fmt;

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use super::Reply;

/// The header a request id is read from, answered in and stored under.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming request id that is kept (longer ones are replaced).
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// A request id: 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII characters (`!` to `~`), so it is
/// safe in a header, a log line and a JSON string.
///
/// ```
/// use relay_core::ingest::RequestId;
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-request-id", "abc-123".parse().unwrap());
/// assert_eq!(RequestId::from_headers(&headers).as_str(), "abc-123");
/// headers.insert("x-request-id", "has spaces".parse().unwrap());
/// assert_ne!(RequestId::from_headers(&headers).as_str(), "has spaces"); // a new one instead
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Box<str>);

impl RequestId {
    /// A new id: a UUIDv7 (time-ordered), 36 characters.
    pub fn generate() -> Self {
        Self(
            uuid::Uuid::now_v7()
                .hyphenated()
                .to_string()
                .into_boxed_str(),
        )
    }

    /// `value` as a request id, if it is 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII bytes.
    pub fn parse(value: &[u8]) -> Option<Self> {
        let sane = (1..=MAX_REQUEST_ID_LEN).contains(&value.len())
            && value.iter().all(|b| b.is_ascii_graphic());
        // Visible ASCII is valid UTF-8.
        sane.then(|| std::str::from_utf8(value).ok())
            .flatten()
            .map(|s| Self(s.into()))
    }

    /// The request's id: its first `x-request-id` when that is sane, else a new one.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self::stored(headers).unwrap_or_else(Self::generate)
    }

    /// The id kept in a stored event's headers, if any (events stored before request ids, or
    /// written to the store directly, have none).
    pub fn stored(headers: &HeaderMap) -> Option<Self> {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| Self::parse(value.as_bytes()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a header value.
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_str(&self.0).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Reply {
    /// The reply with `x-request-id: <id>` added.
    pub fn with_request_id(mut self, id: &RequestId) -> Self {
        self.headers.insert(REQUEST_ID_HEADER, id.header_value());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_kept_and_others_refused() {
        let longest = "a".repeat(MAX_REQUEST_ID_LEN);
        for ok in ["1", "abc-DEF_123", "req:7/x=y~!", longest.as_str()] {
            assert_eq!(RequestId::parse(ok.as_bytes()).unwrap().as_str(), ok);
        }
        let too_long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
        let refused: [&[u8]; 6] = [
            b"",
            b"has space",
            b"tab\there",
            b"caf\xc3\xa9",
            b"new\nline",
            too_long.as_bytes(),
        ];
        for bad in refused {
            assert_eq!(RequestId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_sane_and_distinct() {
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 36);
        assert_eq!(RequestId::parse(a.as_str().as_bytes()), Some(a.clone()));
        assert_eq!(a.header_value(), a.as_str());
    }

    #[test]
    fn from_headers_takes_the_first_sane_value_or_generates() {
        let mut headers = HeaderMap::new();
        let generated = RequestId::from_headers(&headers);
        assert_eq!(generated.as_str().len(), 36);
        headers.append(REQUEST_ID_HEADER, HeaderValue::from_static("first"));
        headers.append(REQUEST_ID_HEADER, HeaderValue::from_static("second"));
        assert_eq!(RequestId::from_headers(&headers).as_str(), "first");
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("not sane"));
        assert_eq!(RequestId::stored(&headers), None);
        assert_ne!(RequestId::from_headers(&headers).as_str(), "not sane");
    }

    #[test]
    fn a_reply_carries_the_id() {
        let id = RequestId::parse(b"r-1").unwrap();
        let reply = super::super::IngestOutcome::UnknownSource
            .into_reply()
            .with_request_id(&id);
        assert_eq!(reply.headers[REQUEST_ID_HEADER], "r-1");
        assert_eq!(reply.status, 404);
    }

    async fn stored_id(relay: &crate::Relay, reply: &Reply) -> Option<RequestId> {
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        let id = body["event_id"].as_str().unwrap().parse().unwrap();
        let event = relay
            .store()
            .event(&crate::model::ids::TenantId::default(), id)
            .await
            .unwrap()
            .unwrap();
        RequestId::stored(&event.headers)
    }

    #[tokio::test]
    async fn the_answered_id_is_the_stored_one() {
        use super::super::IngestRequest;
        let relay = crate::Relay::builder()
            .source(crate::ingest::source::WebhookSource::new(
                "raw",
                crate::ingest::signature::NoSignature,
            ))
            .build()
            .unwrap();
        let request = |key: &'static str, id: Option<&'static str>| {
            let mut headers = HeaderMap::new();
            headers.insert("idempotency-key", HeaderValue::from_static(key));
            if let Some(id) = id {
                headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static(id));
            }
            IngestRequest::new("raw", headers, bytes::Bytes::from_static(b"{}"))
        };

        let sent = relay.answer(request("a", Some("client-7"))).await;
        assert_eq!(sent.headers[REQUEST_ID_HEADER], "client-7");
        assert_eq!(stored_id(&relay, &sent).await.unwrap().as_str(), "client-7");

        for incoming in [None, Some("not a token")] {
            let key = if incoming.is_some() { "b" } else { "c" };
            let reply = relay.answer(request(key, incoming)).await;
            let answered = RequestId::stored(&reply.headers).unwrap();
            assert_eq!(answered.as_str().len(), 36, "generated for {incoming:?}");
            assert_eq!(stored_id(&relay, &reply).await, Some(answered));
        }

        // A duplicate is answered with its own id; the event keeps the first one.
        let again = relay.answer(request("a", Some("client-8"))).await;
        assert_eq!(again.headers[REQUEST_ID_HEADER], "client-8");
        assert_eq!(
            stored_id(&relay, &again).await.unwrap().as_str(),
            "client-7"
        );

        let id = RequestId::generate();
        let refused = relay.refuse("nope", &id, super::super::IngestOutcome::UnknownSource);
        assert_eq!(
            (
                refused.status,
                refused.headers[REQUEST_ID_HEADER].as_bytes()
            ),
            (404, id.as_str().as_bytes())
        );
    }
}
