//! The one writer thread: it owns the write connection and commits queued writes in groups.
//!
//! Callers send a [`Job`] and await their own oneshot. The thread takes every job queued (up to
//! `max_batch`) into ONE transaction, each job inside its own SAVEPOINT so that a job's own
//! failure (a lost lease, an unknown event) rolls back only that job. Only when COMMIT
//! succeeds are results handed out; when it fails, every job in the batch gets an error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use relay_core::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use crate::error::SqliteStoreError;
use crate::wal::WalBound;

/// One write, run inside the batch's transaction.
pub(crate) trait Job: Send {
    /// Runs the write; `true` when it succeeded (its savepoint is kept).
    fn run(&mut self, conn: &Connection) -> bool;
    /// Hands the result out: `commit` is the batch's commit outcome.
    fn finish(self: Box<Self>, commit: Result<(), &str>);
}

struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = work(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), &str>) {
        let result = match (commit, self.result) {
            (Ok(()), Some(result)) => result,
            (_, Some(Err(own))) => Err(own),
            (Err(reason), _) => Err(SqliteStoreError::CommitFailed(reason.to_owned()).into()),
            (Ok(()), None) => {
                Err(SqliteStoreError::CommitFailed("the write panicked; rolled back".into()).into())
            }
        };
        let _ = self.reply.send(result);
    }
}

/// A message to the writer thread.
pub(crate) enum Message {
    /// A write to commit.
    Job(Box<dyn Job>),
    /// Test hook: make every COMMIT fail (`true`) or work again (`false`).
    #[cfg(test)]
    FailCommits(bool),
}

/// The callers' side of the writer thread.
#[derive(Debug, Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Message>,
}

impl Writer {
    /// Starts the writer thread on `conn`. `commits` counts committed batches.
    pub(crate) fn spawn(
        conn: Connection,
        max_batch: usize,
        queue: usize,
        commits: Arc<AtomicU64>,
        wal: WalBound,
    ) -> Result<Self, SqliteStoreError> {
        let (tx, rx) = mpsc::channel(queue);
        std::thread::Builder::new()
            .name("relay-sqlite-writer".into())
            .spawn(move || run(conn, rx, max_batch, &commits, wal))?;
        Ok(Self { tx })
    }

    /// Runs `work` in the next group commit; answers once it is durable.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Pending {
            work: Some(work),
            result: None,
            reply,
        };
        self.send(Message::Job(Box::new(job))).await?;
        answer
            .await
            .map_err(|_| StoreError::from(SqliteStoreError::WriterStopped))?
    }

    pub(crate) async fn send(&self, message: Message) -> Result<(), StoreError> {
        self.tx
            .send(message)
            .await
            .map_err(|_| SqliteStoreError::WriterStopped.into())
    }
}

fn run(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Message>,
    max_batch: usize,
    commits: &AtomicU64,
    mut wal: WalBound,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Job(job) => batch.push(job),
                #[cfg(test)]
                Message::FailCommits(fail) => set_fail_commits(&mut conn, fail),
            }
            if batch.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if batch.is_empty() {
            continue;
        }
        match commit_batch(&mut conn, &mut batch) {
            Ok(()) => {
                commits.fetch_add(1, Ordering::Relaxed);
                for job in batch.drain(..) {
                    job.finish(Ok(()));
                }
                wal.after_commit(&conn);
            }
            Err(error) => {
                tracing::error!(%error, jobs = batch.len(), "sqlite group commit failed");
                let reason = error.to_string();
                for job in batch.drain(..) {
                    job.finish(Err(&reason));
                }
            }
        }
    }
}

fn commit_batch(conn: &mut Connection, batch: &mut [Box<dyn Job>]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for job in batch.iter_mut() {
        // A named savepoint per job, with cached statements (they are run very often).
        tx.prepare_cached("SAVEPOINT job")?.execute([])?;
        // A panicking job is rolled back alone and answered with an error (see `finish`).
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(&tx)));
        if !ran.unwrap_or(false) {
            tx.prepare_cached("ROLLBACK TO job")?.execute([])?;
        }
        tx.prepare_cached("RELEASE job")?.execute([])?;
    }
    tx.commit()
}

#[cfg(test)]
fn set_fail_commits(conn: &mut Connection, fail: bool) {
    let result = if fail {
        conn.commit_hook(Some(|| true))
    } else {
        conn.commit_hook(None::<fn() -> bool>)
    };
    if let Err(error) = result {
        tracing::error!(%error, "cannot set the commit hook");
    }
}
