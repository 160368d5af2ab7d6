//! [`CatchPanicLayer`]: a panic while serving a request answers `500 {"error":"internal"}`
//! and the server lives on, instead of the connection being dropped without an answer.
//!
//! ```
//! use axum::{Router, routing::get};
//! use relay_axum::CatchPanicLayer;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "fine" }))
//!     .route("/bug", get(|| async { if true { panic!("a bug") } "never" }))
//!     .layer(CatchPanicLayer::new());
//! # let _ = app;
//! ```
//!
//! The panic's message is logged (`error`, target `relay_axum::catch_panic`), never sent to
//! the client.

mod future;
mod layer;
mod reply;
mod service;

pub use future::ResponseFuture;
pub use layer::CatchPanicLayer;
pub use reply::internal_error;
pub use service::CatchPanic;
