//! Opening the store named by `server.database_url`.

use std::sync::Arc;
use std::time::Duration;

use relay_core::memory::MemoryStore;
use relay_core::store::Store;
use relay_store_sqlite::{SqliteOptions, SqliteStore, SqliteStoreError, Synchronous};

use crate::config::model::{Server, SqliteSynchronous};

/// How often the background pruner looks for expired events.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// A database URL this build cannot open.
#[derive(Debug, thiserror::Error)]
pub enum StoreUrlError {
    /// A scheme no store of this build handles.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or memory://")]
    Unsupported(String),
    /// The SQLite file cannot be opened or migrated.
    #[error("{url}: {source}")]
    Sqlite {
        /// The URL.
        url: String,
        /// Why.
        source: SqliteStoreError,
    },
}

/// An open store and, for SQLite, its background pruner.
pub struct Opened {
    /// The store.
    pub store: Arc<dyn Store>,
    /// The pruner task, aborted when the gateway stops.
    pub pruner: Option<tokio::task::JoinHandle<()>>,
    /// The database file, for a file-backed store.
    pub file: Option<std::path::PathBuf>,
}

/// Opens (creating and migrating if needed) the store at `url`, with `server`'s durability
/// and retention. Call from within a tokio runtime.
pub fn open(url: &str, server: &Server) -> Result<Opened, StoreUrlError> {
    if url == "memory://" {
        tracing::warn!("memory:// store: nothing survives a restart");
        return Ok(Opened {
            store: Arc::new(MemoryStore::new()),
            pruner: None,
            file: None,
        });
    }
    if !url.starts_with("sqlite:") {
        return Err(StoreUrlError::Unsupported(url.to_owned()));
    }
    let synchronous = match server.sqlite_synchronous {
        SqliteSynchronous::Full => Synchronous::Full,
        SqliteSynchronous::Normal => Synchronous::Normal,
    };
    let store = SqliteStore::open_url(url, SqliteOptions::default().synchronous(synchronous))
        .map_err(|source| StoreUrlError::Sqlite {
            url: url.to_owned(),
            source,
        })?;
    let retention = Duration::from_secs(u64::from(server.retention_days) * 86_400);
    let pruner = store.spawn_pruner(retention, PRUNE_EVERY);
    Ok(Opened {
        file: Some(store.path().to_owned()),
        store: Arc::new(store),
        pruner: Some(pruner),
    })
}
