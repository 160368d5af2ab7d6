//! The crate's error type and its mapping onto [`StoreError`].

use relay_core::store::StoreError;

use crate::schema::MigrationError;

/// Why a SQLite store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SqliteStoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file-system operation failed (creating the database's directory, …).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Bringing the schema up to date failed.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// A `sqlite://` URL could not be understood.
    #[error("invalid sqlite url {0:?}: expected sqlite://PATH")]
    InvalidUrl(String),
    /// The transaction holding this operation could not be committed: nothing of it was
    /// written.
    #[error("commit failed: {0}")]
    CommitFailed(String),
    /// The writer thread has stopped (the store was closed or the thread died).
    #[error("the writer thread has stopped")]
    WriterStopped,
    /// A read could not be run on the blocking pool.
    #[error("read task failed: {0}")]
    ReadTask(String),
    /// A read panicked; its connection went back to the pool.
    #[error("a read panicked: {0}")]
    ReadPanicked(String),
    /// A stored row could not be decoded.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Another process (or another open store in this one) owns the database file: one
    /// process at a time may open a SQLite store (see
    /// [`SqliteOptions::exclusive`](crate::SqliteOptions::exclusive)).
    #[error(
        "{} is in use by {holder}: one process owns a SQLite store at a time \
         (its lock file is {}); stop that process or use another database file",
        path.display(),
        lock.display()
    )]
    InUse {
        /// The database file.
        path: std::path::PathBuf,
        /// The lock file beside it.
        lock: std::path::PathBuf,
        /// The holder, as its lock file describes it (process id, program and host).
        holder: String,
    },
}

impl From<SqliteStoreError> for StoreError {
    fn from(error: SqliteStoreError) -> Self {
        match error {
            SqliteStoreError::Corrupt(reason) => StoreError::Corrupt(reason),
            SqliteStoreError::Sqlite(
                e @ (rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)),
            ) => StoreError::Corrupt(e.to_string()),
            other => StoreError::unavailable(other),
        }
    }
}
