//! Why a measurement could not run.

/// Why a measurement could not run (a failed request is counted, not an error).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Sockets, files, threads.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The raw loop's SQLite.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] relay_store_sqlite::SqliteStoreError),
    /// The relay could not be built.
    #[error("relay: {0}")]
    Build(#[from] relay_core::BuildError),
    /// A destination URL was refused.
    #[error("destination: {0}")]
    Destination(#[from] relay_core::deliver::destination::DestinationError),
    /// An HTTP request could not be built.
    #[error("http: {0}")]
    Http(#[from] http::Error),
    /// A spawned task panicked or was cancelled.
    #[error("task: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// The harness itself could not be set up.
    #[error("setup: {0}")]
    Setup(String),
}
