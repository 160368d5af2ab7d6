//! What an attempt sent and got back beyond its status: kept per attempt for debugging a
//! delivery (the admin API's attempt view), small by construction.

use bytes::Bytes;
use http::HeaderMap;

mod json;

/// What a header value shows when it carries a signature or a credential.
pub const REDACTED: &str = "[redacted]";

/// How many response headers an attempt keeps.
pub const MAX_RESPONSE_HEADERS: usize = 32;

/// How many bytes of one response header value an attempt keeps.
pub const MAX_RESPONSE_HEADER_VALUE: usize = 256;

/// Whether a header's value is a signature or a credential (shown as [`REDACTED`]).
///
/// ```
/// use relay_core::model::attempt_detail::is_sensitive;
/// assert!(is_sensitive("webhook-signature") && is_sensitive("authorization"));
/// assert!(!is_sensitive("webhook-id") && !is_sensitive("x-relay-attempt"));
/// ```
pub fn is_sensitive(name: &str) -> bool {
    const EXACT: [&[u8]; 4] = [
        b"authorization",
        b"cookie",
        b"proxy-authorization",
        b"set-cookie",
    ];
    const PARTS: [&[u8]; 6] = [
        b"signature",
        b"hmac",
        b"secret",
        b"token",
        b"api-key",
        b"apikey",
    ];
    // Compared ASCII-case-insensitively in place: no lower-cased copy, and no substring
    // searcher set up per part (this runs for every header of every attempt).
    let name = name.as_bytes();
    EXACT.iter().any(|exact| name.eq_ignore_ascii_case(exact))
        || PARTS.iter().any(|part| {
            name.len() >= part.len()
                && name
                    .windows(part.len())
                    .any(|window| window.eq_ignore_ascii_case(part))
        })
}

/// Headers as `(name, value)` pairs in order, with signature and credential headers
/// redacted and non-UTF-8 values shown lossily.
///
/// ```
/// use relay_core::model::attempt_detail::redacted_headers;
/// use http::HeaderMap;
///
/// let mut headers = HeaderMap::new();
/// headers.insert("x-hub-signature-256", "sha256=abc".parse().unwrap());
/// headers.insert("x-github-event", "push".parse().unwrap());
/// let shown = redacted_headers(&headers);
/// assert!(shown.contains(&("x-hub-signature-256".into(), "[redacted]".into())));
/// assert!(shown.contains(&("x-github-event".into(), "push".into())));
/// ```
pub fn redacted_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut shown = Vec::with_capacity(headers.len());
    shown.extend(
        headers
            .iter()
            .map(|(name, value)| redacted(name, value, usize::MAX)),
    );
    shown
}

/// One header as shown: its value [`REDACTED`] when it is sensitive, else decoded lossily
/// and cut to at most `max` bytes (on a character boundary) before it is copied.
fn redacted(name: &http::HeaderName, value: &http::HeaderValue, max: usize) -> (String, String) {
    let name = name.as_str();
    let value = if is_sensitive(name) {
        REDACTED.to_owned()
    } else {
        let text = String::from_utf8_lossy(value.as_bytes());
        let mut end = text.len().min(max);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_owned()
    };
    (name.to_owned(), value)
}

/// A response's headers as kept by an attempt: at most [`MAX_RESPONSE_HEADERS`], each value
/// cut at [`MAX_RESPONSE_HEADER_VALUE`] bytes, credentials redacted (`set-cookie`).
pub fn capped_response_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut kept = Vec::with_capacity(headers.len().min(MAX_RESPONSE_HEADERS));
    kept.extend(
        (headers.iter().take(MAX_RESPONSE_HEADERS))
            .map(|(name, value)| redacted(name, value, MAX_RESPONSE_HEADER_VALUE)),
    );
    kept
}

/// The request an attempt sent and the response headers it got, beyond the attempt's status
/// and excerpt. Empty ([`Default`]) for attempts recorded before it was kept, and for
/// attempts that sent nothing (a transformer failed).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttemptDetail {
    /// How long the attempt took, in microseconds (the attempt's `latency_ms` is whole
    /// milliseconds: 0 for a receiver answering within a millisecond).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// The request method (`POST`) for an HTTP destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL posted to, or `agent:<name>` for a destination behind an agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The request headers as sent, signatures and credentials [redacted](REDACTED).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request_headers: Vec<(String, String)>,
    /// The response headers, [capped](capped_response_headers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_headers: Vec<(String, String)>,
    /// The body as sent, only when it differs from the event's body (a transformer changed
    /// it); `None` means the event's body was sent as received. Stored apart from the rest.
    #[serde(skip)]
    pub request_body: Option<Bytes>,
}

