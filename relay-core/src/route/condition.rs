//! JSONPath conditions on the payload: `{ path = "$.ref", op = "eq", value = "refs/heads/main" }`.
//!
//! A [`ConditionSpec`] is the serde-friendly form written in a configuration file or sent to
//! the admin API; a [`Condition`] is its compiled form (JSONPath parsed, regex built), made
//! once when the configuration is loaded and evaluated per event without further parsing.
//!
//! # Semantics
//!
//! A path selects zero or more values of the payload (`$.commits[*].author.name` may select
//! several). Then:
//!
//! | op | value | holds when |
//! |---|---|---|
//! | `eq` | any JSON | ANY selected value equals `value` |
//! | `ne` | any JSON | at least one value is selected and NONE of them equals `value` |
//! | `in` | array | ANY selected value equals one of the array's elements |
//! | `exists` | none | the path selects at least one value (a JSON `null` counts) |
//! | `not_exists` | none | the path selects nothing |
//! | `contains` | any JSON | ANY selected value is a string containing `value` (a string), or an array with an element equal to `value` |
//! | `starts_with` | string | ANY selected value is a string starting with `value` |
//! | `gt` `gte` `lt` `lte` | number | ANY selected value is a number comparing so with `value` |
//! | `matches` | string (regex) | ANY selected value is a string the regex finds a match in (unanchored; use `^…$` for a whole match) |
//!
//! Equality is JSON equality without coercion (`"1"` is not `1`), except that numbers compare
//! by value (`1` equals `1.0`). A selected value of the wrong type (a number for
//! `starts_with`, a string for `gt`) never satisfies the condition, so `ne` is not the
//! negation of `eq`: a missing path makes both `eq` and `ne` false; use `not_exists` to test
//! for absence.
//!
//! A payload that is not JSON (raw bytes) has nothing to select: every condition is false
//! except `not_exists`, which is true.

use std::fmt;
use std::str::FromStr;

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use super::path::Selector;
use crate::route::jsonpath::CompiledPath;

/// The longest `matches` pattern accepted, in bytes.
pub const MAX_REGEX_LEN: usize = 512;

/// The most memory a compiled `matches` regex may use, in bytes.
pub const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// A condition's operator, written in snake case (`eq`, `not_exists`, `starts_with`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Any selected value equals the value.
    Eq,
    /// Something is selected and no selected value equals the value.
    Ne,
    /// Any selected value equals one of the (array) value's elements.
    In,
    /// The path selects something. Takes no value.
    Exists,
    /// The path selects nothing. Takes no value.
    NotExists,
    /// Any selected string contains the (string) value, or any selected array has an element
    /// equal to the value.
    Contains,
    /// Any selected string starts with the (string) value.
    StartsWith,
    /// Any selected number is greater than the (number) value.
    Gt,
    /// Any selected number is greater than or equal to the (number) value.
    Gte,
    /// Any selected number is less than the (number) value.
    Lt,
    /// Any selected number is less than or equal to the (number) value.
    Lte,
    /// Any selected string matches the (string) regular expression.
    Matches,
}

impl Op {
    /// Every operator, in documentation order.
    pub const ALL: [Op; 12] = [
        Op::Eq,
        Op::Ne,
        Op::In,
        Op::Exists,
        Op::NotExists,
        Op::Contains,
        Op::StartsWith,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Matches,
    ];

    /// The name used in configuration files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Matches => "matches",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Op {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Op::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| format!("unknown operator {s:?}"))
    }
}

/// A condition as written in configuration or sent to the admin API.
///
/// ```
/// use relay_core::route::{ConditionSpec, Op};
/// let spec: ConditionSpec =
///     serde_json::from_str(r#"{"path": "$.ref", "op": "eq", "value": "refs/heads/main"}"#).unwrap();
/// assert_eq!(spec, ConditionSpec::new("$.ref", Op::Eq, Some("refs/heads/main".into())));
/// assert!(serde_json::from_str::<ConditionSpec>(r#"{"path": "$.a", "op": "like"}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConditionSpec {
    /// A JSONPath expression starting with `$`.
    pub path: String,
    /// The operator.
    pub op: Op,
    /// The operand; absent for `exists` and `not_exists`, required otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

