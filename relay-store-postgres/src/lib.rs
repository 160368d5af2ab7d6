#![doc = include_str!("../README.md")]

mod admin;
mod admin_store;
mod circuits;
mod complete;
mod destinations;
mod error;
mod held;
mod insert;
#[cfg(test)]
mod lease_loss_tests;
mod options;
mod pipeline;
#[cfg(test)]
mod plan_tests;
mod pools;
mod queue;
mod reads;
mod rows;
mod schema;
#[cfg(test)]
mod scratch;
mod tls;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio_postgres::config::SslMode;

pub use error::{PgStoreError, RootCertError};
pub use options::PgOptions;
pub use relay_core::store::{PRUNE_BATCH, prune_expired};
pub use schema::{MigrationError, SCHEMA_VERSION};
/// The driver, re-exported so callers can build a [`tokio_postgres::Config`].
pub use tokio_postgres;

use writer::{Shape, Writers};

/// A [`Store`](relay_core::store::Store) in a PostgreSQL database. Cheap to clone; the writer tasks stop when the last
/// clone goes.
#[derive(Debug, Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pool: Pool,
    /// The delivery queue's lease connections (see [`pools`]).
    lease_pool: Pool,
    /// The group-commit writers' connections (see [`pools`]); the writer tasks hold clones,
    /// this one is kept for the tests to look at.
    #[cfg_attr(not(test), allow(dead_code))]
    write_pool: Pool,
    schema: Option<String>,
    writers: Writers,
    commits: Arc<AtomicU64>,
    completion_commits: Arc<AtomicU64>,
}

/// Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://…` or `postgresql://…`, with the
    /// parameters libpq-style URLs take, e.g. `?sslmode=require`, and `sslrootcert`: a PEM
    /// file of the CA certificates to trust instead of the Mozilla list and the operating
    /// system's roots, or `system` for the system's only), brings the schema up to
    /// date unless [`PgOptions::migrate_on_open`] is off, and starts the group-commit
    /// writers on the current tokio runtime.
    pub async fn connect(url: &str, options: PgOptions) -> Result<Self, PgStoreError> {
        let invalid = |reason: String| PgStoreError::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        if !is_postgres_url(url) {
            return Err(invalid("expected postgres://…".into()));
        }
        let (driver_url, roots) = tls::take_roots(url).map_err(invalid)?;
        let config = driver_url
            .parse::<tokio_postgres::Config>()
            .map_err(|e| invalid(e.to_string()))?;
        if roots != tls::Roots::Default && config.get_ssl_mode() != SslMode::Require {
            // Without it the connection would be plaintext and the roots never used.
            return Err(invalid("sslrootcert needs sslmode=require".into()));
        }
        Self::open(config, options, roots).await
    }

    /// Like [`PgStore::connect`], with a connection configuration built by the caller. With
    /// `sslmode=require` the server is verified against the Mozilla list and the operating
    /// system's roots (`sslrootcert` is a URL parameter, read by [`PgStore::connect`]).
    pub async fn connect_with(
        config: tokio_postgres::Config,
        options: PgOptions,
    ) -> Result<Self, PgStoreError> {
        Self::open(config, options, tls::Roots::Default).await
    }

    async fn open(
        mut config: tokio_postgres::Config,
        options: PgOptions,
        roots: tls::Roots,
    ) -> Result<Self, PgStoreError> {
        if let Some(schema) = &options.schema {
            if !options::valid_schema(schema) {
                return Err(PgStoreError::InvalidSchema(schema.clone()));
            }
            config.options(format!("-c search_path={schema}"));
        }
        if config.get_application_name().is_none() {
            config.application_name("relay");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(options.acquire_timeout);
        }
        let pool = pools::build(
            &config,
            &roots,
            options.max_connections as usize,
            options.acquire_timeout,
            None,
        )?;
        let lease_pool = pools::build(
            &config,
            &roots,
            pools::LEASE_CONNECTIONS,
            options.acquire_timeout,
            Some(pools::LEASE_SETTINGS),
        )?;
        let write_pool = pools::build(
            &config,
            &roots,
            options.writers + options.completion_writers,
            options.acquire_timeout,
            Some(pools::WRITE_SETTINGS),
        )?;
        // Fails now, not at the first ingest, when the server cannot be reached.
        drop(pool.get().await?);
        let commits = Arc::new(AtomicU64::new(0));
        let completion_commits = Arc::new(AtomicU64::new(0));
        let shape = Shape {
            writers: options.writers,
            max_batch: options.max_batch,
            queue: options.queue,
        };
        let writers = Writers::spawn(
            write_pool.clone(),
            shape,
            Shape {
                writers: options.completion_writers,
                ..shape
            },
            Arc::clone(&commits),
            Arc::clone(&completion_commits),
        );
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                lease_pool,
                write_pool,
                schema: options.schema,
                writers,
                commits,
                completion_commits,
            }),
        };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Brings the schema up to date (idempotent; several nodes may call it at once);
    /// returns the schema version reached.
    pub async fn migrate(&self) -> Result<u32, PgStoreError> {
        let mut client = self.inner.pool.get().await?;
        Ok(schema::migrate(&mut client, self.inner.schema.as_deref()).await?)
    }

    /// How many group commits (statements writing a batch of ingests) have committed since
    /// connect: divide the ingests made through this handle by it for the average batch.
    pub fn commit_count(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    /// How many group commits of attempt completions (statements recording a batch of
    /// attempts) have committed since connect: divide the completions made through this
    /// handle by it for the average batch.
    pub fn completion_commit_count(&self) -> u64 {
        self.inner.completion_commits.load(Ordering::Relaxed)
    }

    /// The connection pool (for health checks or your own queries).
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The schema holding Relay's tables, when [`PgOptions::schema`] was given.
    pub fn schema(&self) -> Option<&str> {
        self.inner.schema.as_deref()
    }

    /// Starts a tokio task that every `interval` prunes what `retention` lets go: finished
    /// events, expired sessions, old audit entries and metric points (a [`Retention`](relay_core::store::Retention),
    /// or a bare `Duration` for the events; see [`prune_all`](relay_core::store::prune_all)).
    /// It stops by itself when the store is dropped. Call it from within a tokio runtime.
    pub fn spawn_pruner(
        &self,
        retention: impl Into<relay_core::store::Retention>,
        interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let store = Arc::downgrade(&self.inner);
        let upgrade = move || store.upgrade().map(|inner| Box::new(PgStore { inner }));
        relay_core::store::spawn_pruner(upgrade, retention, interval)
    }
}
