//! The ingest layer: `POST {prefix}/{source}` → relay-core's pipeline.

mod future;
mod layer;
mod service;
mod tenant;

pub use future::ResponseFuture;
pub use layer::RelayLayer;
pub use service::{RelayService, ResponseBody};
pub use tenant::TenantResolver;
