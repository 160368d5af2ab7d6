//! The outbound HTTP client: pooled, no redirects, bounded response reads.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;

use crate::policy::FailureKind;

/// How much of a response body is kept for the attempt log.
pub const RESPONSE_EXCERPT_BYTES: usize = 4096;

/// A destination's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// `Retry-After` as a delay, when present (seconds or an HTTP date).
    pub retry_after: Option<Duration>,
    /// The first [`RESPONSE_EXCERPT_BYTES`] of the body, lossily decoded.
    pub excerpt: Option<String>,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFailure {
    /// Timeout or connection failure.
    pub kind: FailureKind,
    /// What the client said.
    pub message: String,
}

/// Posts deliveries. One pooled client (keep-alive) shared by all workers.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A client that never follows redirects and connects within 5 seconds.
    pub fn new() -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("Relay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }

    /// POSTs `body` with `headers` to `url`; the whole exchange (response body included) must
    /// finish within `timeout`.
    pub async fn post(
        &self,
        url: &reqwest::Url,
        headers: HeaderMap,
        body: Bytes,
        timeout: Duration,
    ) -> Result<HttpAnswer, HttpFailure> {
        let exchange = async {
            let mut response = self
                .client
                .post(url.clone())
                .headers(headers)
                .body(body)
                .send()
                .await
                .map_err(classify)?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let mut excerpt = Vec::new();
            while excerpt.len() < RESPONSE_EXCERPT_BYTES {
                match response.chunk().await {
                    Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                    Ok(None) | Err(_) => break,
                }
            }
            excerpt.truncate(RESPONSE_EXCERPT_BYTES);
            let excerpt =
                (!excerpt.is_empty()).then(|| String::from_utf8_lossy(&excerpt).into_owned());
            Ok(HttpAnswer {
                status,
                retry_after,
                excerpt,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(HttpFailure {
                    kind: FailureKind::Timeout,
                    message: format!("no answer within {timeout:?}"),
                })
            })
    }
}

fn classify(error: reqwest::Error) -> HttpFailure {
    let kind = if error.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::Connect
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    HttpFailure { kind, message }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (a past date is zero).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(100));
        let parsed = parse_retry_after(&future).unwrap();
        assert!(
            parsed > Duration::from_secs(95) && parsed <= Duration::from_secs(100),
            "{parsed:?}"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-5"), None);
    }
}
