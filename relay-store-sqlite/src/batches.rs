//! Writes that many callers make at once (attempt completions, ingested events), run many to one writer job.
//!
//! As one writer job each, every such write paid for a message to the writer thread and a
//! savepoint, which copies each page the write touches into the statement journal. Instead,
//! the writes of one kind wait in one queue; the first to arrive at an empty queue sends a job
//! that, when the writer runs it, takes every write queued by then and runs them one after the
//! other under the job's single savepoint. A write may answer with an error of its own that
//! wrote nothing (a lost lease: the fencing check comes first); any other failure rolls the
//! whole job back and answers every write in it with that error. Answers go out only once the
//! group commit holding the job is durable.

use std::sync::{Arc, Mutex, PoisonError};

use relay_core::store::StoreError;
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::SqliteStoreError;
use crate::writer::{Job, Message, Writer};

type Reply<O> = oneshot::Sender<Result<O, StoreError>>;
type Queue<I, O> = Arc<Mutex<Vec<(I, Reply<O>)>>>;
/// A write taken into a job: where its answer goes, and its result if it ran.
type Taken<O> = (Reply<O>, Option<Result<O, StoreError>>);

/// Runs one write of the batch.
pub(crate) type WriteFn<I, O> = fn(&Connection, &I) -> Result<O, StoreError>;

/// Whether an error is the write's own answer, having written nothing (the batch goes on).
pub(crate) type AloneFn = fn(&StoreError) -> bool;

/// The queued writes of one kind.
pub(crate) struct Batches<I, O> {
    queue: Queue<I, O>,
    write: WriteFn<I, O>,
    alone: AloneFn,
}

impl<I, O> std::fmt::Debug for Batches<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queued = self.queue.lock().map_or(0, |q| q.len());
        f.debug_struct("Batches").field("queued", &queued).finish()
    }
}

impl<I: Send + 'static, O: Send + 'static> Batches<I, O> {
    /// Writes run by `write`; errors for which `alone` is true answer only their own write.
    pub(crate) fn new(write: WriteFn<I, O>, alone: AloneFn) -> Self {
        Self {
            queue: Arc::default(),
            write,
            alone,
        }
    }

    /// Runs `item` in the next group commit; answers once it is durable.
    pub(crate) async fn submit(&self, writer: &Writer, item: I) -> Result<O, StoreError> {
        let (reply, answer) = oneshot::channel();
        let first = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.push((item, reply));
            queue.len() == 1
        };
        if first {
            let job = Batch {
                queue: Arc::clone(&self.queue),
                write: self.write,
                alone: self.alone,
                taken: Vec::new(),
                failed: None,
                finished: false,
            };
            if writer.send(Message::Job(Box::new(job))).await.is_err() {
                // The writer is gone: answer everything queued (this one included).
                let queued =
                    std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
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

/// One writer job: the writes queued when it runs.
struct Batch<I, O> {
    queue: Queue<I, O>,
    write: WriteFn<I, O>,
    alone: AloneFn,
    taken: Vec<Taken<O>>,
    /// The error that rolled the job back, if one did.
    failed: Option<String>,
    /// `run` went to its end (a panic in it rolled the job back).
    finished: bool,
}

impl<I: Send, O: Send> Job for Batch<I, O> {
    fn run(&mut self, conn: &Connection) -> bool {
        let queued =
            std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
        self.taken.reserve(queued.len());
        for (item, reply) in queued {
            let result = match self.failed {
                Some(_) => None,
                None => match (self.write)(conn, &item) {
                    Err(error) if !(self.alone)(&error) => {
                        self.failed = Some(error.to_string());
                        None
                    }
                    result => Some(result),
                },
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
            let answer = match (&failure, result) {
                (None, Some(result)) => result,
                (Some(reason), _) => Err(SqliteStoreError::CommitFailed(reason.clone()).into()),
                (None, None) => Err(SqliteStoreError::CommitFailed("not run".into()).into()),
            };
            let _ = reply.send(answer);
        }
    }
}
