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
const BUSY_BACKOFF_COMMITS: u32 = 64;

/// The writer's WAL size check.
#[derive(Debug)]
pub(crate) struct WalBound {
    wal: PathBuf,
    limit: u64,
    skip: u32,
}

impl WalBound {
    /// A bound of `limit` bytes on the WAL of the database at `db`.
    pub(crate) fn new(db: &Path, limit: u64) -> Self {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        Self {
            wal: PathBuf::from(wal),
            limit,
            skip: 0,
        }
    }

    /// Called by the writer after a commit, its callers already answered.
    pub(crate) fn after_commit(&mut self, conn: &Connection) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        let size = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if size <= self.limit {
            return;
        }
        match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        }) {
            Ok((0, log, done)) => tracing::debug!(size, log, done, "wal restarted"),
            Ok((_, log, done)) => {
                tracing::debug!(size, log, done, "wal restart blocked by a reader");
                self.skip = BUSY_BACKOFF_COMMITS;
            }
            Err(error) => {
                tracing::warn!(%error, size, "wal restart checkpoint failed");
                self.skip = BUSY_BACKOFF_COMMITS;
            }
        }
    }
}
