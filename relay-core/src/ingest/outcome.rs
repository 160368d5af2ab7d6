//! The public contract of ingest: one status code and JSON body per outcome.

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};

use crate::model::ids::EventId;
use crate::publish::event_type::PayloadError;

/// What ingest answered. Every adapter turns this into the same HTTP reply with
/// [`IngestOutcome::into_reply`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IngestOutcome {
    /// Committed: `200 {"status":"accepted","event_id":…}`.
    Accepted {
        /// The new event's id.
        event_id: EventId,
    },
    /// Seen before within the dedup window: `200 {"status":"duplicate","event_id":<original>}`.
    Duplicate {
        /// The id of the event first accepted with this key.
        event_id: EventId,
    },
    /// A correctly signed endpoint check by the provider (Slack's `url_verification`),
    /// answered `200 {"challenge":…}`; nothing is stored or routed.
    Challenge {
        /// The value to echo back.
        challenge: String,
    },
    /// No source of that name: `404 {"error":"unknown_source"}`.
    UnknownSource,
    /// Bad, missing or stale signature: `401 {"error":"invalid_signature"}`.
    InvalidSignature,
    /// Body over the source's limit: `413 {"error":"payload_too_large"}`.
    PayloadTooLarge,
    /// Source over its rate: `429 {"error":"rate_limited"}` with `Retry-After`.
    RateLimited {
        /// Whole seconds until a request may succeed (at least 1).
        retry_after_secs: u64,
    },
    /// The tenant's daily quota is used up: `429 {"error":"quota_exceeded"}` with
    /// `Retry-After` (seconds to the next UTC day).
    QuotaExceeded {
        /// Whole seconds until the next UTC day (at least 1).
        retry_after_secs: u64,
    },
    /// The source validates payloads and this one does not match its event type's schema:
    /// `422 {"error":"invalid_payload","fields":[{"field":<JSON pointer>,"message":…}]}`.
    InvalidPayload {
        /// Every mismatch.
        fields: Vec<PayloadError>,
    },
    /// The body could not be read (the client broke off or sent a malformed body):
    /// `400 {"error":"unreadable_body"}`.
    UnreadableBody,
    /// The store could not commit: `503 {"error":"unavailable"}`.
    Unavailable,
}

/// A framework-neutral HTTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers (`content-type`, and `retry-after` when rate limited).
    pub headers: HeaderMap,
    /// The JSON body.
    pub body: Bytes,
}

