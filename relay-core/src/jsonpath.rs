//! JSONPath expressions compiled once (at configuration time) and evaluated per event.

use std::fmt;

use jsonpath_rust::parser::model::JpQuery;
use serde_json::Value;

/// A JSONPath expression that failed to compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath {path:?}: {reason}")]
pub struct JsonPathError {
    /// The expression as written.
    pub path: String,
    /// Why it does not compile.
    pub reason: String,
}

/// A compiled JSONPath expression such as `$.pull_request.head.ref`.
///
/// ```
/// use relay_core::jsonpath::CompiledPath;
/// let path = CompiledPath::compile("$.repository.name").unwrap();
/// let doc = serde_json::json!({"repository": {"name": "relay"}});
/// assert_eq!(path.first(&doc), Some(&serde_json::json!("relay")));
/// assert!(CompiledPath::compile("$.[").is_err());
/// ```
#[derive(Clone)]
pub struct CompiledPath {
    text: String,
    query: JpQuery,
}

impl CompiledPath {
    /// Compiles an expression; it must start with `$`.
    pub fn compile(path: &str) -> Result<Self, JsonPathError> {
        if !path.starts_with('$') {
            return Err(JsonPathError {
                path: path.to_owned(),
                reason: "must start with `$`".into(),
            });
        }
        let query = jsonpath_rust::parser::parse_json_path(path).map_err(|e| JsonPathError {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            text: path.to_owned(),
            query,
        })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every value the expression selects in `doc`.
    pub fn select<'a>(&self, doc: &'a Value) -> Vec<&'a Value> {
        jsonpath_rust::query::js_path_process(&self.query, doc)
            .map(|refs| refs.into_iter().map(|r| r.val()).collect())
            .unwrap_or_default()
    }

    /// The first value the expression selects, if any.
    pub fn first<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        self.select(doc).into_iter().next()
    }
}

impl fmt::Debug for CompiledPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompiledPath({:?})", self.text)
    }
}

impl PartialEq for CompiledPath {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}
