//! [`CatchPanic`], the service: calls the inner service, containing a panic in the call.

use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use tower::Service;

use super::future::ResponseFuture;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The service produced by [`CatchPanicLayer`](super::layer::CatchPanicLayer).
#[derive(Debug, Clone)]
pub struct CatchPanic<S> {
    inner: S,
}

impl<S> CatchPanic<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CatchPanic<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match relay_core::unwind::catch(|| self.inner.call(request)) {
            Ok(future) => ResponseFuture::running(future),
            Err(message) => ResponseFuture::panicked(message),
        }
    }
}
