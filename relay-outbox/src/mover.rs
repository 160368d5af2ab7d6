//! The mover: takes committed outbox rows oldest first, publishes each into the relay with
//! its fixed id, and deletes it only once the publish committed.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use relay_core::Relay;
use relay_core::model::ids::EventId;
use relay_core::publish::{PublishError, Published};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::OutboxError;
use crate::event::OutboxRow;

/// One outbox table on one database, as a mover uses it. A round is [`claim`], then
/// [`delete`] or [`dead_letter`] for each row, then [`finish`]; where the database has
/// transactions across the round (PostgreSQL), the claim holds its rows locked until then.
///
/// [`claim`]: OutboxBackend::claim
/// [`delete`]: OutboxBackend::delete
/// [`dead_letter`]: OutboxBackend::dead_letter
/// [`finish`]: OutboxBackend::finish
#[async_trait]
pub trait OutboxBackend: Send + 'static {
    /// Takes up to `limit` rows, oldest first (none held by another mover).
    async fn claim(&mut self, limit: usize) -> Result<Vec<OutboxRow>, OutboxError>;
    /// Deletes a row whose event was published.
    async fn delete(&mut self, id: &str) -> Result<(), OutboxError>;
    /// Moves a row the relay refuses for good to the dead-letter table, with `error`.
    async fn dead_letter(&mut self, id: &str, error: &str) -> Result<(), OutboxError>;
    /// Ends the round: commits its changes when `commit`, else undoes what it can.
    async fn finish(&mut self, commit: bool) -> Result<(), OutboxError>;
}

/// Called with each row's event id and outcome after its publish committed and before its
/// row is deleted. It runs on the mover's task: keep it short.
pub type MovedHook = Arc<dyn Fn(EventId, Published) + Send + Sync>;

/// How a mover works.
#[derive(Clone)]
pub struct MoverConfig {
    poll_interval: Duration,
    batch: usize,
    max_backoff: Duration,
    on_moved: Option<MovedHook>,
}

impl MoverConfig {
    /// How long an idle mover waits before looking again (default 200 ms); [`MoverHandle::wake`]
    /// cuts it short.
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every;
        self
    }

    /// How many rows one round takes (default 100).
    pub fn batch(mut self, rows: usize) -> Self {
        self.batch = rows.max(1);
        self
    }

    /// The longest wait after a failure (default 5 s; waits double from 50 ms).
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// Calls `hook` after each publish committed, before the row's delete.
    pub fn on_moved(mut self, hook: impl Fn(EventId, Published) + Send + Sync + 'static) -> Self {
        self.on_moved = Some(Arc::new(hook));
        self
    }
}

impl Default for MoverConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(200),
            batch: 100,
            max_backoff: Duration::from_secs(5),
            on_moved: None,
        }
    }
}

impl fmt::Debug for MoverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MoverConfig")
            .field("poll_interval", &self.poll_interval)
            .field("batch", &self.batch)
            .field("max_backoff", &self.max_backoff)
            .field("on_moved", &self.on_moved.is_some())
            .finish()
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    /// Rows taken.
    pub claimed: usize,
    /// Rows published as new events and deleted.
    pub accepted: usize,
    /// Rows whose event was already published (a repeated move or idempotency key), deleted.
    pub duplicates: usize,
    /// Rows refused for good and moved to the dead-letter table.
    pub dead_lettered: usize,
    /// Whether the relay could not commit (its store unavailable): the rest of the rows stay.
    pub relay_unavailable: bool,
}

/// Moves one outbox table's rows into a relay.
pub struct Mover<B> {
    relay: Relay,
    backend: B,
    config: MoverConfig,
}

impl<B: OutboxBackend> Mover<B> {
    /// A mover from `backend` into `relay` (the root relay: each row is published in its own
    /// tenant through [`Relay::scoped`]).
    pub fn new(relay: Relay, backend: B, config: MoverConfig) -> Self {
        Self {
            relay,
            backend,
            config,
        }
    }

    /// Runs one round: claims a batch, publishes each row, deletes the published and
    /// dead-letters the refused ones. A database error undoes the round's deletes (their
    /// rows are published again next time, as duplicates: nothing is sent twice).
    pub async fn run_round(&mut self) -> Result<Round, OutboxError> {
        let rows = match self.backend.claim(self.config.batch).await {
            Ok(rows) => rows,
            Err(error) => {
                // Whatever the claim began (a transaction) must not outlive it.
                if let Err(also) = self.backend.finish(false).await {
                    tracing::warn!(error = %also, "ending a failed outbox claim failed");
                }
                return Err(error);
            }
        };
        let mut round = Round {
            claimed: rows.len(),
            ..Round::default()
        };
        let result = self.move_rows(&rows, &mut round).await;
        let finished = self.backend.finish(result.is_ok()).await;
        result.and(finished).map(|()| round)
    }

