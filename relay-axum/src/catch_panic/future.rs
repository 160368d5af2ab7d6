//! [`ResponseFuture`]: the inner service's future, with its panics turned into a `500`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use bytes::Bytes;
use http::Response;
use pin_project_lite::pin_project;
use relay_core::unwind::CatchUnwind;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// The response future of [`CatchPanic`](super::service::CatchPanic).
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProjected]
    enum Kind<F> {
        Running { #[pin] future: CatchUnwind<F> },
        Panicked { message: Option<String> },
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn running(future: F) -> Self {
        Self {
            kind: Kind::Running {
                future: CatchUnwind::new(future),
            },
        }
    }

    pub(super) fn panicked(message: String) -> Self {
        Self {
            kind: Kind::Panicked {
                message: Some(message),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let message = match self.project().kind.project() {
            KindProjected::Running { future } => match ready!(future.poll(cx)) {
                Ok(result) => return Poll::Ready(result.map(|r| r.map(Body::new))),
                Err(message) => message,
            },
            KindProjected::Panicked { message } => message.take().unwrap_or_default(),
        };
        super::reply::log(&message);
        Poll::Ready(Ok(super::reply::internal_error()))
    }
}
