//! The outbound HTTP client: pooled keep-alive connections, no redirects, bounded response
//! reads, every address checked by the SSRF guard.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;

use crate::deliver::guard::{BlockedAddress, GuardedResolver};
use crate::deliver::policy::FailureKind;
use crate::model::attempt_detail::capped_response_headers;

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
    /// The response headers, [capped](crate::model::attempt_detail::capped_response_headers).
    pub headers: Vec<(String, String)>,
}

/// A request that got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFailure {
    /// Timeout or connection failure.
    pub kind: FailureKind,
    /// What the client said.
    pub message: String,
}

/// How long one attempt may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timeouts {
    /// To establish the connection (DNS, TCP and TLS).
    pub connect: Duration,
    /// For the whole exchange, the response body excerpt included.
    pub total: Duration,
}

/// Posts deliveries. Keep-alive connections are pooled per destination host and shared by
/// all workers; redirects are never followed; proxies from the environment are ignored (a
/// proxy would resolve names out of the guard's sight). Every address connected to passes
/// the [`AddressGuard`](crate::deliver::guard::AddressGuard): literal hosts before sending, names
/// through the [`GuardedResolver`].
#[derive(Debug, Clone)]
pub struct HttpTransport {
    resolver: GuardedResolver,
    /// One pooled client per distinct connect timeout (most destinations share the default).
    clients: Arc<Mutex<HashMap<Duration, reqwest::Client>>>,
}

impl HttpTransport {
    /// The connect timeout of destinations that set none.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    /// A transport resolving and checking addresses with `resolver`.
    pub fn new(resolver: GuardedResolver) -> Result<Self, reqwest::Error> {
        let client = build_client(&resolver, Self::DEFAULT_CONNECT_TIMEOUT)?;
        let clients = HashMap::from([(Self::DEFAULT_CONNECT_TIMEOUT, client)]);
        Ok(Self {
            resolver,
            clients: Arc::new(Mutex::new(clients)),
        })
    }

    /// The resolver (and through it the guard) in use.
    pub fn resolver(&self) -> &GuardedResolver {
        &self.resolver
    }

    fn client(&self, connect: Duration) -> Result<reqwest::Client, HttpFailure> {
        let mut clients = self
            .clients
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(client) = clients.get(&connect) {
            return Ok(client.clone());
        }
        let client = build_client(&self.resolver, connect).map_err(classify)?;
        clients.insert(connect, client.clone());
        Ok(client)
    }

    /// POSTs `body` with `headers` to `url` within `timeouts`.
    pub async fn post(
        &self,
        url: &reqwest::Url,
        headers: HeaderMap,
        body: Bytes,
        timeouts: Timeouts,
    ) -> Result<HttpAnswer, HttpFailure> {
        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal
            && let Err(blocked) = self.resolver.guard().check_ip(ip)
        {
            return Err(HttpFailure {
                kind: FailureKind::BlockedAddress,
                message: blocked.to_string(),
            });
        }
        let client = self.client(timeouts.connect.min(timeouts.total))?;
        let exchange = async {
            let mut response = client
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
            let headers = capped_response_headers(response.headers());
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
                headers,
            })
        };
        tokio::time::timeout(timeouts.total, exchange)
            .await
            .unwrap_or_else(|_| {
                Err(HttpFailure {
                    kind: FailureKind::Timeout,
                    message: format!("no answer within {:?}", timeouts.total),
                })
            })
    }
}

fn build_client(
    resolver: &GuardedResolver,
    connect_timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    // The Mozilla list (webpki-root-certs) beside the operating system's roots (reqwest's
    // platform verifier), so a host without a CA bundle still delivers over HTTPS.
    let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .filter_map(|der| reqwest::Certificate::from_der(der).ok());
    crate::tls::client_builder()
        .tls_certs_merge(mozilla)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(resolver.clone()))
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .tcp_keepalive(Duration::from_secs(60))
        .tcp_nodelay(true)
        .user_agent(concat!("Relay/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Sorts a client error into timeout, refused address or connection failure. The URL is left
/// out of the message: it may carry a token (many webhook URLs are secrets themselves).
fn classify(error: reqwest::Error) -> HttpFailure {
    let error = error.without_url();
    let mut kind = if error.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::Connect
    };
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        if let Some(blocked) = inner.downcast_ref::<BlockedAddress>() {
            return HttpFailure {
                kind: FailureKind::BlockedAddress,
                message: blocked.to_string(),
            };
        }
        if inner
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            kind = FailureKind::Timeout;
        }
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
