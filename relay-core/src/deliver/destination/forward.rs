//! [`ForwardHeaders`]: the inbound headers a destination copies onto its deliveries
//! (`forward_headers`), checked so that none can break the request or pass for Relay's own.

use http::{HeaderMap, HeaderName};

/// Headers that cannot be forwarded: hop-by-hop ones, those the client computes, and the
/// ones Relay sets itself (`x-relay-*` too).
const REFUSED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "authorization",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "traceparent",
    "tracestate",
];

/// The inbound headers copied onto a destination's deliveries, e.g. `X-GitHub-Event`.
///
/// ```
/// use relay_core::deliver::destination::ForwardHeaders;
/// let forward = ForwardHeaders::new(["X-GitHub-Event"]).unwrap();
/// let mut inbound = http::HeaderMap::new();
/// inbound.insert("x-github-event", "push".parse().unwrap());
/// let mut outbound = http::HeaderMap::new();
/// forward.copy(&inbound, &mut outbound);
/// assert_eq!(outbound["x-github-event"], "push");
/// assert!(ForwardHeaders::new(["Host"]).is_err());
/// assert!(ForwardHeaders::new(["x-relay-attempt"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForwardHeaders(Vec<HeaderName>);

/// A header that cannot be forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("forward_headers[{index}]: {reason}")]
pub struct ForwardHeaderError {
    /// Its position in the list.
    pub index: usize,
    /// Why.
    pub reason: String,
}

impl ForwardHeaders {
    /// The headers called `names` (any case), each checked.
    pub fn new<I, S>(names: I) -> Result<Self, ForwardHeaderError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut headers: Vec<HeaderName> = Vec::new();
        for (index, name) in names.into_iter().enumerate() {
            let name = name.as_ref();
            let error = |reason: String| ForwardHeaderError { index, reason };
            let header = HeaderName::try_from(name)
                .map_err(|_| error(format!("{name:?} is not a header name")))?;
            let lower = header.as_str();
            if REFUSED.contains(&lower) || lower.starts_with("x-relay-") {
                return Err(error(format!(
                    "{name:?} cannot be forwarded (hop-by-hop, computed by the client, or set by Relay)"
                )));
            }
            if !headers.contains(&header) {
                headers.push(header);
            }
        }
        Ok(Self(headers))
    }

    /// Whether no header is forwarded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The headers' names, lowercase.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(HeaderName::as_str)
    }

    /// Copies each forwarded header `inbound` has (every value) onto `outbound`, unless the
    /// transformer already set it there.
    pub fn copy(&self, inbound: &HeaderMap, outbound: &mut HeaderMap) {
        for name in &self.0 {
            if outbound.contains_key(name) {
                continue;
            }
            for value in inbound.get_all(name) {
                outbound.append(name.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refused_header_and_bad_name_is_an_error_at_its_index() {
        for refused in REFUSED
            .iter()
            .chain(&["X-Relay-Event-Id", "Transfer-Encoding"])
        {
            let error = ForwardHeaders::new(["x-ok", refused]).unwrap_err();
            assert_eq!(error.index, 1, "{refused}");
        }
        assert!(ForwardHeaders::new(["bad name"]).is_err());
        assert!(ForwardHeaders::new([""]).is_err());
    }

    #[test]
    fn repeated_values_are_copied_and_the_transformer_wins() {
        let forward = ForwardHeaders::new(["X-Tag", "x-tag", "X-Set"]).unwrap();
        assert_eq!(forward.names().collect::<Vec<_>>(), ["x-tag", "x-set"]);
        let mut inbound = HeaderMap::new();
        inbound.append("x-tag", "a".parse().unwrap());
        inbound.append("x-tag", "b".parse().unwrap());
        inbound.insert("x-set", "inbound".parse().unwrap());
        let mut outbound = HeaderMap::new();
        outbound.insert("x-set", "transformer".parse().unwrap());
        forward.copy(&inbound, &mut outbound);
        let tags: Vec<_> = outbound.get_all("x-tag").iter().collect();
        assert_eq!(tags, ["a", "b"]);
        assert_eq!(outbound["x-set"], "transformer");
    }
}
