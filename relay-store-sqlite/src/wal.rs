//! Keeping the WAL file bounded under sustained writes.
//!
//! SQLite starts a WAL over only when a write transaction begins while every frame has been
//! checkpointed. The background checkpointer (see `checkpoint.rs`) runs PASSIVE checkpoints
//! that never wait for the writer, so under a steady stream of commits it never catches up
//! and the WAL grows without bound (hundreds of MiB after a few seconds of load). The writer
//! therefore checks the WAL's size after each group commit, and past the limit runs a
//! `RESTART` checkpoint itself: most frames are already backfilled by the background thread,
//! so this is short, and the next commit starts the WAL from its beginning. With
//! `journal_size_limit` set to the same limit, the file is truncated to it on that reset.

use std::path::{Path, PathBuf};

use rusqlite::Connection;

/// After a checkpoint that could not finish (a reader held an old snapshot), how many group
/// commits to wait before trying again, so the writer does not stall on every commit.
/// After a blocked restart, the next attempt waits until the WAL has grown by this fraction
/// of the limit: soon enough to keep it near the limit, not on every commit.
const BUSY_BACKOFF_FRACTION: u64 = 8;

/// The writer's WAL size check.
#[derive(Debug)]
pub(crate) struct WalBound {
    wal: PathBuf,
    limit: u64,
    /// The size past which the next restart is tried (the limit, or more after a blocked one).
    retry_above: u64,
}

impl WalBound {
    /// A bound of `limit` bytes on the WAL of the database at `db`.
    pub(crate) fn new(db: &Path, limit: u64) -> Self {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            wal: PathBuf::from(wal),
            limit,
            retry_above: limit,
        }
    }

    /// Called by the writer after a commit, its callers already answered.
    pub(crate) fn after_commit(&mut self, conn: &Connection) {
        let size = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if size <= self.retry_above {
            return;
        }
        let backoff = size + (self.limit / BUSY_BACKOFF_FRACTION).max(1);
        match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        }) {
            Ok((0, log, done)) => {
                tracing::debug!(size, log, done, "wal restarted");
                self.retry_above = self.limit;
            }
            Ok((_, log, done)) => {
                tracing::debug!(size, log, done, "wal restart blocked by a reader");
                self.retry_above = backoff;
            }
            Err(error) => {
                tracing::warn!(%error, size, "wal restart checkpoint failed");
                self.retry_above = backoff;
            }
        }
    }
}