impl ConditionSpec {
    /// A spec from its parts.
    pub fn new(path: impl Into<String>, op: Op, value: Option<Value>) -> Self {
        Self {
            path: path.into(),
            op,
            value,
        }
    }
}

/// A condition that does not compile, before it is known which route it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("condition on {path:?}: {reason}")]
pub struct InvalidCondition {
    /// The condition's path as written.
    pub path: String,
    /// Why it does not compile.
    pub reason: String,
}

/// A route's condition that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route {route:?}, condition #{index} on {path:?}: {reason}")]
pub struct ConditionError {
    /// The route's name.
    pub route: String,
    /// The condition's position in the route's list (from 0).
    pub index: usize,
    /// The condition's path as written.
    pub path: String,
    /// Why it does not compile.
    pub reason: String,
}

/// What a compiled condition tests each selected value against.
#[derive(Debug, Clone)]
enum Test {
    Eq(Value),
    Ne(Value),
    In(Vec<Value>),
    Exists,
    NotExists,
    Contains(Value),
    StartsWith(String),
    Compare(Op, f64),
    Matches(Regex),
}

/// A compiled condition: its JSONPath parsed and its regex (if any) built.
///
/// ```
/// use relay_core::route::{Condition, ConditionSpec, Op};
/// let c = Condition::compile(ConditionSpec::new("$.commits[*].author.name", Op::Eq, Some("ada".into()))).unwrap();
/// let doc = serde_json::json!({"commits": [{"author": {"name": "bob"}}, {"author": {"name": "ada"}}]});
/// assert!(c.matches(Some(&doc)));
/// assert!(!c.matches(None)); // a raw (non-JSON) payload
/// ```
#[derive(Debug, Clone)]
pub struct Condition {
    spec: ConditionSpec,
    path: Selector,
    test: Test,
}

impl Condition {
    /// Compiles a spec, checking the value fits the operator.
    pub fn compile(spec: ConditionSpec) -> Result<Self, InvalidCondition> {
        let invalid = |reason: String| InvalidCondition {
            path: spec.path.clone(),
            reason,
        };
        let path = CompiledPath::compile(&spec.path).map_err(|e| invalid(e.reason))?;
        let op = spec.op;
        let value = || {
            spec.value
                .clone()
                .ok_or_else(|| invalid(format!("`{op}` needs a value")))
        };
        let test = match op {
            Op::Exists | Op::NotExists => {
                if spec.value.is_some() {
                    return Err(invalid(format!("`{op}` takes no value")));
                }
                if op == Op::Exists {
                    Test::Exists
                } else {
                    Test::NotExists
                }
            }
            Op::Eq => Test::Eq(value()?),
            Op::Ne => Test::Ne(value()?),
            Op::Contains => Test::Contains(value()?),
            Op::In => match value()? {
                Value::Array(items) => Test::In(items),
                other => {
                    return Err(invalid(format!(
                        "`in` needs an array, not {}",
                        type_name(&other)
                    )));
                }
            },
            Op::StartsWith => match value()? {
                Value::String(prefix) => Test::StartsWith(prefix),
                other => {
                    return Err(invalid(format!(
                        "`starts_with` needs a string, not {}",
                        type_name(&other)
                    )));
                }
            },
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => match value()? {
                Value::Number(n) => Test::Compare(op, n.as_f64().unwrap_or(f64::NAN)),
                other => {
                    return Err(invalid(format!(
                        "`{op}` needs a number, not {}",
                        type_name(&other)
                    )));
                }
            },
            Op::Matches => match value()? {
                Value::String(pattern) => {
                    if pattern.len() > MAX_REGEX_LEN {
                        return Err(invalid(format!(
                            "regex is {} bytes long, the limit is {MAX_REGEX_LEN}",
                            pattern.len()
                        )));
                    }
                    let regex = RegexBuilder::new(&pattern)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .dfa_size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|e| invalid(format!("invalid regex: {e}")))?;
                    Test::Matches(regex)
                }
                other => {
                    return Err(invalid(format!(
                        "`matches` needs a string (a regex), not {}",
                        type_name(&other)
                    )));
                }
            },
        };
        Ok(Self {
            spec,
            path: Selector::new(path),
            test,
        })
    }

    /// The spec it was compiled from (for display and the admin API).
    pub fn spec(&self) -> &ConditionSpec {
        &self.spec
    }

    /// Whether the condition holds for a payload (`None`: the payload is not JSON).
    pub fn matches(&self, payload: Option<&Value>) -> bool {
        let Some(doc) = payload else {
            return matches!(self.test, Test::NotExists);
        };
        self.path.with_selected(doc, |selected| match &self.test {
            Test::Exists => !selected.is_empty(),
            Test::NotExists => selected.is_empty(),
            Test::Ne(expected) => {
                !selected.is_empty() && !selected.iter().any(|v| json_eq(v, expected))
            }
            test => selected.iter().any(|v| test.holds(v)),
        })
    }
}

