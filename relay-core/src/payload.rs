//! Normalising an inbound body into something routes and transformers can read.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};

/// The largest nesting depth of a JSON body that is parsed; deeper bodies are kept raw.
pub const MAX_JSON_DEPTH: usize = 64;

/// How the body was understood. The raw bytes are always kept alongside.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A JSON document (from a JSON body, or a form body turned into an object of strings).
    Json(Value),
    /// Anything else: stored and delivered as received, routable by event type only.
    Raw,
}

impl Payload {
    /// Understands `body` given the request headers: JSON when it parses as JSON, an
    /// `application/x-www-form-urlencoded` form as a JSON object, otherwise raw.
    pub fn parse(headers: &HeaderMap, body: &Bytes) -> Self {
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/x-www-form-urlencoded") {
            return Self::parse_form(body);
        }
        Self::parse_json(body)
    }

    /// The JSON document, if there is one.
    pub fn json(&self) -> Option<&Value> {
        match self {
            Self::Json(value) => Some(value),
            Self::Raw => None,
        }
    }

    fn parse_json(body: &[u8]) -> Self {
        let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
        if !matches!(first, Some(b'{' | b'[')) || nesting_depth(body) > MAX_JSON_DEPTH {
            return Self::Raw;
        }
        serde_json::from_slice(body)
            .map(Self::Json)
            .unwrap_or(Self::Raw)
    }

    fn parse_form(body: &[u8]) -> Self {
        match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
            Ok(pairs) => {
                let mut object = Map::new();
                for (key, value) in pairs {
                    object.insert(key, Value::String(value));
                }
                Self::Json(Value::Object(object))
            }
            Err(_) => Self::Raw,
        }
    }
}

/// The deepest bracket nesting in a JSON text (ignoring brackets inside strings).
fn nesting_depth(body: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(content_type: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).unwrap(),
        );
        h
    }

    #[test]
    fn json_bodies_parse_whatever_the_content_type() {
        let body = Bytes::from_static(br#" {"a":1}"#);
        assert_eq!(
            Payload::parse(&HeaderMap::new(), &body).json().unwrap()["a"],
            1
        );
    }

    #[test]
    fn non_json_empty_and_broken_bodies_are_raw() {
        for body in [&b""[..], b"hello", b"{\"a\":", b"\xff\xfe", b"123"] {
            assert_eq!(
                Payload::parse(&HeaderMap::new(), &Bytes::copy_from_slice(body)),
                Payload::Raw
            );
        }
    }

    #[test]
    fn forms_become_objects_of_strings() {
        let body = Bytes::from_static(b"name=Ada+L&email=ada%40example.com");
        let payload = Payload::parse(&headers("application/x-www-form-urlencoded"), &body);
        assert_eq!(payload.json().unwrap()["email"], "ada@example.com");
        assert_eq!(payload.json().unwrap()["name"], "Ada L");
    }

    #[test]
    fn deeply_nested_json_is_kept_raw() {
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert_eq!(
            Payload::parse(&HeaderMap::new(), &Bytes::from(deep)),
            Payload::Raw
        );
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(
            Payload::parse(&HeaderMap::new(), &Bytes::from(ok))
                .json()
                .is_some()
        );
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        assert_eq!(nesting_depth(br#"{"a":"[[[[\"]]"}"#), 1);
    }
}
