//! Containing panics of code Relay calls but does not own (a user's [`Transformer`]
//! (crate::Transformer) or [`EventHandler`](crate::EventHandler)), and of request handling in
//! the framework adapters: [`catch`] for a call, [`CatchUnwind`] for a future, and
//! [`message`] to say what panicked. The internal error reply the adapters answer with is
//! [`INTERNAL_ERROR_BODY`].
//!
//! ```
//! use relay_core::unwind;
//! let caught = unwind::catch(|| -> u32 { panic!("boom") });
//! assert_eq!(caught.unwrap_err(), "boom");
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let n = 42;
//! let caught = unwind::CatchUnwind::new(async move { if n > 0 { panic!("async {n}") } n }).await;
//! assert_eq!(caught, Err("async 42".to_owned()));
//! # });
//! ```

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// The body of the `500` answered when serving a request panicked.
pub const INTERNAL_ERROR_BODY: &str = r#"{"error":"internal"}"#;

/// What a panic's payload says: its message when it is a string, else a placeholder.
pub fn message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}

/// Runs `call`, turning a panic into `Err` with its [`message`]. The call's captures are
/// treated as unwind safe: what a contained panic leaves behind is dropped, not reused.
pub fn catch<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(call)).map_err(|payload| message(payload.as_ref()))
}

pin_project! {
    /// A future whose panics become `Err` with their [`message`]; the future is not polled
    /// again after one.
    #[must_use = "futures do nothing unless polled"]
    pub struct CatchUnwind<F> {
        #[pin]
        future: F,
    }
}

impl<F> CatchUnwind<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        Self { future }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.project().future;
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(message(payload.as_ref()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_every_payload() {
        assert_eq!(catch(|| 7), Ok(7));
        assert_eq!(catch(|| -> u8 { panic!("plain") }), Err("plain".to_owned()));
        let n = 3;
        assert_eq!(
            catch(|| -> u8 { panic!("formatted {n}") }),
            Err("formatted 3".to_owned())
        );
        let odd = catch(|| -> u8 { std::panic::panic_any(17_u8) });
        assert_eq!(odd, Err("a panic with a non-string payload".to_owned()));
    }

    fn caught_later() -> bool {
        true
    }

    #[tokio::test]
    async fn a_future_that_panics_after_pending() {
        let caught = CatchUnwind::new(async {
            tokio::task::yield_now().await;
            if caught_later() {
                panic!("later");
            }
        })
        .await;
        assert_eq!(caught, Err("later".to_owned()));
        assert_eq!(CatchUnwind::new(async { 5 }).await, Ok(5));
    }
}
