//! How a [`PgStore`](crate::PgStore) connects and commits.

use std::time::Duration;

/// Options for [`PgStore::connect`](crate::PgStore::connect). Start from
/// [`PgOptions::default`] and change what you need.
#[derive(Debug, Clone)]
pub struct PgOptions {
    pub(crate) schema: Option<String>,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) max_batch: usize,
    pub(crate) writers: usize,
    pub(crate) completion_writers: usize,
    pub(crate) queue: usize,
    pub(crate) migrate: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        Self {
            schema: None,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
            max_batch: 512,
            writers: 2,
            completion_writers: 1,
            queue: 8192,
            migrate: true,
        }
    }
}

impl PgOptions {
    /// Keeps Relay's tables in this schema (created by the migrations if missing) instead of
    /// the connection's default (`public`): every connection's `search_path` is set to it.
    /// The name must be a plain identifier: ASCII letters, digits and `_`, not starting with
    /// a digit, at most 63 bytes; anything else fails at connect with
    /// [`PgStoreError::InvalidSchema`](crate::PgStoreError::InvalidSchema).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the main pool opens (default 16, at least 2), for reads, the
    /// admin API and the delivery queue's other writes. Two pools of their own come on top,
    /// each connection opened when first used, because their session settings differ (see
    /// the crate's README): the group-commit writers' ([`writers`](Self::writers) plus
    /// [`completion_writers`](Self::completion_writers) connections) and the lease
    /// statement's (at most 2).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(2);
        self
    }

    /// How long an operation waits for a connection before it fails as unavailable
    /// (default 5 s). While the server is down, ingest answers 503 after at most this long.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// At most how many queued ingests (or attempt completions) one group commit writes
    /// (default 512, at least 1).
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    /// How many group commits of ingests may be in flight at once, each on its own connection
    /// (default 2, at least 1): while one batch waits for its commit the next one fills.
    /// About the database server's core count; more writers make smaller batches (with 256
    /// concurrent ingests on a 2-core machine, 2 writers beat 3, 4 and 8).
    pub fn writers(mut self, writers: usize) -> Self {
        self.writers = writers.max(1);
        self
    }

    /// How many group commits of attempt completions may be in flight at once, each on its
    /// own connection (default 1, at least 1). The delivery worker's finished attempts are
    /// queued to these writers, which record everything queued (up to
    /// [`max_batch`](Self::max_batch)) with ONE statement, so a worker with many attempts in
    /// flight pays one commit per batch rather than one per attempt. One writer makes the
    /// batch as large as what arrives during one commit: fewer WAL flushes, which on a busy
    /// server are what ingest commits and leases (the path from ingest to delivery) queue
    /// behind.
    pub fn completion_writers(mut self, writers: usize) -> Self {
        self.completion_writers = writers.max(1);
        self
    }

    /// How many ingests (and, in a queue of their own, attempt completions) may wait for a
    /// writer before callers wait to enqueue (default 8192).
    pub fn queue(mut self, queue: usize) -> Self {
        self.queue = queue.max(1);
        self
    }

    /// Whether [`PgStore::connect`](crate::PgStore::connect) brings the schema up to date
    /// (default `true`). With `false`, call [`PgStore::migrate`](crate::PgStore::migrate).
    pub fn migrate_on_open(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }
}

/// Whether `name` is a plain identifier that is safe to quote into DDL.
pub(crate) fn valid_schema(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && name.len() <= 63 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