impl AttemptDetail {
    /// Whether nothing is kept beyond the body (stores write NULL then).
    pub fn is_empty(&self) -> bool {
        self.latency_us.is_none()
            && self.method.is_none()
            && self.url.is_none()
            && self.request_headers.is_empty()
            && self.response_headers.is_empty()
    }

    /// The JSON a store keeps (everything but the body), or `None` when there is nothing.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| json::write(self))
    }

    /// Reads [`AttemptDetail::to_json`]'s output back, with the separately stored `body`.
    pub fn from_stored(json: Option<&str>, body: Option<Bytes>) -> Result<Self, serde_json::Error> {
        let mut detail: Self = match json {
            Some(text) => serde_json::from_str(text)?,
            None => Self::default(),
        };
        detail.request_body = body;
        Ok(detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_stored_form() {
        let detail = AttemptDetail {
            latency_us: Some(420),
            method: Some("POST".into()),
            url: Some("http://127.0.0.1:9/hook".into()),
            request_headers: vec![("webhook-id".into(), "msg_1".into())],
            response_headers: vec![("server".into(), "test".into())],
            request_body: Some(Bytes::from_static(b"{}")),
        };
        let json = detail.to_json();
        let back = AttemptDetail::from_stored(json.as_deref(), detail.request_body.clone());
        assert_eq!(back.unwrap(), detail);
        assert_eq!(AttemptDetail::default().to_json(), None);
        let empty = AttemptDetail::from_stored(None, None).unwrap();
        assert_eq!(empty, AttemptDetail::default());
    }

    /// The rule as first written (a lower-cased copy, `str::contains` per part).
    fn sensitive_as_before(name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        [
            "authorization",
            "cookie",
            "proxy-authorization",
            "set-cookie",
        ]
        .contains(&&*name)
            || ["signature", "hmac", "secret", "token", "api-key", "apikey"]
                .iter()
                .any(|p| name.contains(p))
    }

    #[test]
    fn sensitivity_is_the_same_rule_as_before() {
        let names = [
            "authorization",
            "Authorization",
            "cookie",
            "COOKIE",
            "set-cookie",
            "cookies",
            "x-cookie",
            "proxy-authorization",
            "webhook-signature",
            "X-Hub-Signature-256",
            "x-hmac",
            "hmac",
            "x-secret-key",
            "token",
            "x-access-TOKEN",
            "x-api-key",
            "apikey",
            "x-apikeys",
            "api-ke",
            "webhook-id",
            "webhook-timestamp",
            "x-relay-attempt",
            "x-relay-event-id",
            "x-relay-event-type",
            "traceparent",
            "content-type",
            "",
            "a",
            "signatur",
            "tokens",
            "authorization2",
            "tok",
            "ÉTOKEN",
            "x-Éapi-key",
        ];
        for name in names {
            assert_eq!(is_sensitive(name), sensitive_as_before(name), "{name:?}");
        }
    }

    #[test]
    fn response_headers_are_capped_and_credentials_redacted() {
        let mut headers = HeaderMap::new();
        for i in 0..40 {
            headers.insert(
                http::HeaderName::try_from(format!("x-h{i}")).unwrap(),
                "v".parse().unwrap(),
            );
        }
        headers.insert(
            "x-long",
            http::HeaderValue::from_bytes("é".repeat(300).as_bytes()).unwrap(),
        );
        headers.insert("set-cookie", "session=secret".parse().unwrap());
        let kept = capped_response_headers(&headers);
        assert_eq!(kept.len(), MAX_RESPONSE_HEADERS);
        let mut one = HeaderMap::new();
        one.insert(
            "x-long",
            http::HeaderValue::from_bytes("é".repeat(300).as_bytes()).unwrap(),
        );
        one.insert("set-cookie", "session=secret".parse().unwrap());
        let kept = capped_response_headers(&one);
        assert!(kept[0].1.len() <= MAX_RESPONSE_HEADER_VALUE && kept[0].1.starts_with('é'));
        assert_eq!(kept[1], ("set-cookie".into(), REDACTED.into()));
    }
}
