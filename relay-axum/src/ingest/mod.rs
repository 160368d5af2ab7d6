//! The ingest layer: `POST {prefix}/{source}` → relay-core's pipeline.

mod body;
mod future;
mod layer;
mod service;

pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::RelayLayer;
pub use relay_admin::tenant::TenantResolver;
pub use service::RelayService;
