//! Attempt completions, written many to one writer job.
//!
//! Every finished attempt records its outcome under its lease. As one writer job each, every
//! completion paid for a savepoint (which copies each page it touches into the statement
//! journal) and a message to the writer thread. Instead, completions wait in one queue; the
//! first to arrive at an empty queue sends a job that, when the writer runs it, takes every
//! completion queued by then and writes them one after the other under the job's single
//! savepoint. A completion whose lease was lost writes nothing (the fencing check comes
//! first), so it is answered [`StoreError::LeaseLost`] alone. Any other failure rolls the
//! whole job back and answers every completion in it with that error; each of those
//! deliveries is attempted again when its lease expires. Answers go out only once the
//! group commit holding the job is durable.

use std::sync::{Arc, Mutex};

use relay_core::store::{AttemptCompletion, StoreError};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::SqliteStoreError;
use crate::writer::{Job, Message, Writer};
use crate::writes;

type Reply = oneshot::Sender<Result<(), StoreError>>;

/// The completions waiting for the writer.
#[derive(Debug, Default)]
pub(crate) struct Completions {
    queue: Arc<Mutex<Vec<(AttemptCompletion, Reply)>>>,
}

impl Completions {
    /// Records `completion` in the next group commit; answers once it is durable.
    pub(crate) async fn complete(
        &self,
        writer: &Writer,
        completion: AttemptCompletion,
    ) -> Result<(), StoreError> {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            queue.push((completion, reply));
            queue.len() == 1
        };
        if first {
            let job = Batch {
                queue: Arc::clone(&self.queue),
                taken: Vec::new(),
                failed: None,
                finished: false,
            };
            if writer.send(Message::Job(Box::new(job))).await.is_err() {
                // The writer is gone: answer everything queued (this one included).
                let queued =
                    std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
                for (_, reply) in queued {
                    let _ = reply.send(Err(SqliteStoreError::WriterStopped.into()));
                }
            }
        }
        answer
            .await
            .map_err(|_| StoreError::from(SqliteStoreError::WriterStopped))?
    }
}

/// One writer job: the completions queued when it runs.
struct Batch {
    queue: Arc<Mutex<Vec<(AttemptCompletion, Reply)>>>,
    taken: Vec<(Reply, Result<(), StoreError>)>,
    /// The error that rolled the job back, if one did.
    failed: Option<String>,
    /// `run` went to its end (a panic in it rolled the job back).
    finished: bool,
}

impl Job for Batch {
    fn run(&mut self, conn: &Connection) -> bool {
        let queued = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        self.taken.reserve(queued.len());
        for (completion, reply) in queued {
            let result = if self.failed.is_some() {
                Ok(())
            } else {
                match writes::complete_attempt(conn, &completion) {
                    Err(StoreError::LeaseLost(id)) => Err(StoreError::LeaseLost(id)),
                    Err(error) => {
                        self.failed = Some(error.to_string());
                        Ok(())
                    }
                    Ok(()) => Ok(()),
                }
            };
            self.taken.push((reply, result));
        }
        self.finished = true;
        self.failed.is_none()
    }

    fn finish(self: Box<Self>, commit: Result<(), &str>) {
        let failure = match (&self.failed, commit) {
            _ if !self.finished => Some("the write panicked; rolled back".to_owned()),
            (Some(own), _) => Some(format!("rolled back: {own}")),
            (None, Err(reason)) => Some(reason.to_owned()),
            (None, Ok(())) => None,
        };
        for (reply, result) in self.taken {
            let answer = match &failure {
                Some(reason) => Err(SqliteStoreError::CommitFailed(reason.clone()).into()),
                None => result,
            };
            let _ = reply.send(answer);
        }
    }
}
