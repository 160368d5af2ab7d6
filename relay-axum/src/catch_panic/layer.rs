//! [`CatchPanicLayer`], the [`Layer`] that wraps a service in [`CatchPanic`].

use tower::Layer;

use super::service::CatchPanic;

/// Wraps a service so that a panic while serving a request answers
/// `500 {"error":"internal"}` (see the [module](super)).
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer;

impl CatchPanicLayer {
    /// The layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CatchPanic::new(inner)
    }
}
