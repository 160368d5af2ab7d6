//! The `500` answered for a request whose handling panicked, and the log line saying why.

/// The response answered for a request whose handling panicked.
pub fn internal_error() -> http::Response<axum::body::Body> {
    let mut response = http::Response::new(axum::body::Body::from(
        relay_core::unwind::INTERNAL_ERROR_BODY,
    ));
    *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Logs a contained panic.
pub(super) fn log(message: &str) {
    tracing::error!(target: "relay_axum::catch_panic", panic = %message, "serving a request panicked; answered 500");
}
