//! The group-commit writers: tokio tasks that take every queued job (up to `max_batch`) and
//! commit it together. Several writers take turns at a queue, so one batch fills while
//! another waits for its commit. Ingests (see [`crate::insert`]) and attempt completions
//! (see [`crate::complete`]) each have a queue and writers of their own.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use deadpool_postgres::Pool;
use relay_core::store::{AttemptCompletion, InsertOutcome, NewEvent, StoreError};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::complete;
use crate::error::PgStoreError;
use crate::insert;

/// How a set of writers runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// How many writer tasks (commits in flight at once).
    pub(crate) writers: usize,
    /// At most how many jobs one commit takes.
    pub(crate) max_batch: usize,
    /// How many jobs may wait before callers wait to enqueue.
    pub(crate) queue: usize,
}

/// Starts `shape.writers` tasks on the current tokio runtime, each taking up to
/// `shape.max_batch` jobs from one queue and handing them to `commit`; returns the queue.
fn spawn<J, F, Fut>(pool: Pool, shape: Shape, commit: F) -> mpsc::Sender<J>
where
    J: Send + 'static,
    F: Fn(Pool, Vec<J>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(shape.queue);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..shape.writers {
        tokio::spawn(run(
            pool.clone(),
            Arc::clone(&rx),
            shape.max_batch,
            commit.clone(),
        ));
    }
    tx
}

async fn run<J, F, Fut>(pool: Pool, rx: Arc<Mutex<mpsc::Receiver<J>>>, max_batch: usize, commit: F)
where
    F: Fn(Pool, Vec<J>) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        let mut batch = Vec::with_capacity(max_batch);
        {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        commit(pool.clone(), batch).await;
    }
}

/// Queues `job` (built around the reply channel) and waits for its answer.
async fn submit<J, T>(
    tx: &mpsc::Sender<J>,
    job: impl FnOnce(oneshot::Sender<Result<T, StoreError>>) -> J,
) -> Result<T, StoreError> {
    let (reply, answer) = oneshot::channel();
    tx.send(job(reply))
        .await
        .map_err(|_| PgStoreError::WriterStopped)?;
    answer.await.map_err(|_| PgStoreError::WriterStopped)?
}

/// The callers' side of the writers. The writers stop when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Writers {
    ingests: mpsc::Sender<insert::Job>,
    completions: mpsc::Sender<complete::Job>,
}

impl Writers {
    /// Starts the ingest writers (`ingest`) and the completion writers (`completion`) on
    /// the current tokio runtime; each commit adds one to its counter.
    pub(crate) fn spawn(
        pool: Pool,
        ingest: Shape,
        completion: Shape,
        ingest_commits: Arc<AtomicU64>,
        completion_commits: Arc<AtomicU64>,
    ) -> Self {
        let ingests = spawn(pool.clone(), ingest, move |pool, jobs| {
            let commits = Arc::clone(&ingest_commits);
            async move { insert::commit(&pool, jobs, &commits).await }
        });
        let completions = spawn(pool, completion, move |pool, jobs| {
            let commits = Arc::clone(&completion_commits);
            async move { complete::commit(&pool, jobs, &commits).await }
        });
        Self {
            ingests,
            completions,
        }
    }

    /// Queues `new` for the next group commit; answers once it is committed.
    pub(crate) async fn insert(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        submit(&self.ingests, |reply| insert::Job { new, reply }).await
    }

    /// Queues `completion` for the next group commit of completions; answers once it is
    /// committed, or with [`StoreError::LeaseLost`] when its lease was no longer held.
    pub(crate) async fn complete(&self, completion: AttemptCompletion) -> Result<(), StoreError> {
        submit(&self.completions, |reply| complete::Job {
            completion,
            reply,
        })
        .await
    }
}
