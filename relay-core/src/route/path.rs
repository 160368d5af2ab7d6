//! A fast path for the common JSONPath shape `$.a.b[0].c`: resolved by direct lookups instead
//! of the general JSONPath engine, with the same result.

use serde_json::Value;

use crate::route::jsonpath::CompiledPath;

/// One step of a singular path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// `.name`: an object member.
    Key(String),
    /// `[n]`: an array element, from the end when negative.
    Index(i64),
}

/// A compiled path: either a chain of member names and indices, or a general query.
#[derive(Debug, Clone)]
pub(crate) enum Selector {
    /// `$`, `$.a.b`, `$.a[0]`, `$.a[-1].b`: selects at most one value.
    Singular(Vec<Step>),
    /// Everything else (wildcards, filters, slices, descendants, quoted names).
    Query(CompiledPath),
}

impl Selector {
    /// Chooses the fast path when the (already compiled) path is a plain chain.
    pub(crate) fn new(path: CompiledPath) -> Self {
        match singular_steps(path.as_str()) {
            Some(steps) => Self::Singular(steps),
            None => Self::Query(path),
        }
    }

    /// Calls `f` with the selected values.
    pub(crate) fn with_selected<R>(&self, doc: &Value, f: impl FnOnce(&[&Value]) -> R) -> R {
        match self {
            Self::Singular(steps) => f(resolve(steps, doc).as_slice()),
            Self::Query(path) => f(&path.select(doc)),
        }
    }
}

fn resolve<'a>(steps: &[Step], mut doc: &'a Value) -> Option<&'a Value> {
    for step in steps {
        doc = match (step, doc) {
            (Step::Key(key), Value::Object(object)) => object.get(key)?,
            (Step::Index(i), Value::Array(items)) => {
                let len = i64::try_from(items.len()).ok()?;
                let at = if *i < 0 { len + i } else { *i };
                items.get(usize::try_from(at).ok()?)?
            }
            _ => return None,
        };
    }
    Some(doc)
}

/// The steps of `$` followed by `.name` (ASCII letters, digits, `_`; not starting with a
/// digit) and `[n]` (a canonical integer) segments, or `None` for anything else.
fn singular_steps(path: &str) -> Option<Vec<Step>> {
    let mut rest = path.strip_prefix('$')?;
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            let name = &after[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            steps.push(Step::Key(name.to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let digits = &after[..end];
            let unsigned = digits.strip_prefix('-').unwrap_or(digits);
            let canonical = !unsigned.is_empty()
                && unsigned.bytes().all(|b| b.is_ascii_digit())
                && (unsigned == "0" || !unsigned.starts_with('0'))
                && digits != "-0"
                && unsigned.len() <= 15;
            if !canonical {
                return None;
            }
            steps.push(Step::Index(digits.parse().ok()?));
            rest = &after[end + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn recognises_only_plain_chains() {
        let singular = |p: &str| singular_steps(p).is_some();
        for p in [
            "$",
            "$.a",
            "$.a_b.c1",
            "$.a[0]",
            "$[-1]",
            "$.a[10].b",
            "$._x",
        ] {
            assert!(singular(p), "{p}");
        }
        for p in [
            "$.*", "$..a", "$.a[*]", "$['a']", "$[?@.a]", "$.a[0:2]", "$.a[01]", "$[-0]", "$.1a",
            "$.a-b", "$. a", "$[ 0]", "a", "$.", "$.é",
        ] {
            assert!(!singular(p), "{p}");
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-b]{0,2}".prop_map(Value::String)
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-b_]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The fast path selects exactly what the JSONPath engine selects.
        #[test]
        fn agrees_with_the_jsonpath_engine(
            doc in arb_json(),
            steps in prop::collection::vec(prop_oneof!["\\.[a-b_]{1,2}", "\\[-?[0-4]\\]"], 0..4),
        ) {
            let text = format!("${}", steps.concat());
            if let Ok(path) = CompiledPath::compile(&text) {
                let selector = Selector::new(path.clone());
                let fast: Vec<Value> = selector.with_selected(&doc, |v| v.iter().map(|v| (*v).clone()).collect());
                let engine: Vec<Value> = path.select(&doc).into_iter().cloned().collect();
                prop_assert_eq!(fast, engine, "{}", text);
            }
        }
    }
}
