//! The delivery worker's loop. It leases ahead: the next lease runs while the attempts of the
//! last one are in flight, so a slot that frees finds a delivery waiting instead of waiting
//! itself for a store round trip (and that round trip's commit).
//!
//! Some deliveries (fewer than [`WorkerConfig::gather_size`] plus the free slots) may wait,
//! leased, for a slot; they are attempted in the order they were leased, and handed back to
//! the queue (due at once) if the worker stops first.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{RECORDS_PER_SLOT, WorkerConfig, gather_permits};
use crate::model::time::Timestamp;
use crate::observe::Observer as _;
use crate::relay::Relay;
use crate::store::{LeasedDelivery, StoreError};

/// A lease under way, and how many deliveries it asked for.
type LeaseUnderWay = (JoinHandle<Result<Vec<LeasedDelivery>, StoreError>>, usize);

/// The first wait after a failed lease; it doubles up to [`MAX_STORE_BACKOFF`].
const STORE_BACKOFF: Duration = Duration::from_millis(50);
const MAX_STORE_BACKOFF: Duration = Duration::from_secs(5);

/// What the loop does next, besides dispatching what waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    /// Lease when fewer than a gather's worth wait.
    Lease,
    /// The last lease came back short: lease again when woken (new deliveries) or at `until`
    /// (the poll for due retries).
    Idle { until: Instant },
    /// The last lease failed: lease again at `until`.
    Backoff { until: Instant },
}

impl Relay {
    /// Runs a delivery worker until `shutdown` is cancelled, then waits for the attempts in
    /// flight to finish and be recorded. Several workers (in one process or many) may run
    /// against one store: leases keep them from attempting the same delivery at once.
    pub async fn run_worker(&self, config: WorkerConfig, shutdown: CancellationToken) {
        let gauge = tokio::spawn(
            self.clone()
                .refresh_queue_depth(config.queue_depth_interval, shutdown.child_token()),
        );
        let flusher = tokio::spawn(
            self.clone()
                .flush_circuits_every_second(shutdown.child_token()),
        );
        let concurrency = config.concurrency.max(1);
        let permits = Arc::new(Semaphore::new(concurrency));
        // Attempts in flight plus those whose records wait for a commit.
        let records = Arc::new(Semaphore::new(concurrency * RECORDS_PER_SLOT));
        let gather = config.gather_size();
        let mut waiting: VecDeque<LeasedDelivery> = VecDeque::new();
        let mut leasing: Option<LeaseUnderWay> = None;
        let mut next = Next::Lease;
        let mut backoff = STORE_BACKOFF;
        // Whether this node's previous life's leases were reclaimed (tried each lease until then).
        let mut reclaimed = false;
        // Armed when a lease starts, so a wake-up during the lease is not lost.
        let mut wake = Box::pin(self.wake().notified());
        while !shutdown.is_cancelled() {
            if leasing.is_none() && next == Next::Lease && waiting.len() < gather {
                if !reclaimed {
                    // This node's previous life's leases are due at once, not when they expire.
                    match self.reclaim_own_leases().await {
                        Ok(()) => reclaimed = true,
                        Err(error) => {
                            tracing::warn!(%error, "could not reclaim this node's leases; they come back when they expire")
                        }
                    }
                }
                let free = permits.available_permits();
                let asked = (free + gather)
                    .saturating_sub(waiting.len())
                    .clamp(1, config.batch.max(1));
                wake = Box::pin(self.wake().notified());
                wake.as_mut().enable();
                leasing = Some((self.spawn_lease(&config, asked), asked));
            }
            let idle_until = match next {
                Next::Idle { until } | Next::Backoff { until } => Some(until),
                Next::Lease => None,
            };
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                (done, asked) = lease_done(&mut leasing) => {
                    leasing = None;
                    match done {
                        Ok(Ok(leased)) => {
                            backoff = STORE_BACKOFF;
                            self.observers().on_lease_round(self.tenant_id(), &leased);
                            next = match leased.len() < asked {
                                true => Next::Idle { until: Instant::now() + config.poll_interval },
                                false => Next::Lease,
                            };
                            waiting.extend(leased);
                        }
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "leasing due deliveries failed; backing off");
                            next = Next::Backoff { until: Instant::now() + backoff };
                            backoff = (backoff * 2).min(MAX_STORE_BACKOFF);
                        }
                        Err(error) => {
                            tracing::error!(%error, "a lease task failed; backing off");
                            next = Next::Backoff { until: Instant::now() + backoff };
                        }
                    }
                }
                (slot, record) = free_slot(&permits, &records), if !waiting.is_empty() => {
                    if let Some(delivery) = waiting.pop_front() {
                        let relay = self.clone();
                        let per_destination = config.per_destination;
                        tokio::spawn(async move {
                            relay.attempt(delivery, per_destination, slot).await;
                            drop(record);
                        });
                    }
                }
                () = &mut wake, if matches!(next, Next::Idle { .. }) => next = Next::Lease,
                () = sleep_until(idle_until), if idle_until.is_some() => next = Next::Lease,
            }
        }
        // Leased but not attempted: back to the queue, due at once.
        if let Some((task, _)) = leasing
            && let Ok(Ok(leased)) = task.await
        {
            waiting.extend(leased);
        }
        let now = Timestamp::now();
        for delivery in waiting {
            self.defer(&delivery.lease, now).await;
        }
        // Every attempt finished and recorded.
        let _ = records
            .acquire_many(gather_permits(concurrency * RECORDS_PER_SLOT))
            .await;
        if let Err(error) = gauge.await {
            tracing::error!(%error, "queue depth gauge task panicked");
        }
        if let Err(error) = flusher.await {
            tracing::error!(%error, "circuit count flusher panicked");
        }
        // The counts of the last attempts go to the store before the worker ends.
        self.flush_circuit_counts(true).await;
    }

    /// Leases up to `asked` due deliveries in the background. Deliveries bound to an agent
    /// are leased only by a node holding its connection.
    fn spawn_lease(
        &self,
        config: &WorkerConfig,
        asked: usize,
    ) -> JoinHandle<Result<Vec<LeasedDelivery>, StoreError>> {
        let relay = self.clone();
        let lease_for = self.longest_timeout_of_all() + config.lease_margin;
        tokio::spawn(async move {
            let agents = relay.agent_hub().held();
            (relay.store())
                .lease_due_as(relay.node_id(), &agents, Timestamp::now(), asked, lease_for)
                .await
        })
    }
}

