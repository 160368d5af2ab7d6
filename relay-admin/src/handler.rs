//! Handlers: async functions whose arguments are [`FromRequest`] pieces and whose result is
//! [`IntoReply`], erased to one type so that one table can hold them all.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::reply::{IntoReply, Reply};
use crate::request::{FromRequest, Request};

/// A handler's answer, boxed.
pub type BoxReply = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// A handler of any signature, erased.
#[derive(Clone)]
pub struct BoxHandler(Arc<dyn Fn(Request) -> BoxReply + Send + Sync>);

impl BoxHandler {
    /// Erases `handler`.
    pub fn new<Args>(handler: impl Handler<Args>) -> Self {
        Self(Arc::new(move |request| handler.clone().call(request)))
    }

    /// Answers `request`.
    pub fn call(&self, request: Request) -> BoxReply {
        (self.0)(request)
    }
}

impl std::fmt::Debug for BoxHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxHandler(..)")
    }
}

/// An async function of [`FromRequest`] arguments (taken in order; the first refusal is
/// the answer) returning something [`IntoReply`].
pub trait Handler<Args>: Clone + Send + Sync + 'static {
    /// Takes the arguments from `request`, runs, answers.
    fn call(self, request: Request) -> BoxReply;
}

macro_rules! handler {
    ($($arg:ident),*) => {
        impl<F, Fut, R, $($arg,)*> Handler<($($arg,)*)> for F
        where
            F: Fn($($arg),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send,
            R: IntoReply,
            $($arg: FromRequest + Send,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(self, request: Request) -> BoxReply {
                Box::pin(async move {
                    $(let $arg = match $arg::from_request(&request).await {
                        Ok(value) => value,
                        Err(refusal) => return refusal,
                    };)*
                    self($($arg),*).await.into_reply()
                })
            }
        }
    };
}

handler!();
handler!(A);
handler!(A, B);
handler!(A, B, C);
handler!(A, B, C, D);
handler!(A, B, C, D, E);
