//! Delivery: the worker that leases due deliveries and attempts them, one attempt as its
//! steps (gate, transform, sign, send, judge, record); and what it delivers with:
//! [`destination`]s, the SSRF [`guard`], [`circuit`] breakers, [`ordering`] lanes and the
//! retry [`policy`].

mod attempt;
pub mod circuit;
pub(crate) mod circuit_gate;
pub(crate) mod circuit_tally;
pub(crate) mod circuit_view;
pub mod destination;
mod gate;
pub mod guard;
pub(crate) mod http;
mod judge;
pub(crate) mod node_leases;
pub mod ordering;
pub(crate) mod outbound;
mod pause;
pub mod policy;
mod prepare;
mod record;
pub(crate) mod resume;
mod send;
mod sent;
pub(crate) mod throttle;
mod worker;

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use self::http::{
    HttpAnswer, HttpFailure, HttpTransport, RESPONSE_EXCERPT_BYTES, Timeouts, parse_retry_after,
};
pub use outbound::{
    OutboundContext, add_outbound_headers, attempt_span_id, ingest_span, sign_standard_webhook,
    signing_key, traceparent,
};

use crate::observe::Observer as _;
use crate::relay::Relay;

/// How a delivery worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerConfig {
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// At most this many deliveries leased per store round trip. The worker leases ahead
    /// while its attempts are in flight: a lease is under way whenever fewer than
    /// `concurrency` (at most `batch`) leased deliveries wait for a slot, so every store round
    /// trip brings the deliveries for the slots that freed meanwhile.
    pub batch: usize,
    /// How often an idle worker looks for due retries (new deliveries wake it at once).
    pub poll_interval: Duration,
    /// How much longer than the longest attempt timeout a lease lasts.
    pub lease_margin: Duration,
    /// How often the worker refreshes the `relay_queue_depth` gauge (one count in the store).
    pub queue_depth_interval: Duration,
    /// At most this many attempts in flight at once (per process) to a destination that sets
    /// no `max_in_flight` of its own, so a destination that hangs or trickles its answers
    /// cannot hold every one of the `concurrency` slots and slow the others. Deliveries over it
    /// wait in the queue without an attempt being counted.
    pub per_destination: usize,
}

/// The target of an attempt's log lines, whichever step writes them: the module that wrote
/// them all before the attempt was split into steps, so log filters and output stay as they were.
const ATTEMPT_LOG: &str = "relay_core::deliver::attempt";

/// Attempts finished and waiting for their record's group commit, at most, for each slot of
/// [`WorkerConfig::concurrency`]: a slot is let go once its attempt is judged, so the next
/// attempt does not wait for a commit, and the records waiting share the commits.
const RECORDS_PER_SLOT: usize = 4;

fn gather_permits(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl WorkerConfig {
    /// Attempts in flight at once.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// At most this many deliveries leased per store round trip.
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch;
        self
    }

    /// How often an idle worker looks for due retries.
    ///
    /// ```
    /// use std::time::Duration;
    /// use relay_core::deliver::WorkerConfig;
    ///
    /// let config = WorkerConfig::default().concurrency(16).poll_interval(Duration::from_millis(50));
    /// assert_eq!((config.concurrency, config.poll_interval), (16, Duration::from_millis(50)));
    /// ```
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// How much longer than the longest attempt timeout a lease lasts.
    pub fn lease_margin(mut self, margin: Duration) -> Self {
        self.lease_margin = margin;
        self
    }

    /// How often the worker refreshes the `relay_queue_depth` gauge.
    pub fn queue_depth_interval(mut self, every: Duration) -> Self {
        self.queue_depth_interval = every;
        self
    }

    /// The cap on attempts in flight to a destination without a `max_in_flight` of its own.
    pub fn per_destination(mut self, cap: usize) -> Self {
        self.per_destination = cap;
        self
    }

    /// The worker leases ahead while fewer than this many leased deliveries wait for a slot
    /// (`concurrency`, at most `batch`), asking for that many plus the free slots.
    ///
    /// Fewer (a quarter of `concurrency`, until 2026-12) left the slots short of deliveries
    /// while a backlog drained: with each lease waiting for a group commit, a lease of a
    /// quarter of the slots per round trip capped `relay-bench deliver` at 22k/s where this
    /// delivers 28-31k/s (`benches/results/2026-12-07-lease-ahead.md`).
    fn gather_size(&self) -> usize {
        self.concurrency.clamp(1, self.batch.max(1))
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: 128,
            batch: 64,
            poll_interval: Duration::from_millis(200),
            lease_margin: Duration::from_secs(30),
            queue_depth_interval: Duration::from_secs(5),
            per_destination: 32,
        }
    }
}

/// A running worker; [`WorkerHandle::shutdown`] stops it gracefully.
#[derive(Debug)]
pub struct WorkerHandle {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl WorkerHandle {
    /// Stops leasing, waits for attempts in flight to be recorded, and returns.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        if let Err(error) = self.task.await {
            tracing::error!(%error, "delivery worker panicked");
        }
    }
}

impl Relay {
    /// Spawns a delivery worker on the current Tokio runtime.
    pub fn spawn_worker(&self, config: WorkerConfig) -> WorkerHandle {
        let shutdown = CancellationToken::new();
        let relay = self.clone();
        let token = shutdown.clone();
        let task = tokio::spawn(async move { relay.run_worker(config, token).await });
        WorkerHandle { shutdown, task }
    }

    /// Flushes the circuit counts left behind (see [`circuit_tally`]) every second, until
    /// `stop`.
    pub(super) async fn flush_circuits_every_second(self, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(circuit_tally::PendingCounts::FLUSH_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.cancelled() => return,
            }
            self.flush_circuit_counts(false).await;
        }
    }

    /// Tells the observers the queue's depth (the `relay_queue_depth` gauge) and stores it
    /// as this minute's `queue_depth` point, and which bound agents are connected nowhere
    /// ([`Relay::watch_agents`]), at once, then every `interval`, until `stop`.
    pub(super) async fn refresh_queue_depth(self, interval: Duration, stop: CancellationToken) {
        let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = stop.cancelled() => return,
            }
            match self.store().queue_depth().await {
                Ok(depth) => {
                    self.observers().on_queue_depth(depth);
                    let recorded = self.metrics().record_queue_depth(depth).await;
                    self.write_health()
                        .record(recorded.as_ref().map_err(|e| e as _).copied());
                    if let Err(error) = recorded {
                        tracing::debug!(%error, "could not store the queue depth");
                    }
                }
                Err(error) => tracing::debug!(%error, "could not count the queue"),
            }
            self.watch_agents().await;
        }
    }
}
