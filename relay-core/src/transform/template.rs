//! `template`: a declarative JSON template with `{{ $.json.path }}` placeholders.

use std::collections::BTreeMap;

use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::{TransformError, TransformInput, Transformed, Transformer};
use crate::route::jsonpath::CompiledPath;

/// The deepest nesting a template may have.
pub const MAX_TEMPLATE_DEPTH: usize = 64;

/// A template as written in configuration: the body and static headers.
///
/// ```
/// use relay_core::transform::{Template, TemplateSpec};
/// let spec: TemplateSpec = serde_json::from_value(serde_json::json!({
///     "body": {"text": "{{ $.pusher.name }} pushed to {{ $.repository.full_name }}"},
///     "headers": {"x-team": "platform"}
/// })).unwrap();
/// let template = Template::from_spec(&spec).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    /// The JSON body; its strings may hold placeholders.
    pub body: Value,
    /// Headers sent with every output (`content-type` defaults to `application/json`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
}

/// A template that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A placeholder that is not a valid JSONPath, or is not closed.
    #[error("template placeholder {placeholder:?} at {location:?}: {reason}")]
    Placeholder {
        /// Where in the template (a JSON pointer; empty for the root).
        location: String,
        /// The placeholder as written.
        placeholder: String,
        /// Why it does not compile.
        reason: String,
    },
    /// A header name or value that is not valid HTTP.
    #[error("template header {name:?}: {reason}")]
    Header {
        /// The header's name.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// The template nests deeper than [`MAX_TEMPLATE_DEPTH`].
    #[error("template nests deeper than {MAX_TEMPLATE_DEPTH} levels at {location:?}")]
    TooDeep {
        /// Where (a JSON pointer).
        location: String,
    },
}

/// One piece of a string with placeholders.
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Path(CompiledPath),
}

/// A compiled template node.
#[derive(Debug, Clone)]
enum Node {
    /// A value without placeholders, copied as is.
    Literal(Value),
    /// A string that is exactly one placeholder: the selected value, type kept.
    Whole(CompiledPath),
    /// A string mixing text and placeholders: always a string.
    Inline(Vec<Part>),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

/// A JSON template whose string values may contain `{{ $.json.path }}` placeholders, compiled
/// once (every placeholder parsed to a [`CompiledPath`]) and rendered per event against the
/// payload.
///
/// - A string that is exactly one placeholder (`"{{ $.size }}"`) becomes the selected value with
///   its JSON type (number, object, array…), or `null` when the path selects nothing.
/// - Placeholders inside a longer string are replaced by text: strings as they are, numbers
///   and booleans as written in JSON, objects and arrays as compact JSON, `null` and missing
///   values as `""`.
/// - A path selecting several values uses the first (select the array itself to get them all).
/// - `{{` not followed by `$` (after optional spaces) is plain text; object keys are never
///   templated. A payload that is not JSON renders every placeholder as missing.
///
/// ```
/// use relay_core::transform::Template;
/// use serde_json::json;
/// let t = Template::compile(&json!({
///     "title": "{{ $.repository.full_name }} @ {{ $.ref }}",
///     "size": "{{ $.size }}",
///     "owner": "{{ $.repository.owner }}",
///     "missing": "{{ $.nope }}",
///     "note": "[{{ $.nope }}]",
/// })).unwrap();
/// let payload = json!({"ref": "main", "size": 3, "repository": {"full_name": "o/r", "owner": {"id": 1}}});
/// assert_eq!(t.render(Some(&payload)), json!({
///     "title": "o/r @ main", "size": 3, "owner": {"id": 1}, "missing": null, "note": "[]",
/// }));
/// let err = Template::compile(&json!({"a": ["{{ $.[ }}"]})).unwrap_err();
/// assert!(err.to_string().starts_with(r#"template placeholder "{{ $.[ }}" at "/a/0""#));
/// ```
#[derive(Debug, Clone)]
pub struct Template {
    body: Node,
    headers: http::HeaderMap,
}

impl Template {
    /// Compiles a template body, with `content-type: application/json` as its only header.
    pub fn compile(body: &Value) -> Result<Self, TemplateError> {
        let mut headers = http::HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(Self {
            body: compile_node(body, &mut String::new(), 0)?,
            headers,
        })
    }

    /// Adds (or replaces) a static header sent with every output.
    pub fn header(mut self, name: &str, value: &str) -> Result<Self, TemplateError> {
        let refused = |reason: String| TemplateError::Header {
            name: name.to_owned(),
            reason,
        };
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| refused(e.to_string()))?;
        let value = HeaderValue::from_str(value).map_err(|e| refused(e.to_string()))?;
        self.headers.insert(header, value);
        Ok(self)
    }

