//! The ingest layer: `POST {prefix}/{source}` → relay-core's pipeline.

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::RelayLayer;
pub use service::{RelayService, ResponseBody};
