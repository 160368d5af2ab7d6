//! How a [`SqliteStore`](crate::SqliteStore) is opened.

use std::time::Duration;

/// SQLite's `synchronous` setting for the write connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous=FULL` (the default): every commit is fsynced before the callers in its
    /// batch are answered, so an acknowledged event survives power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: in WAL mode commits are not fsynced (only checkpoints are); an
    /// acknowledged event survives a crash of the process but the last commits may be lost
    /// on power loss or an OS crash. Faster on slow disks.
    Normal,
}

impl Synchronous {
    pub(crate) fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// Options for [`SqliteStore::open`](crate::SqliteStore::open). Start from
/// [`SqliteOptions::default`] and change what you need.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub(crate) synchronous: Synchronous,
    pub(crate) readers: usize,
    pub(crate) max_batch: usize,
    pub(crate) queue: usize,
    pub(crate) checkpoint_interval: Duration,
    pub(crate) busy_timeout: Duration,
    pub(crate) migrate: bool,
    pub(crate) cache_kib: i64,
    pub(crate) wal_limit: u64,
    pub(crate) exclusive: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            readers: 4,
            max_batch: 512,
            queue: 8192,
            checkpoint_interval: Duration::from_secs(1),
            busy_timeout: Duration::from_secs(5),
            migrate: true,
            cache_kib: 2 * 1024,
            wal_limit: 64 * 1024 * 1024,
            exclusive: true,
        }
    }
}

impl SqliteOptions {
    /// The durability of commits (default [`Synchronous::Full`]).
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// How many read-only connections serve reads (default 4, at least 1).
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers.max(1);
        self
    }

    /// At most how many queued writes one transaction commits together (default 512).
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    /// How many writes may wait for the writer before callers wait to enqueue (default 8192).
    pub fn queue(mut self, queue: usize) -> Self {
        self.queue = queue.max(1);
        self
    }

    /// How often the background thread runs a passive WAL checkpoint (default 1 s).
    pub fn checkpoint_interval(mut self, interval: Duration) -> Self {
        self.checkpoint_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// How long a connection waits on a lock held by another (default 5 s).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The writer connection's page cache, in KiB (default 2 MiB, at least 1 MiB).
    ///
    /// Small on purpose: at the end of every transaction SQLite walks its page cache's whole
    /// hash table whenever a page split borrowed a page number past the end of the file (which
    /// B-tree balancing does), so a big cache costs every commit time in proportion to its
    /// size. 2 MiB measured faster than 64 MiB for both ingest and delivery and halved the
    /// resident memory (`benches/results/2026-12-07-cache.md`); the operating system's page
    /// cache still holds the file.
    pub fn cache_kib(mut self, kib: u32) -> Self {
        self.cache_kib = i64::from(kib.max(1024));
        self
    }

    /// How large the WAL file may grow, in bytes (default 64 MiB, at least 1 MiB). Under
    /// sustained writes the background checkpoints never catch up with the writer, so SQLite
    /// would never start the WAL over; past this size the writer itself runs a `RESTART`
    /// checkpoint between two group commits (the callers of the last group are already
    /// answered), so the WAL is reused from its start and truncated to this size.
    pub fn wal_limit_bytes(mut self, bytes: u64) -> Self {
        self.wal_limit = bytes.max(1024 * 1024);
        self
    }

    /// Whether this store owns the database file (default `true`). The owner holds an
    /// exclusive lock on `PATH.lock` beside it while it is open, so a second owner (another
    /// process, or another open store in this one) is refused with
    /// [`SqliteStoreError::InUse`](crate::SqliteStoreError::InUse) naming the holder; and
    /// since nobody else can hold leases on the file, it gives back at open, due at once, every
    /// delivery left in flight by its previous life. With `false` the store takes no lock and
    /// gives nothing back: for tools that read the file or write admin data beside a running
    /// owner, never for a delivery worker.
    pub fn exclusive(mut self, exclusive: bool) -> Self {
        self.exclusive = exclusive;
        self
    }

    /// Whether [`SqliteStore::open`](crate::SqliteStore::open) brings the schema up to date
    /// (default `true`). With `false`, call [`SqliteStore::migrate`](crate::SqliteStore::migrate).
    pub fn migrate_on_open(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }
}