    /// Compiles a template from its configuration form.
    pub fn from_spec(spec: &TemplateSpec) -> Result<Self, TemplateError> {
        spec.headers
            .iter()
            .try_fold(Self::compile(&spec.body)?, |t, (name, value)| {
                t.header(name, value)
            })
    }

    /// The output body for a payload (`None`: not JSON).
    pub fn render(&self, payload: Option<&Value>) -> Value {
        render_node(&self.body, payload)
    }
}

impl Transformer for Template {
    fn transform(&self, input: &TransformInput<'_>) -> Result<Transformed, TransformError> {
        let mut out = Transformed::json(&self.render(input.payload.json()))?;
        for (name, value) in &self.headers {
            out.headers.insert(name, value.clone());
        }
        Ok(out)
    }
}

fn compile_node(value: &Value, location: &mut String, depth: usize) -> Result<Node, TemplateError> {
    if depth > MAX_TEMPLATE_DEPTH {
        return Err(TemplateError::TooDeep {
            location: location.clone(),
        });
    }
    let child = |location: &mut String, key: &str, value: &Value| {
        let len = location.len();
        location.push('/');
        location.push_str(&key.replace('~', "~0").replace('/', "~1"));
        let node = compile_node(value, location, depth + 1);
        location.truncate(len);
        node
    };
    Ok(match value {
        Value::String(text) => compile_string(text, location)?,
        Value::Array(items) => {
            let nodes = items
                .iter()
                .enumerate()
                .map(|(i, item)| child(location, &i.to_string(), item))
                .collect::<Result<Vec<_>, _>>()?;
            if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Array(nodes)
            }
        }
        Value::Object(object) => {
            let nodes = object
                .iter()
                .map(|(k, v)| Ok((k.clone(), child(location, k, v)?)))
                .collect::<Result<Vec<_>, TemplateError>>()?;
            if nodes.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Object(nodes)
            }
        }
        other => Node::Literal(other.clone()),
    })
}

/// Splits a string into text and placeholders.
fn compile_string(text: &str, location: &str) -> Result<Node, TemplateError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        if !after.trim_start().starts_with('$') {
            // Not a placeholder: keep `{{` as text.
            literal.push_str(&rest[..open + 2]);
            rest = after;
            continue;
        }
        let Some(close) = after.find("}}") else {
            return Err(TemplateError::Placeholder {
                location: location.to_owned(),
                placeholder: rest[open..].to_owned(),
                reason: "no closing `}}`".into(),
            });
        };
        let placeholder = &rest[open..open + 2 + close + 2];
        let path = CompiledPath::compile(after[..close].trim()).map_err(|e| {
            TemplateError::Placeholder {
                location: location.to_owned(),
                placeholder: placeholder.to_owned(),
                reason: e.reason,
            }
        })?;
        literal.push_str(&rest[..open]);
        if !literal.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut literal)));
        }
        parts.push(Part::Path(path));
        rest = &after[close + 2..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(Part::Text(literal));
    }
    Ok(match parts.as_slice() {
        [] => Node::Literal(Value::String(String::new())),
        [Part::Text(text)] => Node::Literal(Value::String(text.clone())),
        [Part::Path(path)] => Node::Whole(path.clone()),
        _ => Node::Inline(parts),
    })
}

