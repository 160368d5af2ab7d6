//! # relay-store-sqlite
//!
//! The embedded, durable default store of Relay: one SQLite file in WAL mode.
//!
//! - **Durable acknowledgements.** Writes go to ONE writer thread that commits every queued
//!   write together in one transaction (group commit) with `synchronous=FULL` by default, and
//!   answers each caller only after the commit; a failed commit fails every write in it.
//!   [`Synchronous::Normal`] trades the last commits on power loss for speed.
//! - **Exactly-once ingest.** The dedup entry, the event and its deliveries are written in
//!   the same transaction; the dedup table's primary key is `(tenant, source, key)`.
//! - **Reads** run on a small pool of read-only connections on tokio's blocking threads.
//! - **Checkpoints** run on their own thread, never on the commit path.
//! - **Migrations** are embedded and versioned with `PRAGMA user_version`.
//!
//! ```
//! use relay_core::store::Store;
//! use relay_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("relay.db"), SqliteOptions::default())?;
//! store.ping().await?;
//!
//! // Or from a URL, with commits that survive a crash of the process but not power loss:
//! let url = format!("sqlite://{}", dir.path().join("fast.db").display());
//! let fast = SqliteStore::open_url(&url, SqliteOptions::default().synchronous(Synchronous::Normal))?;
//! fast.migrate().await?;
//! # Ok(()) }
//! ```

mod admin;
mod batches;
mod checkpoint;
mod circuits;
mod destinations;
mod error;
mod options;
mod pruner;
mod reads;
mod rows;
mod schema;
mod wal;
mod writer;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use async_trait::async_trait;
use relay_core::circuit::{CircuitState, VersionedCircuit};
use relay_core::event::{Attempt, Delivery, Event};
use relay_core::ids::{DeliveryId, EventId, TenantId};
use relay_core::store::{
    AttemptCompletion, DeadLetterFilter, DestinationRecord, InsertOutcome, Lease, LeasedDelivery,
    NewDelivery, NewEvent, ScheduleReport, Store, StoreError,
};
use relay_core::time::Timestamp;
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

/// A [`Store`] in one SQLite file. Cheap to clone; the threads stop when the last clone goes.
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
    completions: Batches<AttemptCompletion, ()>,
    readers: ReadPool,
    _checkpointer: Checkpointer,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path`, brings its schema up to date
    /// unless [`SqliteOptions::migrate_on_open`] is off, and starts the writer and
    /// checkpoint threads. Needs no async runtime; using the store does.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, SqliteStoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
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
                completions: Batches::new(writes::complete_attempt, |error| {
                    matches!(error, StoreError::LeaseLost(_))
                }),
                readers: ReadPool::new(readers),
                _checkpointer: checkpointer,
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

    /// Starts a tokio task that every `interval` deletes finished events older than
    /// `retention` (see [`prune_expired`]). It stops by itself when the store is dropped.
    /// Call it from within a tokio runtime.
    pub fn spawn_pruner(
        &self,
        retention: Duration,
        interval: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(pruner::run(
            Arc::downgrade(&self.inner),
            retention,
            interval,
        ))
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

#[async_trait]
impl Store for SqliteStore {
    async fn insert_event(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        self.inner
            .writer
            .write(move |conn| writes::insert_event(conn, &new))
            .await
    }

    async fn lease_due(
        &self,
        now: Timestamp,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.inner
            .writer
            .write(move |conn| writes::lease_due(conn, now, limit, lease_for))
            .await
    }

    async fn complete_attempt(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        self.inner
            .completions
            .submit(&self.inner.writer, completion)
            .await
    }

    async fn release(&self, lease: &Lease, due_at: Timestamp) -> Result<(), StoreError> {
        let lease = lease.clone();
        self.inner
            .writer
            .write(move |conn| writes::release(conn, &lease, due_at))
            .await
    }

    async fn event(&self, tenant: &TenantId, id: EventId) -> Result<Option<Event>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::event(conn, &tenant, id))
            .await
    }

    async fn deliveries(
        &self,
        tenant: &TenantId,
        event: EventId,
    ) -> Result<Vec<Delivery>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::deliveries(conn, &tenant, event))
            .await
    }

    async fn delivery(
        &self,
        tenant: &TenantId,
        id: DeliveryId,
    ) -> Result<Option<Delivery>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::delivery(conn, &tenant, id))
            .await
    }

    async fn attempts(
        &self,
        tenant: &TenantId,
        delivery: DeliveryId,
    ) -> Result<Vec<Attempt>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| reads::attempts(conn, &tenant, delivery))
            .await
    }

    async fn dead_letters(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.inner
            .readers
            .read(move |conn| reads::dead_letters(conn, &tenant, &filter, limit))
            .await
    }

    async fn schedule(
        &self,
        tenant: &TenantId,
        event: EventId,
        plan: Vec<NewDelivery>,
        force: bool,
        now: Timestamp,
    ) -> Result<ScheduleReport, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .writer
            .write(move |conn| writes::schedule(conn, &tenant, event, plan, force, now))
            .await
    }

    async fn redrive(
        &self,
        tenant: &TenantId,
        filter: &DeadLetterFilter,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let (tenant, filter) = (tenant.clone(), filter.clone());
        self.inner
            .writer
            .write(move |conn| writes::redrive(conn, &tenant, &filter, now))
            .await
    }

    async fn prune(
        &self,
        cutoff: Timestamp,
        now: Timestamp,
        batch: usize,
    ) -> Result<u64, StoreError> {
        self.inner
            .writer
            .write(move |conn| writes::prune(conn, cutoff, now, batch))
            .await
    }

    async fn circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
    ) -> Result<Option<VersionedCircuit>, StoreError> {
        let (tenant, destination) = (tenant.clone(), destination.to_owned());
        self.inner
            .readers
            .read(move |conn| circuits::circuit(conn, &tenant, &destination))
            .await
    }

    async fn swap_circuit(
        &self,
        tenant: &TenantId,
        destination: &str,
        expected: Option<u64>,
        state: CircuitState,
    ) -> Result<bool, StoreError> {
        let (tenant, destination) = (tenant.clone(), destination.to_owned());
        self.inner
            .writer
            .write(move |conn| {
                circuits::swap_circuit(conn, &tenant, &destination, expected, &state)
            })
            .await
    }

    async fn put_destination(
        &self,
        tenant: &TenantId,
        record: DestinationRecord,
    ) -> Result<(), StoreError> {
        let tenant = tenant.clone();
        self.inner
            .writer
            .write(move |conn| destinations::put(conn, &tenant, &record))
            .await
    }

    async fn destination_records(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<DestinationRecord>, StoreError> {
        let tenant = tenant.clone();
        self.inner
            .readers
            .read(move |conn| destinations::list(conn, &tenant))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.readers.read(reads::ping).await
    }

    async fn queue_depth(&self) -> Result<u64, StoreError> {
        self.inner.readers.read(reads::queue_depth).await
    }

    async fn take_quota(
        &self,
        tenant: &TenantId,
        day: i64,
        limit: u64,
    ) -> Result<relay_core::store::QuotaOutcome, StoreError> {
        let tenant = tenant.clone();
        self.write(move |conn| admin::take_quota(conn, &tenant, day, limit))
            .await
    }
}

#[cfg(test)]
mod tests;
