#![doc = include_str!("../README.md")]

mod admin;
mod batches;
mod checkpoint;
mod circuits;
mod destinations;
mod error;
mod held;
mod lease;
mod options;
mod owner;
mod pipeline;
mod reads;
mod resume;
mod rows;
mod schema;
mod wal;
mod writer;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use relay_core::store::{InsertOutcome, NewEvent, StoreError};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

pub use error::SqliteStoreError;
pub use options::{SqliteOptions, Synchronous};
pub use relay_core::store::{PRUNE_BATCH, prune_expired};
pub use schema::{MigrationError, SCHEMA_VERSION};

use batches::Batches;
use checkpoint::Checkpointer;
use reads::ReadPool;
use wal::WalBound;
use writer::Writer;

/// A [`Store`](relay_core::store::Store) in one SQLite file. Cheap to clone; the threads stop when the last clone goes.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    path: PathBuf,
    commits: Arc<AtomicU64>,
    writer: Writer,
    /// Attempt completions, many to a writer job.
    completions: Batches<lease::EncodedCompletion, ()>,
    /// Ingested events, many to a writer job (one savepoint for the lot, not one each).
    ingests: Batches<NewEvent, InsertOutcome>,
    readers: ReadPool,
    _checkpointer: Checkpointer,
    /// The lock that makes this store the file's owner (none when not exclusive). Declared
    /// last, so it is released after the threads above have stopped.
    _owner: Option<owner::Owner>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path`, brings its schema up to date
    /// unless [`SqliteOptions::migrate_on_open`] is off, and starts the writer and
    /// checkpoint threads. Needs no async runtime; using the store does.
    ///
    /// By default the store owns the file ([`SqliteOptions::exclusive`]): a second owner is
    /// refused with [`SqliteStoreError::InUse`], and the deliveries left in flight by the
    /// previous owner (a process killed with `kill -9`) are due again at once.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, SqliteStoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let owner = options
            .exclusive
            .then(|| owner::acquire(&path))
            .transpose()?;
        let mut write = Connection::open(&path)?;
        write.busy_timeout(options.busy_timeout)?;
        let mode: String = write.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "sqlite did not switch to WAL mode");
        }
        write.pragma_update(None, "synchronous", options.synchronous.pragma())?;
        write.pragma_update(None, "wal_autocheckpoint", 0)?;
        write.pragma_update(None, "journal_size_limit", options.wal_limit as i64)?;
        write.pragma_update(None, "temp_store", "MEMORY")?;
        write.pragma_update(None, "cache_size", -options.cache_kib)?;
        write.pragma_update(None, "foreign_keys", false)?;
        write.set_prepared_statement_cache_capacity(64);
        // Plans must not depend on bound values: otherwise SQLite re-prepares the lease query
        // (its `?1` meets the partial indexes' WHERE clauses) every time `now` changes.
        write.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        if options.migrate {
            schema::migrate(&mut write)?;
        }
        if owner.is_some() && schema::version(&write)? >= 1 {
            let released =
                resume::release_leases(&write, relay_core::model::time::Timestamp::now())?;
            if released > 0 {
                tracing::info!(
                    released,
                    path = %path.display(),
                    "resumed the deliveries the previous owner of the store had in flight"
                );
            }
        }

        let mut readers = Vec::with_capacity(options.readers);
        for _ in 0..options.readers {
            let conn = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            conn.busy_timeout(options.busy_timeout)?;
            conn.set_prepared_statement_cache_capacity(32);
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
            readers.push(conn);
        }
        let checkpoint_conn = Connection::open(&path)?;
        checkpoint_conn.busy_timeout(options.busy_timeout)?;

        let commits = Arc::new(AtomicU64::new(0));
        let checkpointer = Checkpointer::spawn(
            checkpoint_conn,
            options.checkpoint_interval,
            Arc::clone(&commits),
        )?;
        let writer = Writer::spawn(
            write,
            options.max_batch,
            options.queue,
            Arc::clone(&commits),
            WalBound::new(&path, options.wal_limit),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                commits,
                writer,
                completions: Batches::new(lease::complete_attempt, |error| {
                    matches!(error, StoreError::LeaseLost(_))
                }),
                // A duplicate is an answer, not an error: every insert error is the batch's.
                ingests: Batches::new(writes::insert_event, |_| false),
                readers: ReadPool::new(readers),
                _checkpointer: checkpointer,
                _owner: owner,
            }),
        })
    }

    /// Opens the database named by a `sqlite://PATH` URL (`sqlite:PATH` and
    /// `sqlite:///abs/path` work too; a `?query` is ignored). See [`SqliteStore::open`].
    pub fn open_url(url: &str, options: SqliteOptions) -> Result<Self, SqliteStoreError> {
        Self::open(path_from_url(url)?, options)
    }

    /// Brings the schema up to date (idempotent); returns the schema version reached.
    pub async fn migrate(&self) -> Result<u32, SqliteStoreError> {
        let (failure, failed) = tokio::sync::oneshot::channel();
        // Runs on the writer's connection inside its transaction (DDL is transactional).
        let committed = self
            .inner
            .writer
            .write(move |conn| match schema::migrate_in_tx(conn) {
                Ok(version) => Ok(version),
                Err(error) => {
                    let _ = failure.send(error);
                    Err(StoreError::NotFound)
                }
            })
            .await;
        match committed {
            Ok(version) => Ok(version),
            Err(error) => Err(match failed.await {
                Ok(migration) => migration.into(),
                Err(_) => SqliteStoreError::CommitFailed(error.to_string()),
            }),
        }
    }

    /// How many group commits (transactions) the writer has committed since open: divide
    /// the writes made by it for the average batch size.
    pub fn commit_count(&self) -> u64 {
        self.inner
            .commits
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
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
        let upgrade = move || store.upgrade().map(|inner| Box::new(SqliteStore { inner }));
        relay_core::store::spawn_pruner(upgrade, retention, interval)
    }

    /// How many rows the store has inserted, updated or deleted since it was opened
    /// (SQLite's `total_changes()` of its one writer connection, which makes every write):
    /// a count of the store's writes, e.g. to check that a held backlog costs none.
    pub async fn total_changes(&self) -> Result<u64, StoreError> {
        self.write(|conn| Ok(conn.total_changes())).await
    }

    /// Runs `work` on the writer thread, inside its next group commit.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.writer.write(work).await
    }

    /// Runs `read` on a pooled read-only connection.
    pub(crate) async fn read<T, F>(&self, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.inner.readers.read(read).await
    }

    #[cfg(test)]
    pub(crate) async fn fail_commits(&self, fail: bool) {
        let _ = self
            .inner
            .writer
            .send(writer::Message::FailCommits(fail))
            .await;
    }
}

fn path_from_url(url: &str) -> Result<PathBuf, SqliteStoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| SqliteStoreError::InvalidUrl(url.to_owned()))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err(SqliteStoreError::InvalidUrl(url.to_owned()));
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests;