fn render_node(node: &Node, payload: Option<&Value>) -> Value {
    let select = |path: &CompiledPath| payload.and_then(|doc| path.first(doc));
    match node {
        Node::Literal(value) => value.clone(),
        Node::Whole(path) => select(path).cloned().unwrap_or(Value::Null),
        Node::Inline(parts) => {
            let mut out = String::new();
            for part in parts {
                match part {
                    Part::Text(text) => out.push_str(text),
                    Part::Path(path) => match select(path) {
                        None | Some(Value::Null) => {}
                        Some(Value::String(s)) => out.push_str(s),
                        Some(other) => out.push_str(&other.to_string()),
                    },
                }
            }
            Value::String(out)
        }
        Node::Array(items) => Value::Array(items.iter().map(|n| render_node(n, payload)).collect()),
        Node::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, n)| (k.clone(), render_node(n, payload)))
                .collect::<Map<String, Value>>(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_support::{GITHUB_PUSH, body_json, event};
    use http::HeaderMap;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn golden_github_push_to_custom_chat_message() {
        let spec: TemplateSpec = serde_json::from_value(json!({
            "body": {
                "channel": "#deploys",
                "text": "{{ $.pusher.name }} pushed {{$.after}} to {{ $.ref }} ({{ $.repository.full_name }})",
                "repo_id": "{{ $.repository.id }}",
                "forced": "{{ $.forced }}",
                "head": "{{ $.head_commit }}",
                "authors": ["{{ $.commits[0].author.username }}", "{{ $.commits[1].author.username }}"],
                "first_added": "{{ $.commits[*].added[0] }}",
                "base": "{{ $.base_ref }}",
                "base_inline": "base={{ $.base_ref }};",
                "labels": "{{ $.labels }}",
                "static": {"n": 1, "mustache": "{{name}}"},
                "counts": "{{ $.repository.id }}/{{ $.forced }}/{{ $.pusher }}"
            },
            "headers": {"x-relay-template": "chat-v1"}
        }))
        .unwrap();
        let template = Template::from_spec(&spec).unwrap();
        let (event, payload) = event("push", HeaderMap::new(), GITHUB_PUSH);
        let out = template
            .transform(&TransformInput {
                event: &event,
                payload: &payload,
                destination: "chat",
            })
            .unwrap();
        assert_eq!(out.headers[CONTENT_TYPE], "application/json");
        assert_eq!(out.headers["x-relay-template"], "chat-v1");
        let doc: Value = serde_json::from_str(GITHUB_PUSH).unwrap();
        assert_eq!(
            body_json(&out),
            json!({
                "channel": "#deploys",
                "text": "Codertocat pushed 0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c to refs/heads/main (octo-org/relay)",
                "repo_id": 186853002,
                "forced": false,
                "head": doc["head_commit"],
                "authors": ["ada", "grace"],
                "first_added": "relay-core/src/route/condition.rs",
                "base": null,
                "base_inline": "base=;",
                "labels": null,
                "static": {"n": 1, "mustache": "{{name}}"},
                "counts": "186853002/false/{\"email\":\"21031067+Codertocat@users.noreply.github.com\",\"name\":\"Codertocat\"}"
            })
        );
    }

    #[test]
    fn raw_payloads_render_placeholders_as_missing() {
        let t = Template::compile(&json!({"a": "{{ $.x }}", "b": "x{{ $.x }}y", "c": 1})).unwrap();
        assert_eq!(t.render(None), json!({"a": null, "b": "xy", "c": 1}));
        let whole = Template::compile(&json!("{{ $ }}")).unwrap();
        assert_eq!(whole.render(Some(&json!([1, 2]))), json!([1, 2]));
    }

    #[test]
    fn compile_errors_name_the_placeholder() {
        let err =
            Template::compile(&json!({"x": {"y/z": "a {{ $.ok }} b {{ $.[ }}"}})).unwrap_err();
        let TemplateError::Placeholder {
            location,
            placeholder,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (location.as_str(), placeholder.as_str()),
            ("/x/y~1z", "{{ $.[ }}")
        );
        let err = Template::compile(&json!(["{{ $.a "])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template placeholder \"{{ $.a \" at \"/0\": no closing `}}`"
        );
        assert!(matches!(
            Template::compile(&json!("x"))
                .unwrap()
                .header("bad header", "v"),
            Err(TemplateError::Header { .. })
        ));
        assert!(matches!(
            Template::compile(&json!("x"))
                .unwrap()
                .header("x-ok", "line\nbreak"),
            Err(TemplateError::Header { .. })
        ));
        let mut deep = json!("{{ $.a }}");
        for _ in 0..=MAX_TEMPLATE_DEPTH {
            deep = json!([deep]);
        }
        assert!(matches!(
            Template::compile(&deep),
            Err(TemplateError::TooDeep { .. })
        ));
        assert!(serde_json::from_value::<TemplateSpec>(json!({"body": 1, "extra": 2})).is_err());
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-c{}$. \\[\\]*0-9]{0,16}".prop_map(Value::String),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-c]{1,2}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn templates_never_panic(template in arb_json(), payload in arb_json()) {
            if let Ok(t) = Template::compile(&template) {
                let _ = t.render(Some(&payload));
                let _ = t.render(None);
            }
        }

        #[test]
        fn fixed_templates_never_panic_on_any_payload(payload in arb_json()) {
            let t = Template::compile(&json!({
                "a": "{{ $.a }}", "b": "<{{ $.b[*] }}|{{ $..c }}>", "w": ["{{ $ }}", "{{ $.*.a }}"]
            })).unwrap();
            let out = t.render(Some(&payload));
            prop_assert!(out.is_object());
        }
    }
}
