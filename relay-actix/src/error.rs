//! What can go wrong converting between actix-web's `http` 0.2 types and relay-core's 1.x.

use actix_web::ResponseError;

/// A header or status that one `http` version accepts and the other refuses. Both versions
/// validate with the same rules, so this signals a bug rather than a bad request; actix-web
/// answers it with 500.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// A request header name relay-core's `http` 1.x refuses.
    #[error("request header name not accepted by http 1.x")]
    RequestHeaderName(#[from] http::header::InvalidHeaderName),
    /// A request header value relay-core's `http` 1.x refuses.
    #[error("request header value not accepted by http 1.x")]
    RequestHeaderValue(#[from] http::header::InvalidHeaderValue),
    /// A request method relay-core's `http` 1.x refuses.
    #[error("request method not accepted by http 1.x")]
    RequestMethod,
    /// A request URI relay-core's `http` 1.x refuses.
    #[error("request URI not accepted by http 1.x")]
    RequestUri(#[from] http::uri::InvalidUri),
    /// A reply header name actix-web's `http` 0.2 refuses.
    #[error("reply header name not accepted by actix-web")]
    ReplyHeaderName(#[from] actix_web::http::header::InvalidHeaderName),
    /// A reply header value actix-web's `http` 0.2 refuses.
    #[error("reply header value not accepted by actix-web")]
    ReplyHeaderValue(#[from] actix_web::http::header::InvalidHeaderValue),
    /// A reply status actix-web's `http` 0.2 refuses.
    #[error("reply status {0} not accepted by actix-web")]
    ReplyStatus(u16),
}

impl ResponseError for ConvertError {}
