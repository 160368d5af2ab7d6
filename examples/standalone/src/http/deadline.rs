//! A request body that must arrive in full before a deadline.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::Sleep;

/// The body was not received in full before its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyDeadlineElapsed(pub Duration);

pin_project! {
    /// Wraps a request body: reading it fails with [`BodyDeadlineElapsed`] once `timeout` has
    /// passed since the request arrived, however the bytes trickle in (a per-frame idle
    /// timeout would let a sender keep a request open forever with one byte at a time).
    pub struct DeadlineBody<B> {
        #[pin]
        body: B,
        #[pin]
        deadline: Sleep,
        timeout: Duration,
    }
}

impl<B> DeadlineBody<B> {
    /// `body`, to be read in full within `timeout` from now.
    pub fn new(body: B, timeout: Duration) -> Self {
        Self {
            body,
            deadline: tokio::time::sleep(timeout),
            timeout,
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.body.poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match this.deadline.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyDeadlineElapsed(*this.timeout))))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, Full};

    /// One byte per `interval`, forever.
    struct Trickle(tokio::time::Interval);

    impl Body for Trickle {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            self.0
                .poll_tick(cx)
                .map(|_| Some(Ok(Frame::data(Bytes::from_static(b"x")))))
        }
    }

    #[tokio::test]
    async fn a_body_in_time_is_read_whole() {
        let full = Full::new(Bytes::from_static(b"hello"));
        let body = DeadlineBody::new(full, Duration::from_secs(5));
        let bytes = body.collect().await.expect("in time").to_bytes();
        assert_eq!(bytes.as_ref(), b"hello");
    }

    #[tokio::test]
    async fn a_trickling_body_fails_at_the_deadline() {
        // A byte every 20 ms comes well within any idle timeout, but the body never ends.
        let trickle = Trickle(tokio::time::interval(Duration::from_millis(20)));
        let body = DeadlineBody::new(trickle, Duration::from_millis(300));
        let error = body.collect().await.expect_err("past the deadline");
        assert!(error.is::<BodyDeadlineElapsed>(), "{error}");
    }
}
