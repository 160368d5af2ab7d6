//! The crate's error type.

/// Why a Redis operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RedisStoreError {
    /// Redis or the connection reported an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A URL that is not `redis://…` or `rediss://…`.
    #[error("invalid redis url {0:?}: expected redis://…")]
    InvalidUrl(String),
    /// A key prefix with characters other than ASCII letters, digits, `_`, `-`, `.` and `:`.
    #[error("invalid key prefix {0:?}")]
    InvalidPrefix(String),
}
