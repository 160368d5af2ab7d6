//! [`ResponseFuture`]: the inner service's future, or Relay's ingest.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::Error;
use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use pin_project_lite::pin_project;

/// Ingest borrows actix-web's `!Send` payload, so it runs as a local future.
pub(crate) type IngestFuture = Pin<Box<dyn Future<Output = Result<ServiceResponse, Error>>>>;

pin_project! {
    /// The response future of [`RelayService`](crate::RelayService): either the inner
    /// service's future (untouched) or Relay's ingest.
    pub struct ResponseFuture<F> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    #[project = KindProjected]
    enum Kind<F> {
        Inner { #[pin] future: F },
        Ingest { future: IngestFuture },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    pub(crate) fn ingest(future: IngestFuture) -> Self {
        Self {
            kind: Kind::Ingest { future },
        }
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProjected::Inner { future } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(response.map_into_left_body()))
            }
            KindProjected::Ingest { future } => {
                let response = ready!(future.as_mut().poll(cx))?;
                Poll::Ready(Ok(response.map_into_right_body()))
            }
        }
    }
}
