//! The crate's error type and its mapping onto [`StoreError`].

use std::path::PathBuf;
use std::sync::Arc;

use relay_core::store::StoreError;

use crate::schema::MigrationError;

/// Why a PostgreSQL store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PgStoreError {
    /// The server or the connection reported an error.
    #[error("postgres: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No pooled connection could be had in time (the server is down or overloaded).
    #[error("connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The connection pool could not be built.
    #[error("connection pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
    /// The TLS client could not be set up.
    #[error("tls: {0}")]
    Tls(#[from] rustls::Error),
    /// The roots to verify the server against (`sslrootcert`) could not be loaded.
    #[error("sslrootcert: {0}")]
    RootCert(#[from] RootCertError),
    /// Bringing the schema up to date failed.
    #[error(transparent)]
    Migration(#[from] MigrationError),
    /// A database URL could not be understood.
    #[error("invalid postgres url {url:?}: {reason}")]
    InvalidUrl {
        /// The URL, as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// [`PgOptions::schema`](crate::PgOptions::schema) is not a plain identifier.
    #[error("invalid schema name {0:?}: expected ASCII letters, digits and _ (at most 63)")]
    InvalidSchema(String),
    /// The group commit holding this ingest or attempt completion failed as a whole (the
    /// server or the connection failed): nothing of it was written.
    #[error("group commit failed: {0}")]
    Batch(#[source] Arc<PgStoreError>),
    /// The group-commit writers have stopped (the runtime that started them shut down).
    #[error("the group-commit writers have stopped")]
    WriterStopped,
    /// A stored row could not be decoded.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Why the root certificates named by `sslrootcert` (or the system's) could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RootCertError {
    /// The file could not be read.
    #[error("cannot read {path:?}: {source}")]
    Read {
        /// The file, as given.
        path: PathBuf,
        /// Why reading failed.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid PEM.
    #[error("{path:?} is not a PEM file: {source}")]
    Pem {
        /// The file, as given.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The file holds no `BEGIN CERTIFICATE` block.
    #[error("{0:?} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)")]
    NoCertificate(PathBuf),
    /// A certificate of the file cannot be a trust anchor.
    #[error("{path:?}: a certificate was refused: {source}")]
    BadCertificate {
        /// The file, as given.
        path: PathBuf,
        /// Why the certificate was refused.
        #[source]
        source: rustls::Error,
    },
    /// `sslrootcert=system`, and the operating system has no root certificate to offer.
    #[error("no root certificate of the operating system could be loaded ({0})")]
    NoSystemRoots(String),
}

impl PgStoreError {
    /// The SQLSTATE of a server error, e.g. `23505`.
    pub fn sql_state(&self) -> Option<&str> {
        match self {
            Self::Postgres(e) => e.code().map(|c| c.code()),
            Self::Pool(deadpool_postgres::PoolError::Backend(e)) => e.code().map(|c| c.code()),
            Self::Batch(e) => e.sql_state(),
            _ => None,
        }
    }
}

/// Whether `error` may be caused by one row of a batch (bad data, a constraint, a deadlock
/// or serialisation failure) rather than by the server or the connection.
pub(crate) fn row_level(error: &PgStoreError) -> bool {
    error.sql_state().is_some_and(|code| {
        ["22", "23", "40"]
            .iter()
            .any(|class| code.starts_with(class))
    })
}

/// Whether `error` is a deadlock or serialisation failure, worth retrying as is.
pub(crate) fn transient(error: &PgStoreError) -> bool {
    error.sql_state().is_some_and(|code| code.starts_with("40"))
}

impl From<PgStoreError> for StoreError {
    fn from(error: PgStoreError) -> Self {
        match error {
            PgStoreError::Corrupt(reason) => StoreError::Corrupt(reason),
            other => StoreError::unavailable(other),
        }
    }
}

/// Converts driver results into store results.
pub(crate) trait Db<T> {
    /// The result with a driver error as a [`StoreError`].
    fn db(self) -> Result<T, StoreError>;
}

impl<T, E: Into<PgStoreError>> Db<T> for Result<T, E> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(|e| e.into().into())
    }
}
