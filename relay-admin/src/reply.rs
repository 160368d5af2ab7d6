//! What a control-plane handler answers: an [`http::Response`] with a [`Bytes`] body, and the
//! conversions ([`IntoReply`]) that make handlers short.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// A control-plane answer: status, headers and the whole body.
pub type Reply = http::Response<Bytes>;

/// A value a handler may return.
pub trait IntoReply {
    /// The answer.
    fn into_reply(self) -> Reply;
}

/// A JSON body (`Content-Type: application/json`).
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

/// An answer of `status` with `body` of `content_type`.
pub fn with_body(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut reply = http::Response::new(body.into());
    *reply.status_mut() = status;
    (reply.headers_mut()).insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    reply
}

/// An empty answer of `status`.
pub fn empty(status: StatusCode) -> Reply {
    let mut reply = http::Response::new(Bytes::new());
    *reply.status_mut() = status;
    reply
}

/// The answer of a request whose handling panicked: `500 {"error":"internal"}`.
pub fn internal_error() -> Reply {
    with_body(
        StatusCode::INTERNAL_SERVER_ERROR,
        "application/json",
        relay_core::unwind::INTERNAL_ERROR_BODY,
    )
}

impl IntoReply for Reply {
    fn into_reply(self) -> Reply {
        self
    }
}

impl IntoReply for StatusCode {
    fn into_reply(self) -> Reply {
        empty(self)
    }
}

impl<T: Serialize> IntoReply for Json<T> {
    fn into_reply(self) -> Reply {
        match serde_json::to_vec(&self.0) {
            Ok(body) => with_body(StatusCode::OK, "application/json", body),
            Err(error) => {
                tracing::error!(%error, "an admin answer could not be serialised");
                internal_error()
            }
        }
    }
}

impl<T: IntoReply> IntoReply for (StatusCode, T) {
    fn into_reply(self) -> Reply {
        let mut reply = self.1.into_reply();
        *reply.status_mut() = self.0;
        reply
    }
}

impl<T: IntoReply, E: IntoReply> IntoReply for Result<T, E> {
    fn into_reply(self) -> Reply {
        match self {
            Ok(value) => value.into_reply(),
            Err(error) => error.into_reply(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_typed_and_a_status_overrides_the_default() {
        let reply = (StatusCode::CREATED, Json(serde_json::json!({"a": 1}))).into_reply();
        assert_eq!(reply.status(), StatusCode::CREATED);
        assert_eq!(reply.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(reply.body().as_ref(), br#"{"a":1}"#);
        let reply = StatusCode::NO_CONTENT.into_reply();
        assert!(reply.body().is_empty() && reply.headers().is_empty());
    }
}
