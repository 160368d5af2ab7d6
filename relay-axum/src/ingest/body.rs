//! [`ResponseBody`]: the body of every response the layer answers with.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use pin_project_lite::pin_project;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// The response body: the inner service's, untouched, or Relay's JSON reply (empty for
    /// [`Default`], which middleware such as tower-http's `TimeoutLayer` answers with).
    pub struct ResponseBody<B> {
        #[pin]
        kind: BodyKind<B>,
    }
}

pin_project! {
    #[project = BodyKindProjected]
    enum BodyKind<B> {
        Inner { #[pin] body: B },
        Relay { #[pin] body: Full<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    pub(super) fn inner(body: B) -> Self {
        Self {
            kind: BodyKind::Inner { body },
        }
    }

    pub(super) fn relay(body: Full<Bytes>) -> Self {
        Self {
            kind: BodyKind::Relay { body },
        }
    }
}

/// An empty body. Middleware that answers without calling the service it wraps builds its
/// response body with `Default`: tower-http's `TimeoutLayer`, for one, answers 408 with an
/// empty body when the layer's service takes too long, so `RelayLayer` composes under it.
///
/// ```
/// use http_body::Body as _;
/// use relay_axum::ResponseBody;
///
/// let body = ResponseBody::<axum::body::Body>::default();
/// assert!(body.is_end_stream());
/// assert_eq!(body.size_hint().exact(), Some(0));
/// ```
impl<B> Default for ResponseBody<B> {
    fn default() -> Self {
        Self::relay(Full::default())
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project().kind.project() {
            BodyKindProjected::Inner { body } => body.poll_frame(cx).map_err(Into::into),
            BodyKindProjected::Relay { body } => body
                .poll_frame(cx)
                .map_err(|never: Infallible| match never {}),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Inner { body } => body.is_end_stream(),
            BodyKind::Relay { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Inner { body } => body.size_hint(),
            BodyKind::Relay { body } => body.size_hint(),
        }
    }
}
