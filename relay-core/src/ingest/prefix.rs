//! Where an adapter mounts ingest: `POST {prefix}/{source}`.

use std::fmt;
use std::sync::Arc;

/// The path prefix under which an adapter answers `POST {prefix}/{source}`; every adapter asks
/// it which requests are ingest, so they all agree on which paths are theirs.
///
/// ```
/// use relay_core::ingest::IngestPrefix;
///
/// let prefix = IngestPrefix::default();
/// assert_eq!(prefix.source_of("POST", "/webhooks/github"), Some("github"));
/// assert_eq!(prefix.source_of("POST", "/webhooks/github/"), Some("github"));
/// assert_eq!(prefix.source_of("GET", "/webhooks/github"), None);
/// assert_eq!(prefix.source_of("POST", "/webhooks/github/extra"), None);
/// assert_eq!(IngestPrefix::new("hooks/").as_str(), "/hooks");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct IngestPrefix(Arc<str>);

impl IngestPrefix {
    /// The default prefix.
    pub const DEFAULT: &'static str = "/webhooks";

    /// A prefix; a missing leading `/` is added and a trailing `/` ignored, so `/` (or the empty string)
    /// mounts ingest at `POST /{source}`.
    pub fn new(prefix: &str) -> Self {
        let trimmed = prefix.trim_end_matches('/');
        if trimmed.is_empty() || trimmed.starts_with('/') {
            Self(Arc::from(trimmed))
        } else {
            Self(Arc::from(format!("/{trimmed}")))
        }
    }

    /// The normalised prefix: `/webhooks`, or the empty string for the root.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The source named by a `POST {prefix}/{source}` request (a trailing `/` allowed), or
    /// `None` when the request is not ingest and belongs to the application.
    pub fn source_of<'a>(&self, method: &str, path: &'a str) -> Option<&'a str> {
        if method != "POST" {
            return None;
        }
        let source = path.strip_prefix(&*self.0)?.strip_prefix('/')?;
        let source = source.strip_suffix('/').unwrap_or(source);
        (!source.is_empty() && !source.contains('/')).then_some(source)
    }
}

impl IngestPrefix {
    /// The tenant and source named by a `POST {prefix}/{source}` request (tenant `None`: the
    /// default tenant) or a `POST {prefix}/{tenant}/{source}` one (a trailing `/` allowed);
    /// `None` when the request is not ingest.
    ///
    /// ```
    /// use relay_core::ingest::IngestPrefix;
    ///
    /// let prefix = IngestPrefix::default();
    /// assert_eq!(prefix.target_of("POST", "/webhooks/github"), Some((None, "github")));
    /// assert_eq!(prefix.target_of("POST", "/webhooks/acme/github/"), Some((Some("acme"), "github")));
    /// assert_eq!(prefix.target_of("POST", "/webhooks/a/b/c"), None);
    /// assert_eq!(prefix.target_of("POST", "/webhooks//github"), None);
    /// ```
    pub fn target_of<'a>(&self, method: &str, path: &'a str) -> Option<(Option<&'a str>, &'a str)> {
        if method != "POST" {
            return None;
        }
        let rest = path.strip_prefix(&*self.0)?.strip_prefix('/')?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        match rest.split_once('/') {
            None => (!rest.is_empty()).then_some((None, rest)),
            Some((tenant, source)) => {
                (!tenant.is_empty() && !source.is_empty() && !source.contains('/'))
                    .then_some((Some(tenant), source))
            }
        }
    }
}

impl Default for IngestPrefix {
    fn default() -> Self {
        Self::new(Self::DEFAULT)
    }
}

impl fmt::Debug for IngestPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::IngestPrefix;

    #[test]
    fn only_post_to_one_segment_under_the_prefix_is_ingest() {
        let prefix = IngestPrefix::new("/hooks");
        let cases = [
            ("POST", "/hooks/stripe", Some("stripe")),
            ("POST", "/hooks/stripe/", Some("stripe")),
            ("POST", "/hooks/", None),
            ("POST", "/hooks", None),
            ("POST", "/hooks//", None),
            ("POST", "/hooksx/stripe", None),
            ("POST", "/hooks/a/b", None),
            ("POST", "/other/stripe", None),
            ("PUT", "/hooks/stripe", None),
            ("post", "/hooks/stripe", None),
        ];
        for (method, path, expected) in cases {
            assert_eq!(prefix.source_of(method, path), expected, "{method} {path}");
        }
    }

    #[test]
    fn prefixes_are_normalised() {
        for raw in ["/a/b", "a/b", "/a/b/", "a/b//"] {
            assert_eq!(IngestPrefix::new(raw).as_str(), "/a/b", "{raw}");
        }
        assert_eq!(IngestPrefix::default().as_str(), "/webhooks");
        let root = IngestPrefix::new("/");
        assert_eq!(root.as_str(), "");
        assert_eq!(root.source_of("POST", "/github"), Some("github"));
        assert_eq!(root.source_of("POST", "/"), None);
    }
}
