//! Errors of the outbox's database work.

/// A database operation of the outbox failed (writing a row, migrating, or a mover's round).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// `tokio-postgres` failed.
    #[cfg(feature = "tokio-postgres")]
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// `rusqlite` failed.
    #[cfg(feature = "rusqlite")]
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// sqlx failed.
    #[cfg(any(feature = "sqlx-postgres", feature = "sqlx-sqlite"))]
    #[error("sqlx: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A blocking database call's thread panicked or was cancelled.
    #[error("database thread: {0}")]
    Blocking(String),
}
