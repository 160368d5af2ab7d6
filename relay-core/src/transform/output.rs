//! What a transformer answers: [`Transformed`] (the body and headers a destination receives)
//! or a [`TransformError`].

use bytes::Bytes;
use http::HeaderMap;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

/// The body and headers sent to a destination.
///
/// [`Transformed::json`] builds the common case; for any other body, fill the fields (the
/// types are re-exported as [`relay_core::bytes`](crate::bytes) and
/// [`relay_core::http`](crate::http), so a transformer needs no dependency of its own on them):
///
/// ```
/// use relay_core::Transformed;
/// use relay_core::bytes::Bytes;
/// use relay_core::http::{HeaderMap, HeaderValue, header::CONTENT_TYPE};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
/// let out = Transformed { body: Bytes::from_static(b"hello"), headers };
/// assert_eq!(out.headers[CONTENT_TYPE], "text/plain");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Transformed {
    /// The outbound body.
    pub body: Bytes,
    /// Extra outbound headers (`content-type` among them).
    pub headers: HeaderMap,
}

impl Transformed {
    /// `value` serialised as a JSON body, with `content-type: application/json`.
    ///
    /// A value that cannot be serialised (a map with non-string keys, a failing `Serialize`
    /// implementation) is a [`TransformError`], which dead-letters the delivery.
    ///
    /// ```
    /// use relay_core::Transformed;
    /// use relay_core::serde_json::json;
    ///
    /// let out = Transformed::json(&json!({ "text": "acme/relay: 2 commits" }))?;
    /// assert_eq!(&out.body[..], br#"{"text":"acme/relay: 2 commits"}"#);
    /// assert_eq!(out.headers["content-type"], "application/json");
    ///
    /// // Any `Serialize` type works, not only `serde_json::Value`.
    /// #[derive(serde::Serialize)]
    /// struct Row<'a> { id: &'a str, amount: f64 }
    /// let row = Transformed::json(&Row { id: "inv_42", amount: 99.5 })?;
    /// assert_eq!(&row.body[..], br#"{"id":"inv_42","amount":99.5}"#);
    /// # Ok::<(), relay_core::TransformError>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, TransformError> {
        let body = serde_json::to_vec(value).map_err(|e| TransformError(e.to_string()))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(Self {
            body: Bytes::from(body),
            headers,
        })
    }
}

/// A transformer could not shape this event. The delivery is dead-lettered at once (retrying
/// cannot fix it) with this reason in the attempt log.
///
/// ```
/// let error = relay_core::TransformError::new("no `repository.full_name`");
/// assert_eq!(error.to_string(), "no `repository.full_name`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransformError(pub String);

impl TransformError {
    /// An error with this reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn json_sets_the_body_and_content_type_and_refuses_what_json_cannot_hold() {
        let out = Transformed::json(&serde_json::json!([1, "two"])).expect("JSON");
        assert_eq!(&out.body[..], br#"[1,"two"]"#);
        assert_eq!(out.headers.len(), 1);
        assert_eq!(out.headers[CONTENT_TYPE], "application/json");
        // JSON object keys are strings: a map keyed by tuples cannot be written.
        let mut map = BTreeMap::new();
        map.insert((1, 2), "pair");
        let error = Transformed::json(&map).expect_err("not representable");
        assert!(error.0.contains("key must be a string"), "{error}");
    }
}
