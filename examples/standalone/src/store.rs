//! Opening the store named by `server.database_url`.

use std::sync::Arc;

use relay_core::memory::MemoryStore;
use relay_core::store::Store;

/// A database URL this build cannot open.
#[derive(Debug, thiserror::Error)]
pub enum StoreUrlError {
    /// A scheme no store of this build handles.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or memory://")]
    Unsupported(String),
}

/// Opens (creating if needed) the store at `url`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreUrlError> {
    if url == "memory://" {
        tracing::warn!("memory:// store: nothing survives a restart");
        return Ok(Arc::new(MemoryStore::new()));
    }
    Err(StoreUrlError::Unsupported(url.to_owned()))
}
