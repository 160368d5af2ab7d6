//! Whether Redis is worth asking: after a failed command, Redis is skipped for
//! [`REDIS_BACKOFF`] (the caller falls back to the durable store at once), then one caller
//! probes it again while the others go on skipping it. So a Redis that does not answer costs
//! one [`REDIS_TIMEOUT`](crate::REDIS_TIMEOUT) per back-off period, not one per command.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long Redis is skipped after a failed command.
pub const REDIS_BACKOFF: Duration = Duration::from_secs(1);

/// Shared by the clones of one cache. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Health {
    start: Instant,
    /// Milliseconds since `start` until which Redis is skipped; 0 while it answers.
    skip_until: Arc<AtomicU64>,
}

impl Health {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            skip_until: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now(&self) -> u64 {
        // Never 0, which means "healthy".
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    fn later(&self) -> u64 {
        self.now()
            .saturating_add(u64::try_from(REDIS_BACKOFF.as_millis()).unwrap_or(u64::MAX))
    }

    /// Whether to send a command now: yes while Redis answers; after a failure, no until the
    /// back-off ends, then yes for the one caller that claims the probe.
    pub(crate) fn try_redis(&self) -> bool {
        let until = self.skip_until.load(Ordering::Acquire);
        if until == 0 {
            return true;
        }
        if self.now() < until {
            return false;
        }
        self.skip_until
            .compare_exchange(until, self.later(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Records a command's outcome.
    pub(crate) fn record<T, E>(&self, result: &Result<T, E>) {
        let next = if result.is_ok() { 0 } else { self.later() };
        self.skip_until.store(next, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_skips_redis_then_one_caller_probes() {
        let health = Health::new();
        assert!(health.try_redis() && health.try_redis());
        health.record::<(), ()>(&Err(()));
        assert!(!health.try_redis(), "skipped during the back-off");
        // The back-off ends: exactly one caller gets the probe.
        health.skip_until.store(1, Ordering::Release);
        assert!(health.try_redis());
        assert!(!health.try_redis());
        health.record::<(), ()>(&Ok(()));
        assert!(health.try_redis() && health.try_redis());
    }
}
