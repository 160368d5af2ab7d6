//! Normalising an inbound body into something routes and transformers can read.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::{Map, Value};

/// The key under which Google push-notification headers (`X-Goog-*`) are merged into the
/// payload, so routes, selectors and transformers can read `$.__goog_meta.resource_state`.
pub const GOOG_META_KEY: &str = "__goog_meta";

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
    ///
    /// When the request carries Google push-notification headers (see [`goog_meta`]) they are
    /// merged under [`GOOG_META_KEY`]: into a JSON object body (replacing a key of that name the
    /// body may have), or into a new object when the body is not JSON (Google Calendar sends an
    /// empty body). A JSON array body is left as is.
    pub fn parse(headers: &HeaderMap, body: &Bytes) -> Self {
        let payload = Self::parse_body(headers, body);
        match goog_meta(headers) {
            None => payload,
            Some(meta) => match payload {
                Self::Json(Value::Object(mut object)) => {
                    object.insert(GOOG_META_KEY.to_owned(), Value::Object(meta));
                    Self::Json(Value::Object(object))
                }
                Self::Raw => {
                    let mut object = Map::new();
                    object.insert(GOOG_META_KEY.to_owned(), Value::Object(meta));
                    Self::Json(Value::Object(object))
                }
                other => other,
            },
        }
    }

    fn parse_body(headers: &HeaderMap, body: &Bytes) -> Self {
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

/// Google push-notification headers (`X-Goog-Channel-*`, `X-Goog-Resource-*`,
/// `X-Goog-Message-Number`, `X-Goog-Changed`) as an object with snake-case keys without the
/// `x_goog_` prefix: `channel_id`, `channel_token`, `channel_expiration`, `resource_id`,
/// `resource_uri`, `resource_state`, `message_number`, `changed`. Values are the header
/// strings, except `message_number`, which is a JSON number when it parses as one. `None`
/// when there are no such headers.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-goog-resource-state", "exists".parse().unwrap());
/// headers.insert("x-goog-message-number", "12".parse().unwrap());
/// let meta = relay_core::model::payload::goog_meta(&headers).unwrap();
/// assert_eq!(meta["resource_state"], "exists");
/// assert_eq!(meta["message_number"], 12);
/// ```
pub fn goog_meta(headers: &HeaderMap) -> Option<Map<String, Value>> {
    const PREFIXES: [&str; 4] = [
        "x-goog-channel-",
        "x-goog-resource-",
        "x-goog-message-number",
        "x-goog-changed",
    ];
    let mut meta = Map::new();
    for (name, value) in headers {
        let name = name.as_str();
        if !PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let Ok(text) = value.to_str() else { continue };
        let key = name["x-goog-".len()..].replace('-', "_");
        let value = match text.trim().parse::<u64>() {
            Ok(n) if key == "message_number" => Value::from(n),
            _ => Value::String(text.trim().to_owned()),
        };
        meta.insert(key, value);
    }
    (!meta.is_empty()).then_some(meta)
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
    fn google_headers_are_merged_under_goog_meta() {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("X-Goog-Channel-ID", "chan-1"),
            ("X-Goog-Channel-Token", "tok"),
            ("X-Goog-Resource-State", "exists"),
            ("X-Goog-Message-Number", "7"),
            ("X-Goog-Api-Key", "not-merged"),
        ] {
            h.insert(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static(value),
            );
        }
        let expected = serde_json::json!({
            "channel_id": "chan-1", "channel_token": "tok",
            "resource_state": "exists", "message_number": 7,
        });
        // Empty body: a new object.
        let empty = Payload::parse(&h, &Bytes::new());
        assert_eq!(
            empty.json().unwrap(),
            &serde_json::json!({ GOOG_META_KEY: expected })
        );
        // A JSON object body: merged in beside its keys.
        let object = Payload::parse(&h, &Bytes::from_static(br#"{"a":1}"#));
        assert_eq!(object.json().unwrap()["a"], 1);
        assert_eq!(object.json().unwrap()[GOOG_META_KEY], expected);
        // An array body is left alone; no Google headers changes nothing.
        let array = Payload::parse(&h, &Bytes::from_static(b"[1]"));
        assert_eq!(array.json().unwrap(), &serde_json::json!([1]));
        assert_eq!(
            Payload::parse(&HeaderMap::new(), &Bytes::new()),
            Payload::Raw
        );
        // A message number that is not a number stays a string.
        h.insert("x-goog-message-number", HeaderValue::from_static("x"));
        assert_eq!(goog_meta(&h).unwrap()["message_number"], "x");
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        assert_eq!(nesting_depth(br#"{"a":"[[[[\"]]"}"#), 1);
    }

    proptest::proptest! {
        #[test]
        fn any_body_is_understood_without_panicking(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
        ) {
            let body = Bytes::from(body);
            let _ = Payload::parse(&HeaderMap::new(), &body);
            // A form body is an object of strings, or raw when it does not decode.
            if let Payload::Json(value) = Payload::parse(&headers("application/x-www-form-urlencoded"), &body) {
                let object = value.as_object().expect("a form is an object");
                proptest::prop_assert!(object.values().all(Value::is_string));
            }
        }

        #[test]
        fn form_pairs_come_back_with_the_last_value_per_key(
            pairs in proptest::collection::vec(("\\PC{0,8}", "\\PC{0,8}"), 0..8),
        ) {
            let encoded = serde_urlencoded::to_string(&pairs).expect("encodes");
            let parsed = Payload::parse(&headers("application/x-www-form-urlencoded"), &Bytes::from(encoded));
            let mut expected = Map::new();
            for (key, value) in pairs {
                expected.insert(key, Value::String(value));
            }
            proptest::prop_assert_eq!(parsed, Payload::Json(Value::Object(expected)));
        }

        #[test]
        fn nesting_past_the_limit_is_kept_raw(depth in 1usize..200) {
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            let parsed = Payload::parse(&HeaderMap::new(), &Bytes::from(body));
            proptest::prop_assert_eq!(parsed.json().is_some(), depth <= MAX_JSON_DEPTH);
        }
    }
}
