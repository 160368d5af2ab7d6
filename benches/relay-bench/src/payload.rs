//! The load: signed 1 KiB GitHub `push` deliveries, each with its own `X-GitHub-Delivery`.

use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HOST, HeaderMap, HeaderValue, USER_AGENT};
use http::{Method, Request};
use http_body_util::Full;
use sha2::Sha256;

use crate::error::BenchError;

/// The GitHub source's secret.
pub const SECRET: &str = "It's a Secret to Everybody";

/// Size of every body, in bytes.
pub const BODY_BYTES: usize = 1024;

/// Builds the `i`-th request of a measurement: a unique body, its signature, unique headers.
#[derive(Clone)]
pub struct Pushes {
    host: HeaderValue,
    /// HMAC-SHA256 keyed once; cloned per request (cheaper than re-keying).
    mac: Hmac<Sha256>,
}

impl Pushes {
    /// Requests for the server at `host` (`127.0.0.1:PORT`).
    pub fn new(host: &str) -> Result<Self, BenchError> {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes())
            .map_err(|_| BenchError::Setup("HMAC key refused".into()))?;
        Ok(Self {
            host: HeaderValue::from_str(host).map_err(http::Error::from)?,
            mac,
        })
    }

    /// The `i`-th body: a GitHub-like push payload padded to exactly [`BODY_BYTES`].
    pub fn body(i: u64) -> Bytes {
        let head = format!(
            "{{\"ref\":\"refs/heads/main\",\"before\":\"{:040x}\",\"after\":\"{:040x}\",\
             \"repository\":{{\"id\":1,\"full_name\":\"acme/relay\"}},\
             \"pusher\":{{\"name\":\"bench\"}},\"head_commit\":{{\"message\":\"",
            i.wrapping_sub(1),
            i
        );
        let tail = "\"}}";
        let pad = BODY_BYTES.saturating_sub(head.len() + tail.len());
        let mut body = String::with_capacity(BODY_BYTES);
        body.push_str(&head);
        body.extend(std::iter::repeat_n('x', pad));
        body.push_str(tail);
        Bytes::from(body)
    }

    /// Which push `body` is (the inverse of [`Pushes::body`]), from its `"after"` field.
    pub fn index_of(body: &[u8]) -> Option<u64> {
        const AFTER: &[u8] = b"\"after\":\"";
        let start = body.windows(AFTER.len()).position(|w| w == AFTER)? + AFTER.len();
        let hex = std::str::from_utf8(body.get(start..start + 40)?).ok()?;
        u64::from_str_radix(&hex[24..], 16).ok()
    }

    /// `sha256=<hex>` of `body`.
    pub fn signature(&self, body: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    /// The unique `X-GitHub-Delivery` of the `i`-th request.
    pub fn delivery_id(i: u64) -> String {
        format!("bench-{i:016x}")
    }

    /// The headers of the `i`-th request (without `content-length`, which hyper adds).
    pub fn headers(&self, i: u64, body: &[u8]) -> Result<HeaderMap, http::Error> {
        let mut headers = HeaderMap::with_capacity(8);
        headers.insert(HOST, self.host.clone());
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static("GitHub-Hookshot/bench"),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("x-github-event", HeaderValue::from_static("push"));
        headers.insert(
            "x-github-delivery",
            HeaderValue::from_str(&Self::delivery_id(i))?,
        );
        headers.insert(
            "x-hub-signature-256",
            HeaderValue::from_str(&self.signature(body))?,
        );
        Ok(headers)
    }

    /// The headers as the gateway receives (and stores) them: with `content-length`.
    pub fn received_headers(&self, i: u64, body: &[u8]) -> Result<HeaderMap, http::Error> {
        let mut headers = self.headers(i, body)?;
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
        Ok(headers)
    }

    /// The `i`-th signed `POST /webhooks/github`.
    pub fn request(&self, i: u64) -> Result<Request<Full<Bytes>>, http::Error> {
        let body = Self::body(i);
        let headers = self.headers(i, &body)?;
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/webhooks/github")
            .body(Full::new(body))?;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_one_kib_of_json_and_unique() {
        let (a, b) = (Pushes::body(1), Pushes::body(2));
        assert_eq!(a.len(), BODY_BYTES);
        assert_ne!(a, b);
        let text = std::str::from_utf8(&a).unwrap();
        assert!(text.starts_with("{\"ref\":\"refs/heads/main\""), "{text}");
        assert!(text.ends_with("\"}}"), "{text}");
        assert_eq!(
            Pushes::index_of(&Pushes::body(u64::MAX - 3)),
            Some(u64::MAX - 3)
        );
        assert_eq!(Pushes::index_of(&b), Some(2));
        assert_eq!(Pushes::index_of(b"{}"), None);
    }

    #[test]
    fn signature_is_githubs() {
        // The example from GitHub's documentation.
        let pushes = Pushes::new("127.0.0.1:1").unwrap();
        assert_eq!(
            pushes.signature(b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
