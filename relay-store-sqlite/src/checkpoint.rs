//! WAL checkpoints off the commit path.
//!
//! The writer connection runs with `wal_autocheckpoint=0`, so a commit never pays for a
//! checkpoint. This thread runs `PRAGMA wal_checkpoint(PASSIVE)` every interval on its own
//! connection (it never waits for the writer), and `TRUNCATE` once the store has been idle
//! for a few intervals, so the WAL file does not stay large.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::Connection;

/// Idle intervals before a TRUNCATE checkpoint.
const IDLE_TICKS: u32 = 5;

/// Stops the checkpointer when dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    pub(crate) fn spawn(
        conn: Connection,
        interval: Duration,
        commits: Arc<AtomicU64>,
    ) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("relay-sqlite-checkpoint".into())
            .spawn(move || run(&conn, interval, &commits, &stopped))?;
        Ok(Self { _stop: stop })
    }
}

fn run(conn: &Connection, interval: Duration, commits: &AtomicU64, stopped: &mpsc::Receiver<()>) {
    let mut seen = commits.load(Ordering::Relaxed);
    let mut idle = 0u32;
    let mut truncated = true;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
        let now = commits.load(Ordering::Relaxed);
        if now != seen {
            seen = now;
            idle = 0;
            truncated = false;
            checkpoint(conn, "PASSIVE");
        } else if !truncated {
            idle += 1;
            if idle >= IDLE_TICKS {
                checkpoint(conn, "TRUNCATE");
                truncated = true;
            }
        }
    }
    checkpoint(conn, "PASSIVE");
}

fn checkpoint(conn: &Connection, mode: &str) {
    let result = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
        ))
    });
    match result {
        Ok((busy, log, done)) => tracing::trace!(mode, busy, log, done, "wal checkpoint"),
        Err(error) => tracing::warn!(%error, mode, "wal checkpoint failed"),
    }
}
