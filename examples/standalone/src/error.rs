//! [`ServeError`]: why the gateway could not start, stopped, or a command against it failed.

use crate::config::ConfigError;
use crate::keys;
use crate::store::StoreUrlError;

/// Why the gateway could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is invalid (exit code 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store cannot be opened.
    #[error("store: {0}")]
    Store(#[from] StoreUrlError),
    /// The sources, destinations and routes stored through the admin API cannot be read.
    #[error("reading the stored sources, destinations and routes: {0}")]
    Objects(#[source] relay_core::store::StoreError),
    /// The Redis server cannot be reached.
    #[error("redis {url}: {source}")]
    Redis {
        /// The URL, without its password.
        url: String,
        /// Why.
        source: relay_store_redis::RedisStoreError,
    },
    /// The relay could not be built.
    #[error("{0}")]
    Build(#[from] relay_core::BuildError),
    /// The credential key cannot be read or created.
    #[error("credential key: {0}")]
    Key(#[from] keys::KeysError),
    /// A configured destination could not be saved in the store.
    #[error("saving destination: {0}")]
    SaveDestination(#[from] relay_core::control::manage::SaveDestinationError),
    /// A user or API key could not be made.
    #[error("admin access: {0}")]
    Access(#[from] crate::access::AccessError),
    /// `GET /metrics` cannot be served (another metrics recorder is installed).
    #[error("metrics: {0}")]
    Metrics(#[from] relay_axum::metrics::MetricsError),
    /// `relay doctor` found something wrong (printed above).
    #[error("some checks failed")]
    Unhealthy,
    /// The TLS certificate or key cannot be used.
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// A running gateway could not be asked to reload.
    #[error("{0}")]
    Remote(String),
    /// The listen address cannot be bound, or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
}
