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
/// use relay_core::route::jsonpath::CompiledPath;
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

/// The longest expression compiled, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// How deeply parentheses (function calls, grouped filters) may nest. The parser backtracks
/// through nested calls: its time grows two- to six-fold per level (a 75-byte expression of 27
/// levels took 37 s to refuse; 8 nested `length(` calls 10 ms), so deeper nesting is refused
/// before parsing.
pub const MAX_PAREN_DEPTH: usize = 6;

/// The deepest nesting of `(` outside string literals.
fn paren_depth(path: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in path.chars() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' => {
                    depth += 1;
                    deepest = deepest.max(depth);
                }
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    deepest
}

impl CompiledPath {
    /// Compiles an expression; it must start with `$`, be at most [`MAX_PATH_BYTES`] long and
    /// nest parentheses at most [`MAX_PAREN_DEPTH`] deep.
    ///
    /// ```
    /// use relay_core::route::jsonpath::CompiledPath;
    /// assert!(CompiledPath::compile("$[?length(@.name) > 3]").is_ok());
    /// let deep = format!("$[?{}@{}]", "length(".repeat(7), ")".repeat(7));
    /// assert!(CompiledPath::compile(&deep).is_err());
    /// ```
    pub fn compile(path: &str) -> Result<Self, JsonPathError> {
        let refuse = |reason: String| JsonPathError {
            path: path.to_owned(),
            reason,
        };
        if !path.starts_with('$') {
            return Err(refuse("must start with `$`".into()));
        }
        if path.len() > MAX_PATH_BYTES {
            return Err(refuse(format!("longer than {MAX_PATH_BYTES} bytes")));
        }
        if paren_depth(path) > MAX_PAREN_DEPTH {
            return Err(refuse(format!(
                "parentheses nested deeper than {MAX_PAREN_DEPTH}"
            )));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(path: &str) -> String {
        CompiledPath::compile(path).map(|_| ()).unwrap_err().reason
    }

    #[test]
    fn nested_function_calls_up_to_the_limit_compile() {
        let path = format!("$[?{}@.a{} > 1]", "length(".repeat(6), ")".repeat(6));
        assert_eq!(paren_depth(&path), 6);
        // Refused or not by the grammar, it is answered (not cut off by the depth guard).
        let refused = CompiledPath::compile(&path).err().map(|e| e.reason);
        assert!(!refused.is_some_and(|r| r.contains("nested deeper")));
        assert!(CompiledPath::compile("$[?length(value(@.a)) > 1]").is_ok());
    }

    #[test]
    fn deeper_nesting_is_refused_before_parsing() {
        // The fuzzer's input: the parser needed minutes to refuse it.
        let slow = "$[?\t\tnin(in(\t\t(\t\t$[?\t\tnin(in(\t\t(\t$[?\t\tnin(in(\t\t!)";
        assert_eq!(reason(slow), "parentheses nested deeper than 6");
        let deep = format!("$[?{}", "length(".repeat(7));
        assert_eq!(reason(&deep), "parentheses nested deeper than 6");
    }

    #[test]
    fn parentheses_in_string_literals_do_not_count() {
        let path = format!("$[?@.name == '{}']", "(".repeat(20));
        assert_eq!(paren_depth(&path), 0);
        assert!(CompiledPath::compile(&path).is_ok());
        let escaped = format!("$[?@.name == \"\\\"{}\"]", "(".repeat(20));
        assert_eq!(paren_depth(&escaped), 0);
    }

    #[test]
    fn long_expressions_are_refused() {
        let long = format!("$.{}", "a".repeat(MAX_PATH_BYTES));
        assert_eq!(reason(&long), "longer than 1024 bytes");
        let fits = format!("$.{}", "a".repeat(MAX_PATH_BYTES - 2));
        assert!(CompiledPath::compile(&fits).is_ok());
    }
}