    async fn move_rows(
        &mut self,
        rows: &[OutboxRow],
        round: &mut Round,
    ) -> Result<(), OutboxError> {
        for row in rows {
            match publish(&self.relay, row).await {
                Step::Moved(published) => {
                    if let Some(hook) = &self.config.on_moved {
                        hook(published.event_id(), published);
                    }
                    self.backend.delete(&row.id).await?;
                    match published {
                        Published::Accepted { .. } => round.accepted += 1,
                        _ => round.duplicates += 1,
                    }
                }
                Step::Refused(error) => {
                    tracing::error!(
                        id = %row.id, tenant = %row.tenant, event_type = %row.event_type, %error,
                        "outbox row refused for good; moved to relay_outbox_dead_letters"
                    );
                    self.backend.dead_letter(&row.id, &error).await?;
                    round.dead_lettered += 1;
                }
                Step::Unavailable(error) => {
                    tracing::warn!(id = %row.id, %error, "relay cannot commit; the row stays");
                    round.relay_unavailable = true;
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Runs rounds until `stop` is cancelled: at once while rows keep coming, else after
    /// the poll interval or a `wake`, backing off after failures.
    pub async fn run(mut self, wake: Arc<Notify>, stop: CancellationToken) {
        let mut backoff = Duration::from_millis(50);
        while !stop.is_cancelled() {
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let wait = match self.run_round().await {
                Ok(round) if !round.relay_unavailable => {
                    backoff = Duration::from_millis(50);
                    if round.claimed >= self.config.batch {
                        continue; // probably more waiting
                    }
                    self.config.poll_interval
                }
                Ok(_) => Self::back_off(&mut backoff, self.config.max_backoff),
                Err(error) => {
                    tracing::warn!(%error, "outbox round failed; backing off");
                    Self::back_off(&mut backoff, self.config.max_backoff)
                }
            };
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(wait) => {}
                () = stop.cancelled() => break,
            }
        }
    }

    /// The wait after a failure: `backoff`, which doubles for the next one (up to `max`).
    fn back_off(backoff: &mut Duration, max: Duration) -> Duration {
        let wait = *backoff;
        *backoff = (wait * 2).min(max);
        wait
    }

    /// Runs the mover on a task of the current Tokio runtime.
    pub fn spawn(self) -> MoverHandle {
        let (wake, stop) = (Arc::new(Notify::new()), CancellationToken::new());
        let task = tokio::spawn(self.run(Arc::clone(&wake), stop.clone()));
        MoverHandle { wake, stop, task }
    }
}

impl<B> fmt::Debug for Mover<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mover")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Publishes one row in its tenant (`relay` is the root relay).
async fn publish(relay: &Relay, row: &OutboxRow) -> Step {
    let (tenant, publish) = match row.to_publish() {
        Ok(parts) => parts,
        Err(error) => return Step::Refused(error),
    };
    let relay = match relay.scoped(&tenant).await {
        Ok(relay) => relay,
        Err(error) => return Step::Unavailable(error.to_string()),
    };
    match relay.publish(publish).await {
        Ok(published) => Step::Moved(published),
        Err(
            error @ (PublishError::InvalidEventType
            | PublishError::UnknownSource(_)
            | PublishError::UnknownDestination { .. }
            | PublishError::InvalidPayload(_)
            | PublishError::NoDestinations),
        ) => Step::Refused(error.to_string()),
        // Unavailable, and any refusal this crate does not know to be final: keep the row.
        Err(error) => Step::Unavailable(error.to_string()),
    }
}

/// What publishing one row came to.
enum Step {
    Moved(Published),
    Refused(String),
    Unavailable(String),
}

/// A running mover.
#[derive(Debug)]
pub struct MoverHandle {
    wake: Arc<Notify>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl MoverHandle {
    /// Looks at the table now (e.g. right after the app's commit) instead of at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops after the current round and waits for it.
    pub async fn shutdown(self) {
        self.stop.cancel();
        if let Err(error) = self.task.await {
            tracing::error!(%error, "outbox mover panicked");
        }
    }
}

#[cfg(test)]
#[path = "mover_tests.rs"]
mod tests;
