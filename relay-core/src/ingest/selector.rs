//! Where an event's type or idempotency key comes from: a header or a JSONPath into the body.

use std::fmt;
use std::str::FromStr;

use http::HeaderMap;
use http::header::HeaderName;
use serde_json::Value;

use crate::route::jsonpath::{CompiledPath, JsonPathError};

/// Reads one string out of an inbound request: `header:NAME` or `$.json.path`.
///
/// ```
/// use relay_core::ingest::selector::Selector;
/// let by_header: Selector = "header:X-GitHub-Event".parse().unwrap();
/// let by_path: Selector = "$.type".parse().unwrap();
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-github-event", "push".parse().unwrap());
/// let doc = serde_json::json!({"type": "invoice.paid"});
/// assert_eq!(by_header.read(&headers, None).as_deref(), Some("push"));
/// assert_eq!(by_path.read(&headers, Some(&doc)).as_deref(), Some("invoice.paid"));
/// ```
#[derive(Clone, PartialEq)]
pub enum Selector {
    /// The value of a request header (must be visible ASCII).
    Header(HeaderName),
    /// The first value a JSONPath selects in the JSON payload (strings as-is, numbers and
    /// booleans in their JSON text).
    JsonPath(CompiledPath),
    /// The first of several selectors that reads a value, in order (e.g. Slack's event type:
    /// `$.event.type`, else `$.type`). Built in code; configuration strings parse to the
    /// other two forms.
    ///
    /// ```
    /// use relay_core::ingest::selector::Selector;
    /// let slack_type = Selector::FirstOf(vec![
    ///     "$.event.type".parse().unwrap(),
    ///     "$.type".parse().unwrap(),
    /// ]);
    /// let headers = http::HeaderMap::new();
    /// let callback = serde_json::json!({"type": "event_callback", "event": {"type": "message"}});
    /// let verification = serde_json::json!({"type": "url_verification"});
    /// assert_eq!(slack_type.read(&headers, Some(&callback)).as_deref(), Some("message"));
    /// assert_eq!(slack_type.read(&headers, Some(&verification)).as_deref(), Some("url_verification"));
    /// ```
    FirstOf(Vec<Selector>),
}

/// A selector that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectorError {
    /// `header:` followed by something that is not a valid header name.
    #[error("invalid header name {0:?} (expected `header:NAME`)")]
    HeaderName(String),
    /// A JSONPath that does not compile.
    #[error(transparent)]
    JsonPath(#[from] JsonPathError),
    /// Neither form.
    #[error("{0:?} is neither `header:NAME` nor a JSONPath starting with `$`")]
    Unrecognised(String),
}

impl Selector {
    /// A header selector for a name known to be valid.
    pub fn header(name: &'static str) -> Self {
        Self::Header(HeaderName::from_static(name))
    }

    /// Reads the selected value; `None` when absent, empty or not text.
    pub fn read(&self, headers: &HeaderMap, json: Option<&Value>) -> Option<String> {
        let value = match self {
            Self::FirstOf(selectors) => {
                return selectors.iter().find_map(|s| s.read(headers, json));
            }
            Self::Header(name) => headers.get(name)?.to_str().ok()?.trim().to_owned(),
            Self::JsonPath(path) => match path.first(json?)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            },
        };
        (!value.is_empty()).then_some(value)
    }
}

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_prefix("header:") {
            let name = name.trim();
            return HeaderName::from_str(&name.to_ascii_lowercase())
                .map(Self::Header)
                .map_err(|_| SelectorError::HeaderName(name.to_owned()));
        }
        if s.starts_with('$') {
            return Ok(Self::JsonPath(CompiledPath::compile(s)?));
        }
        Err(SelectorError::Unrecognised(s.to_owned()))
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header(name) => write!(f, "header:{name}"),
            Self::JsonPath(path) => f.write_str(path.as_str()),
            Self::FirstOf(selectors) => {
                for (i, selector) in selectors.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{selector:?}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms_and_rejects_others() {
        assert!(matches!(
            "header:Idempotency-Key".parse(),
            Ok(Selector::Header(_))
        ));
        assert!(matches!("$.a.b".parse(), Ok(Selector::JsonPath(_))));
        assert!(matches!(
            "header:bad name".parse::<Selector>(),
            Err(SelectorError::HeaderName(_))
        ));
        assert!(matches!(
            "type".parse::<Selector>(),
            Err(SelectorError::Unrecognised(_))
        ));
        assert!(matches!(
            "$[".parse::<Selector>(),
            Err(SelectorError::JsonPath(_))
        ));
    }

    #[test]
    fn reads_numbers_and_ignores_objects_and_empties() {
        let doc = serde_json::json!({"id": 42, "obj": {}, "empty": ""});
        let read = |s: &str| {
            s.parse::<Selector>()
                .unwrap()
                .read(&HeaderMap::new(), Some(&doc))
        };
        assert_eq!(read("$.id").as_deref(), Some("42"));
        assert_eq!(read("$.obj"), None);
        assert_eq!(read("$.empty"), None);
        assert_eq!(read("$.missing"), None);
        assert_eq!(read("header:x-missing"), None);
    }

    #[test]
    fn first_of_takes_the_first_present_value() {
        let mut headers = HeaderMap::new();
        headers.insert("webhook-id", "msg_2".parse().unwrap());
        let first_of = Selector::FirstOf(vec![
            Selector::header("svix-id"),
            "$.empty".parse().unwrap(),
            Selector::header("webhook-id"),
            "$.id".parse().unwrap(),
        ]);
        let doc = serde_json::json!({"id": "from-body", "empty": ""});
        assert_eq!(
            first_of.read(&headers, Some(&doc)).as_deref(),
            Some("msg_2")
        );
        assert_eq!(
            first_of.read(&HeaderMap::new(), Some(&doc)).as_deref(),
            Some("from-body")
        );
        assert_eq!(first_of.read(&HeaderMap::new(), None), None);
        assert_eq!(
            Selector::FirstOf(Vec::new()).read(&headers, Some(&doc)),
            None
        );
        assert_eq!(
            format!("{first_of:?}"),
            "header:svix-id | $.empty | header:webhook-id | $.id"
        );
    }
}