/// The result of the lease under way (never, when none is).
async fn lease_done(
    leasing: &mut Option<LeaseUnderWay>,
) -> (
    Result<Result<Vec<LeasedDelivery>, StoreError>, JoinError>,
    usize,
) {
    match leasing {
        Some((task, asked)) => (task.await, *asked),
        None => std::future::pending().await,
    }
}

/// A worker slot and a record's place, once both are free.
async fn free_slot(
    permits: &Arc<Semaphore>,
    records: &Arc<Semaphore>,
) -> (OwnedSemaphorePermit, OwnedSemaphorePermit) {
    // Neither semaphore is ever closed.
    let record = Arc::clone(records).acquire_owned().await;
    let slot = Arc::clone(permits).acquire_owned().await;
    match (slot, record) {
        (Ok(slot), Ok(record)) => (slot, record),
        _ => std::future::pending().await,
    }
}

/// Sleeps until `until` (never, when none).
async fn sleep_until(until: Option<Instant>) {
    match until {
        Some(until) => tokio::time::sleep_until(until).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;
    use http::HeaderMap;
    use tokio::sync::Notify;

    use crate::Relay;
    use crate::deliver::WorkerConfig;
    use crate::deliver::destination::{Destination, HandlerError, Message};
    use crate::ingest::signature::NoSignature;
    use crate::ingest::source::WebhookSource;
    use crate::ingest::{IngestOutcome, IngestRequest};
    use crate::model::time::Timestamp;
    use crate::route::EventRoute;

    #[tokio::test]
    async fn deliveries_leased_ahead_go_back_to_the_queue_when_the_worker_stops() {
        let (arrived, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (seen, gate) = (Arc::clone(&arrived), Arc::clone(&release));
        let relay = Relay::builder()
            .source(WebhookSource::new("app", NoSignature))
            .destination(Destination::handler("slow", move |_: Message| {
                let (seen, gate) = (Arc::clone(&seen), Arc::clone(&gate));
                async move {
                    seen.notify_one();
                    gate.notified().await;
                    Ok::<(), HandlerError>(())
                }
            }))
            .route(EventRoute::new("all").source("app").to(["slow"]))
            .build()
            .unwrap();
        for n in 0..10 {
            let body = Bytes::from(format!("{{\"n\":{n}}}"));
            let outcome = (relay.ingest(IngestRequest::new("app", HeaderMap::new(), body))).await;
            assert!(
                matches!(outcome, IngestOutcome::Accepted { .. }),
                "{outcome:?}"
            );
        }
        // Four slots held by the handler, the next deliveries leased ahead of them.
        let worker = relay.spawn_worker(WorkerConfig::default().concurrency(4).batch(8));
        arrived.notified().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stopping = tokio::spawn(worker.shutdown());
        tokio::time::sleep(Duration::from_millis(50)).await;
        // The attempts in flight finish (and are recorded) before the worker ends.
        while !stopping.is_finished() {
            release.notify_waiters();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        stopping.await.unwrap();

        // Nothing is stranded under a lease: every delivery not attempted is due at once.
        let depth = relay.store().queue_depth().await.unwrap();
        assert!(depth > 0 && depth < 10, "some attempted, some not: {depth}");
        let minute = Duration::from_secs(60);
        let due = (relay.store())
            .lease_due_as(None, &[], Timestamp::now(), 100, minute)
            .await
            .unwrap();
        assert_eq!(
            due.len() as u64,
            depth,
            "leased ahead but not attempted: handed back"
        );
    }
}