impl Test {
    /// Whether one selected value satisfies a positive test.
    fn holds(&self, value: &Value) -> bool {
        match self {
            Test::Eq(expected) => json_eq(value, expected),
            Test::In(items) => items.iter().any(|item| json_eq(value, item)),
            Test::Contains(needle) => match (value, needle) {
                (Value::String(hay), Value::String(needle)) => hay.contains(needle.as_str()),
                (Value::Array(items), needle) => items.iter().any(|item| json_eq(item, needle)),
                _ => false,
            },
            Test::StartsWith(prefix) => value.as_str().is_some_and(|s| s.starts_with(prefix)),
            Test::Compare(op, bound) => match value {
                Value::Number(n) => n.as_f64().is_some_and(|x| match op {
                    Op::Gt => x > *bound,
                    Op::Gte => x >= *bound,
                    Op::Lt => x < *bound,
                    _ => x <= *bound,
                }),
                _ => false,
            },
            Test::Matches(regex) => value.as_str().is_some_and(|s| regex.is_match(s)),
            // Handled in `Condition::matches` (they look at the whole selection).
            Test::Ne(_) | Test::Exists | Test::NotExists => false,
        }
    }
}

/// JSON equality where numbers compare by value (`1 == 1.0`), recursively.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| json_eq(a, b)))
        }
        _ => a == b,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn cond(path: &str, op: Op, value: Option<Value>) -> Condition {
        Condition::compile(ConditionSpec::new(path, op, value)).unwrap()
    }

    fn holds(path: &str, op: Op, value: Option<Value>, doc: &Value) -> bool {
        cond(path, op, value).matches(Some(doc))
    }

    fn doc() -> Value {
        json!({
            "ref": "refs/heads/main",
            "count": 3,
            "ratio": 0.5,
            "draft": false,
            "nothing": null,
            "labels": ["bug", "p1", 7],
            "commits": [
                {"author": "ada", "added": 2},
                {"author": "bob", "added": 10},
            ],
            "repo": {"name": "relay", "owner": {"login": "octo"}},
        })
    }

    #[test]
    fn eq_and_ne() {
        let d = doc();
        assert!(holds("$.ref", Op::Eq, Some(json!("refs/heads/main")), &d));
        assert!(!holds("$.ref", Op::Eq, Some(json!("refs/heads/dev")), &d));
        assert!(
            holds("$.count", Op::Eq, Some(json!(3.0)), &d),
            "numbers by value"
        );
        assert!(
            !holds("$.count", Op::Eq, Some(json!("3")), &d),
            "no coercion"
        );
        assert!(holds("$.draft", Op::Eq, Some(json!(false)), &d));
        assert!(holds("$.nothing", Op::Eq, Some(Value::Null), &d));
        assert!(holds(
            "$.repo.owner",
            Op::Eq,
            Some(json!({"login": "octo"})),
            &d
        ));
        assert!(
            !holds("$.missing", Op::Eq, Some(Value::Null), &d),
            "missing is not null"
        );

        assert!(holds("$.ref", Op::Ne, Some(json!("refs/heads/dev")), &d));
        assert!(!holds("$.ref", Op::Ne, Some(json!("refs/heads/main")), &d));
        assert!(
            holds("$.count", Op::Ne, Some(json!("3")), &d),
            "type mismatch differs"
        );
        assert!(
            !holds("$.missing", Op::Ne, Some(json!("x")), &d),
            "missing: ne false"
        );
    }

    #[test]
    fn multi_value_selections() {
        let d = doc();
        // Positive operators: ANY selected value.
        assert!(holds("$.commits[*].author", Op::Eq, Some(json!("bob")), &d));
        assert!(holds("$.commits[*].added", Op::Gt, Some(json!(5)), &d));
        assert!(!holds("$.commits[*].added", Op::Gt, Some(json!(10)), &d));
        assert!(holds(
            "$.commits[*].author",
            Op::In,
            Some(json!(["bob", "eve"])),
            &d
        ));
        assert!(holds(
            "$.commits[*].author",
            Op::StartsWith,
            Some(json!("a")),
            &d
        ));
        assert!(holds(
            "$.commits[*].author",
            Op::Matches,
            Some(json!("^b.b$")),
            &d
        ));
        assert!(holds(
            "$.commits[*].author",
            Op::Contains,
            Some(json!("o")),
            &d
        ));
        // `ne`: NONE of the selected values.
        assert!(holds("$.commits[*].author", Op::Ne, Some(json!("eve")), &d));
        assert!(!holds(
            "$.commits[*].author",
            Op::Ne,
            Some(json!("ada")),
            &d
        ));
        // An empty selection (wildcard over nothing).
        let empty = json!({"commits": []});
        assert!(!holds(
            "$.commits[*].author",
            Op::Eq,
            Some(json!("ada")),
            &empty
        ));
        assert!(!holds(
            "$.commits[*].author",
            Op::Ne,
            Some(json!("ada")),
            &empty
        ));
        assert!(!holds("$.commits[*]", Op::Exists, None, &empty));
        assert!(holds("$.commits[*]", Op::NotExists, None, &empty));
        // Filters select several too.
        assert!(holds(
            "$.commits[?@.added > 5].author",
            Op::Eq,
            Some(json!("bob")),
            &d
        ));
    }

    #[test]
    fn in_operator() {
        let d = doc();
        assert!(holds("$.count", Op::In, Some(json!([1, 2, 3])), &d));
        assert!(holds("$.count", Op::In, Some(json!([3.0])), &d));
        assert!(!holds("$.count", Op::In, Some(json!(["3"])), &d));
        assert!(!holds("$.count", Op::In, Some(json!([])), &d));
        assert!(!holds("$.missing", Op::In, Some(json!([null])), &d));
    }

    #[test]
    fn exists_and_not_exists() {
        let d = doc();
        assert!(holds("$.ref", Op::Exists, None, &d));
        assert!(
            holds("$.nothing", Op::Exists, None, &d),
            "null counts as present"
        );
        assert!(!holds("$.missing", Op::Exists, None, &d));
        assert!(!holds("$.repo.missing.deeper", Op::Exists, None, &d));
        assert!(holds("$.missing", Op::NotExists, None, &d));
        assert!(!holds("$.repo.name", Op::NotExists, None, &d));
        assert!(
            holds("$.ref.deeper", Op::NotExists, None, &d),
            "through a string"
        );
    }

    #[test]
    fn contains_on_strings_and_arrays() {
        let d = doc();
        assert!(holds("$.ref", Op::Contains, Some(json!("heads/")), &d));
        assert!(!holds("$.ref", Op::Contains, Some(json!("tags/")), &d));
        assert!(holds("$.labels", Op::Contains, Some(json!("p1")), &d));
        assert!(holds("$.labels", Op::Contains, Some(json!(7.0)), &d));
        assert!(
            !holds("$.labels", Op::Contains, Some(json!("p")), &d),
            "element, not substring"
        );
        assert!(
            !holds("$.count", Op::Contains, Some(json!("3")), &d),
            "number: false"
        );
        assert!(
            !holds("$.ref", Op::Contains, Some(json!(1)), &d),
            "string vs number"
        );
        assert!(
            !holds("$.repo", Op::Contains, Some(json!("name")), &d),
            "object: false"
        );
        assert!(!holds("$.missing", Op::Contains, Some(json!("x")), &d));
    }

    #[test]
    fn starts_with() {
        let d = doc();
        assert!(holds(
            "$.ref",
            Op::StartsWith,
            Some(json!("refs/heads/")),
            &d
        ));
        assert!(holds("$.ref", Op::StartsWith, Some(json!("")), &d));
        assert!(!holds(
            "$.ref",
            Op::StartsWith,
            Some(json!("refs/tags/")),
            &d
        ));
        assert!(
            !holds("$.count", Op::StartsWith, Some(json!("3")), &d),
            "number: false"
        );
        assert!(
            !holds("$.labels", Op::StartsWith, Some(json!("bug")), &d),
            "array: false"
        );
        assert!(!holds("$.missing", Op::StartsWith, Some(json!("")), &d));
    }

    #[test]
    fn numeric_comparisons() {
        let d = doc();
        let cases = [
            (Op::Gt, 2, true),
            (Op::Gt, 3, false),
            (Op::Gte, 3, true),
            (Op::Gte, 4, false),
            (Op::Lt, 4, true),
            (Op::Lt, 3, false),
            (Op::Lte, 3, true),
            (Op::Lte, 2, false),
        ];
        for (op, bound, expected) in cases {
            assert_eq!(
                holds("$.count", op, Some(json!(bound)), &d),
                expected,
                "{op} {bound}"
            );
        }
        assert!(holds("$.ratio", Op::Lt, Some(json!(0.75)), &d));
        assert!(holds("$.ratio", Op::Gt, Some(json!(-1)), &d));
        assert!(!holds("$.ref", Op::Gt, Some(json!(0)), &d), "string: false");
        assert!(!holds("$.draft", Op::Lt, Some(json!(1)), &d), "bool: false");
        assert!(
            !holds("$.nothing", Op::Lt, Some(json!(1)), &d),
            "null: false"
        );
        assert!(!holds("$.missing", Op::Lt, Some(json!(1)), &d));
        let big = json!({"n": u64::MAX});
        assert!(holds("$.n", Op::Gt, Some(json!(1e18)), &big));
        assert!(holds("$.n", Op::Eq, Some(json!(u64::MAX)), &big));
    }

    #[test]
    fn regex_matches() {
        let d = doc();
        assert!(holds(
            "$.ref",
            Op::Matches,
            Some(json!("^refs/heads/(main|master)$")),
            &d
        ));
        assert!(
            holds("$.ref", Op::Matches, Some(json!("heads")), &d),
            "unanchored"
        );
        assert!(!holds("$.ref", Op::Matches, Some(json!("^heads")), &d));
        assert!(
            !holds("$.count", Op::Matches, Some(json!("3")), &d),
            "number: false"
        );
        assert!(!holds("$.missing", Op::Matches, Some(json!(".*")), &d));
    }

    #[test]
    fn raw_payloads_only_satisfy_not_exists() {
        let specs = [
            (Op::Eq, Some(json!(1))),
            (Op::Ne, Some(json!(1))),
            (Op::In, Some(json!([1]))),
            (Op::Exists, None),
            (Op::Contains, Some(json!("a"))),
            (Op::StartsWith, Some(json!(""))),
            (Op::Gt, Some(json!(0))),
            (Op::Gte, Some(json!(0))),
            (Op::Lt, Some(json!(0))),
            (Op::Lte, Some(json!(0))),
            (Op::Matches, Some(json!(".*"))),
        ];
        for (op, value) in specs {
            assert!(!cond("$", op, value).matches(None), "{op}");
        }
        assert!(cond("$.a", Op::NotExists, None).matches(None));
    }

    #[test]
    fn bad_specs_are_refused_with_a_reason() {
        let err = |path: &str, op: Op, value: Option<Value>| {
            Condition::compile(ConditionSpec::new(path, op, value))
                .unwrap_err()
                .reason
        };
        assert!(err("ref", Op::Exists, None).contains("`$`"));
        assert!(!err("$.[", Op::Exists, None).is_empty());
        assert!(err("$.a", Op::Exists, Some(json!(true))).contains("takes no value"));
        assert!(err("$.a", Op::NotExists, Some(Value::Null)).contains("takes no value"));
        assert!(err("$.a", Op::Eq, None).contains("needs a value"));
        assert!(err("$.a", Op::Ne, None).contains("needs a value"));
        assert!(err("$.a", Op::Contains, None).contains("needs a value"));
        assert!(err("$.a", Op::In, Some(json!("x"))).contains("array"));
        assert!(err("$.a", Op::StartsWith, Some(json!(1))).contains("string"));
        for op in [Op::Gt, Op::Gte, Op::Lt, Op::Lte] {
            assert!(err("$.a", op, Some(json!("5"))).contains("number"), "{op}");
        }
        assert!(err("$.a", Op::Matches, Some(json!("("))).contains("invalid regex"));
        assert!(err("$.a", Op::Matches, Some(json!(1))).contains("string"));
        assert!(
            err(
                "$.a",
                Op::Matches,
                Some(json!("a".repeat(MAX_REGEX_LEN + 1)))
            )
            .contains("limit")
        );
        // Short but explosive: refused by the size limit, not built.
        assert!(
            err("$.a", Op::Matches, Some(json!(r"\w{1000}\w{1000}"))).contains("invalid regex")
        );
        assert!(
            Condition::compile(ConditionSpec::new(
                "$.a",
                Op::Matches,
                Some(json!("a".repeat(MAX_REGEX_LEN)))
            ))
            .is_ok()
        );
    }

    #[test]
    fn specs_round_trip_through_serde() {
        for op in Op::ALL {
            assert_eq!(op.as_str().parse::<Op>(), Ok(op));
            assert_eq!(serde_json::to_value(op).unwrap(), json!(op.as_str()));
        }
        assert!("like".parse::<Op>().is_err());
        let spec: ConditionSpec =
            serde_json::from_value(json!({"path": "$.a", "op": "not_exists"})).unwrap();
        assert_eq!(spec.value, None);
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            json!({"path": "$.a", "op": "not_exists"})
        );
        assert!(
            serde_json::from_value::<ConditionSpec>(
                json!({"path": "$.a", "op": "eq", "value": 1, "x": 1})
            )
            .is_err()
        );
        let c = cond("$.a", Op::In, Some(json!([1, 2])));
        assert_eq!(c.spec().op, Op::In);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]{1,2}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn matcher_never_panics(doc in arb_json(), operand in arb_json(), op_index in 0..Op::ALL.len()) {
            let op = Op::ALL[op_index];
            let paths = ["$", "$.a", "$.a.b", "$..a", "$.*", "$.a[*]", "$.a[0]", "$.b[-1]", "$[?@.a == 1]"];
            for path in paths {
                let value = match op {
                    Op::Exists | Op::NotExists => None,
                    _ => Some(operand.clone()),
                };
                if let Ok(c) = Condition::compile(ConditionSpec::new(path, op, value)) {
                    let _ = c.matches(Some(&doc));
                    let _ = c.matches(None);
                }
            }
        }
    }
}
