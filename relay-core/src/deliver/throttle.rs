//! Per-destination throttles: `max_per_second` as an in-process token bucket (the `governor`
//! crate), or a budget shared by every node when the relay's limiter keeps one (Redis).
//!
//! The bucket holds one token (a burst of 1), so admissions are at least `1/N` s apart and no
//! 1-second window admits more than N. A delivery over the rate goes back to the queue (not
//! attempted, not counted). Deferred deliveries are spread out at the destination's rate, and
//! the workers are woken when each comes due, so each is leased when a token frees up for it,
//! instead of at the next poll (which would admit one per poll and let the rate collapse).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};

/// One destination's bucket and deferral schedule.
#[derive(Debug)]
pub(crate) struct Throttle {
    per_second: u32,
    bucket: DefaultDirectRateLimiter,
    clock: DefaultClock,
    /// When the next deferred delivery should come back.
    next_return: Mutex<Option<Instant>>,
}

impl Throttle {
    fn new(per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        Self {
            per_second,
            bucket: DefaultDirectRateLimiter::direct(
                Quota::per_second(rate).allow_burst(NonZeroU32::MIN),
            ),
            clock: DefaultClock::default(),
            next_return: Mutex::new(None),
        }
    }

    /// Takes a token, or says how long until one is free.
    pub(crate) fn try_take(&self) -> Result<(), Duration> {
        self.bucket
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// How long a delivery that must wait at least `wait` is deferred: deferrals are queued
    /// one token interval apart, so they return at the destination's rate.
    pub(crate) fn deferral(&self, wait: Duration) -> Duration {
        let interval = Duration::from_secs(1) / self.per_second.max(1);
        let now = Instant::now();
        let mut next = self
            .next_return
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let earliest = now + wait;
        let at = match *next {
            Some(queued) if queued > earliest => queued,
            _ => earliest,
        };
        *next = Some(at + interval);
        at - now
    }
}

/// The throttles of a relay's destinations, by name.
#[derive(Debug, Default)]
pub(crate) struct Throttles {
    by_destination: Mutex<HashMap<String, Arc<Throttle>>>,
}

impl Throttles {
    /// `destination`'s throttle at `per_second` (a new one when the rate changed).
    pub(crate) fn get(&self, destination: &str, per_second: u32) -> Arc<Throttle> {
        let mut map = self
            .by_destination
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let entry = map
            .entry(destination.to_owned())
            .or_insert_with(|| Arc::new(Throttle::new(per_second)));
        if entry.per_second != per_second {
            *entry = Arc::new(Throttle::new(per_second));
        }
        Arc::clone(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_admits_one_then_paces() {
        let throttle = Throttle::new(50);
        assert!(throttle.try_take().is_ok());
        let wait = throttle.try_take().unwrap_err();
        assert!(
            wait > Duration::from_millis(10) && wait <= Duration::from_millis(20),
            "{wait:?}"
        );
    }

    #[test]
    fn deferrals_are_spread_at_the_rate() {
        let throttle = Throttle::new(10);
        let waits: Vec<Duration> = (0..5)
            .map(|_| throttle.deferral(Duration::from_millis(50)))
            .collect();
        for pair in waits.windows(2) {
            let gap = pair[1].saturating_sub(pair[0]);
            assert!(
                gap >= Duration::from_millis(95) && gap <= Duration::from_millis(100),
                "{waits:?}"
            );
        }
        assert!(waits[0] <= Duration::from_millis(50));
    }

    #[test]
    fn a_new_rate_replaces_the_bucket() {
        let throttles = Throttles::default();
        let a = throttles.get("d", 5);
        assert!(Arc::ptr_eq(&a, &throttles.get("d", 5)));
        assert!(!Arc::ptr_eq(&a, &throttles.get("d", 6)));
    }
}
