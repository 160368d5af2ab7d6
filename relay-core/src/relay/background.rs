//! The background work of a relay, started together and stopped together: the delivery
//! worker, the metric flush, the object sync and the pruner ([`Relay::spawn_background`]).

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::deliver::{WorkerConfig, WorkerHandle};
use crate::relay::Relay;
use crate::store::{Retention, spawn_pruner};

/// What [`Relay::spawn_background`] starts. By default everything, as the `relay` binary runs
/// it: the worker with [`WorkerConfig::default`], the metric flush and the object sync every
/// 5 s, and the pruner every 60 s with [`Retention::default`] (finished events 30 days, audit
/// entries 400 days, metric points 90 days). `None` leaves one out.
#[derive(Debug, Clone)]
pub struct Background {
    /// The delivery worker ([`Relay::spawn_worker`]).
    pub worker: Option<WorkerConfig>,
    /// How often per-minute metric points are stored
    /// ([`Metrics::spawn_flush`](crate::control::admin::Metrics::spawn_flush)).
    pub metrics_flush: Option<Duration>,
    /// How often objects created through the admin API are read from the store, so that
    /// every node sharing it follows changes made on any of them
    /// ([`Objects::spawn_object_sync`](crate::control::manage::Objects::spawn_object_sync)).
    pub object_sync: Option<Duration>,
    /// How long records are kept, and how often the store is pruned
    /// ([`spawn_pruner`]); without it the store grows for ever.
    pub prune: Option<(Retention, Duration)>,
}

impl Default for Background {
    fn default() -> Self {
        Self {
            worker: Some(WorkerConfig::default()),
            metrics_flush: Some(Duration::from_secs(5)),
            object_sync: Some(Duration::from_secs(5)),
            prune: Some((Retention::default(), Duration::from_secs(60))),
        }
    }
}

impl Background {
    /// The delivery worker with `config`.
    pub fn worker(mut self, config: WorkerConfig) -> Self {
        self.worker = Some(config);
        self
    }

    /// Keeps records as long as `retention` says, pruning every `every`.
    pub fn retention(mut self, retention: impl Into<Retention>, every: Duration) -> Self {
        self.prune = Some((retention.into(), every));
        self
    }

    /// Starts no delivery worker (a node that only ingests, or one whose worker runs
    /// elsewhere).
    pub fn without_worker(mut self) -> Self {
        self.worker = None;
        self
    }
}

/// The running background work of a relay; [`shutdown`](Self::shutdown) stops all of it.
/// Dropping the handle leaves the tasks running until the runtime ends.
#[derive(Debug)]
#[must_use = "dropping the handle leaves the background work running with no way to stop it"]
pub struct BackgroundHandle {
    relay: Relay,
    worker: Option<WorkerHandle>,
    tasks: Vec<JoinHandle<()>>,
    flushes: bool,
}

impl BackgroundHandle {
    /// Stops the worker (attempts in flight finish or go back to the queue), then the other
    /// tasks, and stores the last metric points.
    pub async fn shutdown(self) {
        if let Some(worker) = self.worker {
            worker.shutdown().await;
        }
        for task in &self.tasks {
            task.abort();
        }
        if self.flushes
            && let Err(error) = self.relay.metrics().flush().await
        {
            tracing::warn!(%error, "could not store the last metric points");
        }
    }
}

impl Relay {
    /// Starts the relay's background work as `background` says (by default all of it: the
    /// delivery worker, the metric flush, the object sync and the pruner) and returns one
    /// handle that stops it all. Call from within a tokio runtime.
    ///
    /// ```
    /// use std::time::Duration;
    /// use relay_core::{Background, Relay};
    /// use relay_core::store::Retention;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let relay = Relay::builder().build().unwrap();
    /// let days = |d: u64| Duration::from_secs(d * 86_400);
    /// let background = relay.spawn_background(
    ///     Background::default().retention(Retention::default().events(days(7)), Duration::from_secs(300)),
    /// );
    /// // … serve the app …
    /// background.shutdown().await;
    /// # }
    /// ```
    pub fn spawn_background(&self, background: Background) -> BackgroundHandle {
        let worker = background.worker.map(|config| self.spawn_worker(config));
        let mut tasks = Vec::new();
        if let Some(every) = background.metrics_flush {
            tasks.push(self.metrics().spawn_flush(every));
        }
        if let Some(every) = background.object_sync {
            tasks.push(self.objects().spawn_object_sync(every));
        }
        if let Some((retention, every)) = background.prune {
            let store = std::sync::Arc::downgrade(self.store());
            tasks.push(spawn_pruner(move || store.upgrade(), retention, every));
        }
        BackgroundHandle {
            relay: self.clone(),
            worker,
            tasks,
            flushes: background.metrics_flush.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use bytes::Bytes;
    use http::HeaderMap;

    use super::*;
    use crate::deliver::destination::{Destination, HandlerError, Message};
    use crate::ingest::signature::NoSignature;
    use crate::ingest::source::WebhookSource;
    use crate::ingest::{IngestOutcome, IngestRequest};
    use crate::route::EventRoute;

    #[tokio::test]
    async fn one_handle_starts_and_stops_the_worker_and_the_tasks() {
        let (sent, mut delivered) = tokio::sync::mpsc::unbounded_channel();
        let sent = Arc::new(sent);
        let relay = Relay::builder()
            .source(WebhookSource::new("forms", NoSignature))
            .destination(Destination::handler("app", move |m: Message| {
                let sent = Arc::clone(&sent);
                async move {
                    sent.send(m.event_type).unwrap();
                    Ok::<(), HandlerError>(())
                }
            }))
            .route(EventRoute::new("all").to(["app"]))
            .build()
            .unwrap();
        let background = relay.spawn_background(Background::default());
        assert_eq!(background.tasks.len(), 3, "flush, sync and pruner");
        let mut headers = HeaderMap::new();
        headers.insert("x-event-type", "form.sent".parse().unwrap());
        let request = IngestRequest::new("forms", headers, Bytes::from_static(b"{}"));
        let outcome = relay.ingest(request).await;
        assert!(
            matches!(outcome, IngestOutcome::Accepted { .. }),
            "{outcome:?}"
        );
        let event_type = tokio::time::timeout(Duration::from_secs(10), delivered.recv()).await;
        assert_eq!(event_type.unwrap().as_deref(), Some("form.sent"));
        let tasks: Vec<_> = background
            .tasks
            .iter()
            .map(JoinHandle::abort_handle)
            .collect();
        background.shutdown().await;
        tokio::task::yield_now().await;
        assert!(tasks.iter().all(tokio::task::AbortHandle::is_finished));
    }

    #[test]
    fn each_part_can_be_left_out() {
        let none = Background {
            metrics_flush: None,
            object_sync: None,
            prune: None,
            ..Background::default().without_worker()
        };
        assert!(none.worker.is_none() && none.prune.is_none());
        let week = Duration::from_secs(7 * 86_400);
        let kept = Background::default().retention(week, Duration::from_secs(1));
        assert_eq!(kept.prune.unwrap().0.events, week);
    }
}
