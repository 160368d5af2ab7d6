//! Readiness: whether the relay can take events now. The store must answer, and its writes
//! must not be failing: a disk that filled up or turned read-only still answers reads, so the
//! outcome of the last writes is remembered (event commits, attempt records, and the queue-depth
//! point the delivery worker writes every few seconds, which also notices recovery).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::{EventIngest, StoreError};

/// Why the relay is not ready.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// The store does not answer.
    #[error("the store does not answer: {0}")]
    StoreUnreachable(#[source] StoreError),
    /// The store answers, but its last write failed (and none succeeded since).
    #[error("writes to the store are failing: {0}")]
    WritesFailing(String),
}

impl NotReady {
    /// A short machine-readable reason: `store_unreachable` or `writes_failing`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::StoreUnreachable(_) => "store_unreachable",
            Self::WritesFailing(_) => "writes_failing",
        }
    }
}

/// The outcome of the store's last write. A success while nothing is failing (every event
/// commit, normally) is one atomic load: no lock on the ingest path.
#[derive(Debug, Default)]
pub(crate) struct WriteHealth {
    is_failing: AtomicBool,
    failing: Mutex<Option<String>>,
}

impl WriteHealth {
    /// Remembers a write's outcome: a failure until the next success.
    pub(crate) fn record(&self, outcome: Result<(), &dyn std::fmt::Display>) {
        if outcome.is_ok() && !self.is_failing.load(Ordering::Acquire) {
            return;
        }
        let mut failing = self
            .failing
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match outcome {
            Ok(()) => {
                if failing.take().is_some() {
                    tracing::info!("writes to the store succeed again");
                    crate::observe::telemetry::set_store_writes_failing(false);
                }
                self.is_failing.store(false, Ordering::Release);
            }
            Err(error) => {
                if failing.is_none() {
                    crate::observe::telemetry::set_store_writes_failing(true);
                }
                *failing = Some(error.to_string());
                self.is_failing.store(true, Ordering::Release);
            }
        }
    }

    fn failing(&self) -> Option<String> {
        self.failing
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

impl WriteHealth {
    /// Whether events can be taken now: `store` answers a ping, and the last write to it did
    /// not fail. [`Relay::readiness`](crate::Relay::readiness) asks this.
    pub(crate) async fn check<S>(&self, store: &S) -> Result<(), NotReady>
    where
        S: EventIngest + ?Sized,
    {
        store.ping().await.map_err(NotReady::StoreUnreachable)?;
        match self.failing() {
            Some(error) => Err(NotReady::WritesFailing(error)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::Relay;

    #[tokio::test]
    async fn a_failed_write_is_not_ready_until_the_next_success() {
        let relay = Relay::builder().build().unwrap();
        assert!(relay.readiness().await.is_ok());
        relay
            .write_health()
            .record(Err(&"disk I/O error" as &dyn std::fmt::Display));
        let error = relay.readiness().await.unwrap_err();
        assert_eq!(error.code(), "writes_failing");
        assert!(error.to_string().contains("disk I/O error"), "{error}");
        relay.write_health().record(Ok(()));
        assert!(relay.readiness().await.is_ok());
    }
}
