//! The ingest layer: `POST {prefix}/{source}` → relay-core's pipeline.

mod body;
mod future;
mod layer;
mod service;
mod tenant;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::RelayLayer;
pub use service::RelayService;
pub use tenant::TenantResolver;
