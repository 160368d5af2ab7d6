//! Outbound headers: Standard Webhooks signing, attempt number and trace context.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

use crate::ingest::signature::hmac_sha256;
use crate::model::ids::{DeliveryId, EventId};
use crate::model::secret::Secret;

/// The key bytes of a Standard Webhooks secret: `whsec_<base64>` decodes; anything else is
/// used as raw bytes.
pub fn signing_key(secret: &Secret) -> Vec<u8> {
    crate::ingest::signature::standard_webhooks_key(secret)
}

/// The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
///
/// ```
/// // The example from the Standard Webhooks specification.
/// use relay_core::deliver::sign_standard_webhook;
/// let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into();
/// let signature = sign_standard_webhook(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
/// assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
/// ```
pub fn sign_standard_webhook(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mac = hmac_sha256(
        &signing_key(secret),
        &[id.as_bytes(), b".", ts.as_bytes(), b".", body],
    );
    format!("v1,{}", BASE64.encode(mac))
}

/// The W3C `traceparent` of an attempt: the event's id is the trace id (one trace per event,
/// spanning every attempt), `span` the attempt's span id (see [`attempt_span_id`]).
///
/// ```
/// use relay_core::deliver::traceparent;
/// use relay_core::model::ids::EventId;
/// let event = EventId::new();
/// let header = traceparent(event, 0xab);
/// assert_eq!(header, format!("00-{}-00000000000000ab-01", event.as_uuid().simple()));
/// ```
pub fn traceparent(event: EventId, span: u64) -> String {
    format!("00-{}-{span:016x}-01", event.as_uuid().simple())
}

/// A new random span id for an attempt, never zero (an all-zero id is invalid in W3C trace
/// context).
pub fn attempt_span_id() -> u64 {
    rand::random::<u64>().max(1)
}

/// The span id of an event's `ingest` span: the event id's last 8 bytes, never zero. Every
/// node derives it from the event alone, so attempts name it as their parent.
pub fn ingest_span(event: EventId) -> u64 {
    let low = event.as_uuid().as_u128() as u64;
    low.max(1)
}

/// Everything Relay adds to an outbound request on top of the transformer's headers.
#[derive(Debug, Clone, Copy)]
pub struct OutboundContext<'a> {
    /// The delivery (`webhook-id`).
    pub delivery: DeliveryId,
    /// The event (`x-relay-event-id`, and the trace id).
    pub event: EventId,
    /// The event's type (`x-relay-event-type`).
    pub event_type: &'a str,
    /// The attempt number (`x-relay-attempt`), 1 for the first.
    pub attempt: u32,
    /// The attempt's span id (`traceparent`), from [`attempt_span_id`].
    pub span: u64,
    /// Unix seconds (`webhook-timestamp`).
    pub timestamp: i64,
    /// The destination's signing secret.
    pub secret: Option<&'a Secret>,
}

/// Adds `webhook-id`, `webhook-timestamp`, `webhook-signature` (when a secret is set),
/// `x-relay-attempt`, `x-relay-event-type`, `x-relay-event-id` and `traceparent` to
/// `headers`. An event type that is not a valid header value is sent percent-encoded.
pub fn add_outbound_headers(headers: &mut HeaderMap, context: &OutboundContext<'_>, body: &[u8]) {
    let id = context.delivery.to_string();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    if let Some(secret) = context.secret {
        put(
            "webhook-signature",
            sign_standard_webhook(secret, &id, context.timestamp, body),
        );
    }
    put("webhook-timestamp", context.timestamp.to_string());
    put("x-relay-attempt", context.attempt.to_string());
    put("x-relay-event-id", context.event.to_string());
    put("x-relay-event-type", header_safe(context.event_type));
    put("traceparent", traceparent(context.event, context.span));
    put("webhook-id", id);
}

/// `value` as a header value: printable ASCII as it is, anything else percent-encoded.
fn header_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if (0x20..0x7f).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_complete_and_signature_verifies() {
        let secret = Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let delivery = DeliveryId::new();
        let context = OutboundContext {
            delivery,
            event: EventId::new(),
            event_type: "invoice.paid",
            attempt: 3,
            span: 0x1234,
            timestamp: 1_700_000_000,
            secret: Some(&secret),
        };
        let mut headers = HeaderMap::new();
        add_outbound_headers(&mut headers, &context, b"{}");
        assert_eq!(headers["webhook-id"], delivery.to_string().as_str());
        assert_eq!(headers["x-relay-attempt"], "3");
        assert_eq!(headers["x-relay-event-type"], "invoice.paid");
        assert_eq!(
            headers["x-relay-event-id"],
            context.event.to_string().as_str()
        );
        assert_eq!(headers["webhook-timestamp"], "1700000000");
        let expected = sign_standard_webhook(&secret, &delivery.to_string(), 1_700_000_000, b"{}");
        assert_eq!(headers["webhook-signature"], expected.as_str());
        let trace = headers["traceparent"].to_str().unwrap();
        assert_eq!(trace.len(), 55);
        assert!(trace.starts_with("00-") && trace.ends_with("-0000000000001234-01"));
    }

    #[test]
    fn an_event_type_that_is_no_header_value_is_percent_encoded() {
        assert_eq!(header_safe("push"), "push");
        assert_eq!(header_safe("café\n50%"), "caf%C3%A9%0A50%25");
    }

    #[test]
    fn raw_secrets_are_used_as_bytes() {
        assert_eq!(signing_key(&Secret::new("plain")), b"plain");
        assert_eq!(signing_key(&Secret::new("whsec_!!!")), b"whsec_!!!");
    }
}
