//! The group-commit writers: tokio tasks that take every queued ingest (up to `max_batch`)
//! and commit it together (see [`crate::insert`]). Several writers take turns at the queue,
//! so one batch fills while another waits for its commit.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use deadpool_postgres::Pool;
use relay_core::store::{InsertOutcome, NewEvent, StoreError};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::error::PgStoreError;
use crate::insert::{self, Job};

/// The callers' side of the writers. The writers stop when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct Writers {
    tx: mpsc::Sender<Job>,
}

impl Writers {
    /// Starts `writers` tasks on the current tokio runtime.
    pub(crate) fn spawn(
        pool: Pool,
        writers: usize,
        max_batch: usize,
        queue: usize,
        commits: Arc<AtomicU64>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(queue);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers {
            tokio::spawn(run(
                pool.clone(),
                Arc::clone(&rx),
                max_batch,
                Arc::clone(&commits),
            ));
        }
        Self { tx }
    }

    /// Queues `new` for the next group commit; answers once it is committed.
    pub(crate) async fn insert(&self, new: NewEvent) -> Result<InsertOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { new, reply })
            .await
            .map_err(|_| PgStoreError::WriterStopped)?;
        answer.await.map_err(|_| PgStoreError::WriterStopped)?
    }
}

async fn run(
    pool: Pool,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    max_batch: usize,
    commits: Arc<AtomicU64>,
) {
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
        insert::commit(&pool, batch, &commits).await;
    }
}