impl IngestOutcome {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::Accepted { .. } | Self::Duplicate { .. } | Self::Challenge { .. } => 200,
            Self::UnknownSource => 404,
            Self::InvalidSignature => 401,
            Self::PayloadTooLarge => 413,
            Self::RateLimited { .. } | Self::QuotaExceeded { .. } => 429,
            Self::UnreadableBody => 400,
            Self::InvalidPayload { .. } => 422,
            Self::Unavailable => 503,
        }
    }

    /// The outcome's stable name: `accepted`, `duplicate`, `challenge`, `unknown_source`,
    /// `invalid_signature`, `payload_too_large`, `rate_limited`, `quota_exceeded`,
    /// `invalid_payload`, `unreadable_body` or `unavailable` (the `outcome` label of `relay_ingest_total`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Accepted { .. } => "accepted",
            Self::Duplicate { .. } => "duplicate",
            Self::Challenge { .. } => "challenge",
            Self::UnknownSource => "unknown_source",
            Self::InvalidSignature => "invalid_signature",
            Self::PayloadTooLarge => "payload_too_large",
            Self::RateLimited { .. } => "rate_limited",
            Self::QuotaExceeded { .. } => "quota_exceeded",
            Self::UnreadableBody => "unreadable_body",
            Self::InvalidPayload { .. } => "invalid_payload",
            Self::Unavailable => "unavailable",
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        let error = |code: &str| format!(r#"{{"error":"{code}"}}"#);
        match self {
            Self::Accepted { event_id } => {
                format!(r#"{{"status":"accepted","event_id":"{event_id}"}}"#)
            }
            Self::Duplicate { event_id } => {
                format!(r#"{{"status":"duplicate","event_id":"{event_id}"}}"#)
            }
            Self::Challenge { challenge } => {
                serde_json::json!({ "challenge": challenge }).to_string()
            }
            Self::UnknownSource => error("unknown_source"),
            Self::InvalidSignature => error("invalid_signature"),
            Self::PayloadTooLarge => error("payload_too_large"),
            Self::RateLimited { .. } => error("rate_limited"),
            Self::QuotaExceeded { .. } => error("quota_exceeded"),
            Self::UnreadableBody => error("unreadable_body"),
            Self::InvalidPayload { fields } => {
                serde_json::json!({ "error": "invalid_payload", "fields": fields }).to_string()
            }
            Self::Unavailable => error("unavailable"),
        }
    }

    /// The complete reply.
    pub fn into_reply(self) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Self::RateLimited { retry_after_secs } | Self::QuotaExceeded { retry_after_secs } =
            self
        {
            headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        Reply {
            status: self.status(),
            headers,
            body: Bytes::from(self.body()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_table() {
        let id: EventId = "evt_0192f3a07c1e70008000000000000001".parse().unwrap();
        let rows = [
            (
                IngestOutcome::Accepted { event_id: id },
                200,
                r#"{"status":"accepted","event_id":"evt_0192f3a07c1e70008000000000000001"}"#,
            ),
            (
                IngestOutcome::Duplicate { event_id: id },
                200,
                r#"{"status":"duplicate","event_id":"evt_0192f3a07c1e70008000000000000001"}"#,
            ),
            (
                IngestOutcome::Challenge {
                    challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into(),
                },
                200,
                r#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#,
            ),
            (
                IngestOutcome::UnknownSource,
                404,
                r#"{"error":"unknown_source"}"#,
            ),
            (
                IngestOutcome::InvalidSignature,
                401,
                r#"{"error":"invalid_signature"}"#,
            ),
            (
                IngestOutcome::PayloadTooLarge,
                413,
                r#"{"error":"payload_too_large"}"#,
            ),
            (
                IngestOutcome::RateLimited {
                    retry_after_secs: 7,
                },
                429,
                r#"{"error":"rate_limited"}"#,
            ),
            (
                IngestOutcome::UnreadableBody,
                400,
                r#"{"error":"unreadable_body"}"#,
            ),
            (
                IngestOutcome::Unavailable,
                503,
                r#"{"error":"unavailable"}"#,
            ),
        ];
        for (outcome, status, body) in rows {
            let reply = outcome.clone().into_reply();
            assert_eq!(reply.status, status, "{outcome:?}");
            assert_eq!(reply.body, body, "{outcome:?}");
            assert_eq!(reply.headers[CONTENT_TYPE], "application/json");
            let parsed: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
            assert!(parsed.is_object());
            assert_eq!(reply.headers.contains_key(RETRY_AFTER), status == 429);
            match outcome {
                IngestOutcome::Accepted { .. } => assert_eq!(outcome.code(), "accepted"),
                IngestOutcome::Duplicate { .. } => assert_eq!(outcome.code(), "duplicate"),
                IngestOutcome::Challenge { .. } => assert_eq!(outcome.code(), "challenge"),
                _ => assert_eq!(body, format!(r#"{{"error":"{}"}}"#, outcome.code())),
            }
        }
        assert_eq!(
            IngestOutcome::RateLimited {
                retry_after_secs: 7
            }
            .into_reply()
            .headers[RETRY_AFTER],
            "7"
        );
    }

    #[test]
    fn a_challenge_is_escaped_as_json() {
        let reply = IngestOutcome::Challenge {
            challenge: "a\"b\\c</script>".into(),
        }
        .into_reply();
        let parsed: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(parsed, serde_json::json!({"challenge": "a\"b\\c</script>"}));
    }
}
